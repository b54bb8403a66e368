package jwtverify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// TokenVerifier verifies a compact JWS and returns its claims. *Verifier
// satisfies it, and so does what NewFromSpecs returns.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*Claims, error)
}

// KeysFor returns the key source of one issuer. It is called once per
// issuer.
type KeysFor func(tokenspec.Issuer) (KeySource, error)

// RemoteKeys is a KeysFor fetching each issuer's JWKSURL with o.
func RemoteKeys(o RemoteOptions) KeysFor {
	return func(is tokenspec.Issuer) (KeySource, error) {
		if err := tokenspec.CheckKeyURL(is.JWKSURL); err != nil {
			return nil, fmt.Errorf("JWK Set URL %q of issuer %q: %w", is.JWKSURL, is.URL, err)
		}
		return NewRemoteJWKS(is.JWKSURL, o), nil
	}
}

// NewFromSpecs returns a verifier accepting a token of any of specs, each
// enforced in full (tokenspec.Spec). Each issuer's tokens are verified with
// that issuer's keys alone: with several issuers the token's iss picks the
// key set (an issuer not configured is refused before any key is looked
// up), so a key of one issuer never verifies a token naming another. Specs
// sharing an issuer share its key source and one signature check; the
// claims then decide the kind, and a token fitting none is refused with the
// error of the kind its token_use names (or of the first).
//
// With one spec and one issuer the result is a plain *Verifier.
func NewFromSpecs(keys KeysFor, now func() time.Time, specs ...tokenspec.Spec) (TokenVerifier, error) {
	if len(specs) == 0 {
		return nil, errors.New("jwtverify: no token spec")
	}
	var (
		order   []string
		sources = map[string]KeySource{}
		jwksURL = map[string]string{}
		members = map[string][]*Verifier{}
	)
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("jwtverify: %s: %w", s.Kind, err)
		}
		for _, is := range s.Issuers {
			if u, ok := jwksURL[is.URL]; ok && u != is.JWKSURL {
				return nil, fmt.Errorf("jwtverify: issuer %q has two JWK Set URLs", is.URL)
			}
			if _, ok := sources[is.URL]; !ok {
				k, err := keys(is)
				if err != nil {
					return nil, fmt.Errorf("jwtverify: %w", err)
				}
				sources[is.URL], jwksURL[is.URL] = k, is.JWKSURL
				order = append(order, is.URL)
			}
			leeway := s.Leeway
			if leeway == 0 {
				leeway = tokenspec.DefaultLeeway
			}
			v, err := New(Config{
				Keys:            sources[is.URL],
				Issuer:          is.URL,
				Audiences:       s.Audiences,
				NoAudience:      s.NoAudience,
				ClientIDs:       s.ClientIDs,
				RequireUsername: s.RequireUsername,
				TokenUse:        s.TokenUse,
				Type:            s.Type,
				Algorithms:      s.Algorithms,
				Leeway:          leeway,
				MaxAge:          s.MaxAge,
				Now:             now,
			})
			if err != nil {
				return nil, err
			}
			if m := members[is.URL]; len(m) > 0 && (m[0].typ != v.typ || !slices.Equal(m[0].algs, v.algs)) {
				return nil, fmt.Errorf("jwtverify: kinds of issuer %q differ in typ or algorithms", is.URL)
			}
			members[is.URL] = append(members[is.URL], v)
		}
	}
	perIssuer := make(map[string]TokenVerifier, len(order))
	for _, iss := range order {
		if m := members[iss]; len(m) == 1 {
			perIssuer[iss] = m[0]
		} else {
			perIssuer[iss] = kinds(m)
		}
	}
	if len(order) == 1 {
		return perIssuer[order[0]], nil
	}
	return byIssuer(perIssuer), nil
}

// kinds verifies the signature once, with the first member's header rules
// and keys (all members share them), and accepts the token when one
// member's claim rules do.
type kinds []*Verifier

func (k kinds) Verify(ctx context.Context, token string) (*Claims, error) {
	c, seen, err := k[0].verifySigned(ctx, token)
	if err != nil {
		return nil, err
	}
	var first, named error
	for _, v := range k {
		err := v.check(c, seen)
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if named == nil && v.tokenUse != "" && v.tokenUse == c.TokenUse {
			named = err
		}
	}
	if named != nil {
		return nil, named
	}
	return nil, first
}

// byIssuer picks the verifier of the token's iss. The claim is read before
// the signature is checked only to choose the key set; the chosen verifier
// then checks the signature with that issuer's keys and iss against that
// issuer again.
type byIssuer map[string]TokenVerifier

func (b byIssuer) Verify(ctx context.Context, token string) (*Claims, error) {
	iss, err := peekIssuer(token)
	if err != nil {
		return nil, err
	}
	v, ok := b[iss]
	if !ok {
		return nil, fmt.Errorf("%w: not a configured issuer", ErrIssuer)
	}
	return v.Verify(ctx, token)
}

// peekIssuer reads iss from an unverified token.
func peekIssuer(token string) (string, error) {
	if len(token) > DefaultMaxTokenBytes {
		return "", ErrTooLarge
	}
	i, j, err := splitCompact(token)
	if err != nil {
		return "", err
	}
	payload, err := b64.DecodeString(token[i+1 : j])
	if err != nil {
		return "", fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	c, seen, err := parseClaims(string(payload))
	if err != nil {
		return "", err
	}
	if seen&hasIss == 0 || strings.TrimSpace(c.Issuer) == "" {
		return "", ErrIssuer
	}
	return c.Issuer, nil
}
