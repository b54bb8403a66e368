package tokenspec

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Kind names a token kind.
type Kind string

// Token kinds.
const (
	KindServiceAccess Kind = "service-access" // the token service's at+jwt access token
	KindCognitoID     Kind = "cognito-id"     // Cognito ID token
	KindCognitoAccess Kind = "cognito-access" // Cognito access token
)

// Token uses of Cognito tokens (the token_use claim).
const (
	TokenUseID     = "id"
	TokenUseAccess = "access"
)

// TypeAccessToken is the typ header of the token service's access tokens
// (RFC 9068 §2.1).
const TypeAccessToken = "at+jwt"

// DefaultLeeway is the clock skew allowed on exp, nbf, iat and auth_time
// when a deployment sets none (SHORTFUSE_LEEWAY): the same for every
// verifier, so the token service and the authorizer judge a token's age
// alike.
const DefaultLeeway = 5 * time.Second

// Issuer is one issuer of a kind's tokens and where its keys are published.
type Issuer struct {
	URL     string // the iss claim, exactly
	JWKSURL string // its JWK Set; keys from here verify this issuer's tokens only
}

// Spec is what a token of one kind must satisfy. Every field is checked by
// shared/jwtverify; nothing is left to the caller.
type Spec struct {
	Kind    Kind
	Issuers []Issuer // iss must be one of them; its key set alone verifies the token

	// Type is the required typ header; "" means absent or "JWT".
	Type string
	// TokenUse is the required token_use claim; "" means it must be absent.
	TokenUse string
	// Audiences: aud must contain one of them (when not empty). NoAudience:
	// aud must be absent.
	Audiences  []string
	NoAudience bool
	// ClientIDs: client_id must be one of them (when not empty).
	ClientIDs []string
	// RequireUsername: username must name a user. A Cognito access token
	// from a client credentials grant names none: it belongs to no user's
	// login, so no sign-out or user revocation could end it.
	RequireUsername bool

	Algorithms []string
	// MaxAge, when positive, refuses tokens issued (iat) longer ago.
	MaxAge time.Duration
	Leeway time.Duration
}

// ServiceAccessToken is the spec of the token service's access tokens.
// audiences are the service's aud values (one, unless a deployment moves
// from one to another).
func ServiceAccessToken(issuer Issuer, audiences, clients []string, leeway time.Duration) Spec {
	return Spec{
		Kind:       KindServiceAccess,
		Issuers:    []Issuer{issuer},
		Type:       TypeAccessToken,
		Audiences:  slices.Clone(audiences),
		ClientIDs:  slices.Clone(clients),
		Algorithms: slices.Clone(Algorithms),
		Leeway:     leeway,
	}
}

// CognitoIDToken is the spec of Cognito ID tokens issued to clients by one
// of issuers; maxAge 0 accepts any age before exp.
func CognitoIDToken(issuers []Issuer, clients []string, maxAge, leeway time.Duration) Spec {
	return Spec{
		Kind:       KindCognitoID,
		Issuers:    slices.Clone(issuers),
		TokenUse:   TokenUseID,
		Audiences:  slices.Clone(clients),
		Algorithms: []string{RS256},
		MaxAge:     maxAge,
		Leeway:     leeway,
	}
}

// CognitoAccessToken is the spec of Cognito access tokens issued to
// clients by one of issuers. Cognito names the client in client_id and
// writes no aud; a token with aud is not one of them.
func CognitoAccessToken(issuers []Issuer, clients []string, maxAge, leeway time.Duration) Spec {
	return Spec{
		Kind:            KindCognitoAccess,
		Issuers:         slices.Clone(issuers),
		TokenUse:        TokenUseAccess,
		NoAudience:      true,
		ClientIDs:       slices.Clone(clients),
		RequireUsername: true,
		Algorithms:      []string{RS256},
		MaxAge:          maxAge,
		Leeway:          leeway,
	}
}

// Validate reports a spec that could not be enforced as written: no
// issuer, an issuer without keys or fetched over a network in clear text,
// an unknown algorithm, no client restriction on a Cognito kind.
func (s Spec) Validate() error {
	var errs []error
	if len(s.Issuers) == 0 {
		errs = append(errs, errors.New("no issuer"))
	}
	seen := map[string]bool{}
	for _, is := range s.Issuers {
		switch {
		case is.URL == "":
			errs = append(errs, errors.New("an issuer is empty"))
		case seen[is.URL]:
			errs = append(errs, fmt.Errorf("issuer %q listed twice", is.URL))
		}
		seen[is.URL] = true
		if is.JWKSURL != "" {
			if err := CheckKeyURL(is.JWKSURL); err != nil {
				errs = append(errs, fmt.Errorf("JWK Set URL %q: %w", is.JWKSURL, err))
			}
		}
	}
	if len(s.Algorithms) == 0 {
		errs = append(errs, errors.New("no algorithm"))
	}
	for _, a := range s.Algorithms {
		if !Supported(a) {
			errs = append(errs, fmt.Errorf("algorithm %q not supported", a))
		}
	}
	if s.NoAudience && len(s.Audiences) > 0 {
		errs = append(errs, errors.New("audiences listed for a kind without aud"))
	}
	if s.Kind == KindServiceAccess && len(s.Audiences) == 0 {
		errs = append(errs, fmt.Errorf("%s: no audience", s.Kind))
	}
	if s.Kind == KindCognitoID && len(s.Audiences) == 0 || s.Kind == KindCognitoAccess && len(s.ClientIDs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no client", s.Kind))
	}
	if s.MaxAge < 0 || s.Leeway < 0 {
		errs = append(errs, errors.New("negative MaxAge or Leeway"))
	}
	return errors.Join(errs...)
}
