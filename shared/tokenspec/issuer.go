package tokenspec

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/shortfuse/shortfuse/shared/config"
)

// MaxIssuers bounds SHORTFUSE_COGNITO_ISSUER: each issuer's key set is
// fetched at start and kept, and a deployment trusts a handful of pools.
const MaxIssuers = 10

// Cognito publishes a user pool's tokens under one of two issuers
// (IssuerConfigurationType in the Cognito API):
//
//	https://cognito-idp.<region>.amazonaws.com/<poolId>         ORIGINAL
//	https://issuer-cognito-idp.<region>.amazonaws.com/<poolId>  UPDATED (multi-Region replication)
//
// In both, region is the pool's primary Region, which is also the prefix of
// its id ("eu-west-1_AbC123"): a replica in another Region issues tokens
// with the primary's issuer. China Regions use amazonaws.com.cn.
var (
	cognitoHost = regexp.MustCompile(`^(cognito-idp|issuer-cognito-idp)\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.amazonaws\.com(\.cn)?$`)
	poolID      = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-[0-9]+)_[0-9a-zA-Z]+$`)
)

// CognitoIssuerURL is the ORIGINAL issuer of pool poolID in region.
func CognitoIssuerURL(region, poolID string) string {
	return "https://cognito-idp." + region + ".amazonaws.com/" + poolID
}

// JWKSURLOf is where an issuer publishes its JWK Set, Cognito's way.
func JWKSURLOf(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/jwks.json"
}

// ParseIssuers reads a comma-separated list of issuers and, optionally, the
// JWK Set URL of each (same order and count; empty derives every one as
// issuer + /.well-known/jwks.json). Each issuer is compared with a token's
// iss exactly, after a trailing slash is dropped here; keys are fetched from
// its own URL and verify its tokens only. Every URL must be https (http on a
// loopback host only). An issuer on a Cognito host must be one of Cognito's
// two forms, with the Region in the host equal to the pool id's; other hosts
// (an emulator, another OpenID provider) are taken as given.
func ParseIssuers(issuers, jwksURLs string) ([]Issuer, error) {
	var errs []error
	list := splitList(issuers)
	keys := splitList(jwksURLs)
	switch {
	case len(list) == 0:
		return nil, errors.New("no issuer")
	case len(list) > MaxIssuers:
		return nil, fmt.Errorf("%d issuers, at most %d", len(list), MaxIssuers)
	case len(keys) > 0 && len(keys) != len(list):
		return nil, fmt.Errorf("%d JWK Set URLs for %d issuers: give one per issuer, in order, or none", len(keys), len(list))
	}
	out := make([]Issuer, 0, len(list))
	seen := map[string]bool{}
	for i, raw := range list {
		iss := strings.TrimSuffix(raw, "/")
		if err := checkIssuer(iss); err != nil {
			errs = append(errs, fmt.Errorf("issuer %q: %w", raw, err))
			continue
		}
		if seen[iss] {
			errs = append(errs, fmt.Errorf("issuer %q listed twice", raw))
			continue
		}
		seen[iss] = true
		is := Issuer{URL: iss, JWKSURL: JWKSURLOf(iss)}
		if len(keys) > 0 {
			is.JWKSURL = keys[i]
			if err := CheckKeyURL(is.JWKSURL); err != nil {
				errs = append(errs, fmt.Errorf("JWK Set URL %q: %w", is.JWKSURL, err))
				continue
			}
		}
		out = append(out, is)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// checkIssuer applies the https rule and, on a Cognito host, Cognito's
// issuer forms.
func checkIssuer(iss string) error {
	if err := CheckKeyURL(iss); err != nil {
		return err
	}
	u, err := url.Parse(iss)
	if err != nil {
		return err
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(iss, "?#") {
		return errors.New("must not have a query or fragment")
	}
	host := strings.ToLower(u.Hostname())
	if !strings.Contains(host, "cognito-idp") {
		return nil
	}
	m := cognitoHost.FindStringSubmatch(host)
	if m == nil || u.Port() != "" || !strings.EqualFold(u.Scheme, "https") || u.Host != host {
		return errors.New("not a Cognito issuer: want https://cognito-idp.<region>.amazonaws.com/<pool id> or https://issuer-cognito-idp.<region>.amazonaws.com/<pool id>")
	}
	// As written, not decoded: iss is compared with the text.
	pool := strings.TrimPrefix(u.EscapedPath(), "/")
	p := poolID.FindStringSubmatch(pool)
	switch {
	case p == nil:
		return fmt.Errorf("%q is not a user pool id (<region>_<id>)", pool)
	case p[1] != m[2]:
		return fmt.Errorf("pool %s is in %s, not %s: the issuer names the pool's primary Region", pool, p[1], m[2])
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// CognitoIssuers reads SHORTFUSE_COGNITO_ISSUER (one issuer or a comma
// list) and SHORTFUSE_COGNITO_JWKS_URL (none, or one per issuer in order)
// with ParseIssuers, reporting each problem against its variable. It is the
// one reader of the pair, for the token service and the authorizer alike.
func CognitoIssuers(env *config.Env) []Issuer {
	const issVar, jwksVar = "SHORTFUSE_COGNITO_ISSUER", "SHORTFUSE_COGNITO_JWKS_URL"
	iss, jwks := env.String(issVar, ""), env.String(jwksVar, "")
	if iss == "" {
		env.Fail(issVar, "required")
		return nil
	}
	list, err := ParseIssuers(iss, "")
	if err != nil {
		env.Fail(issVar, "%v", err)
		return nil
	}
	if jwks == "" {
		return list
	}
	list, err = ParseIssuers(iss, jwks)
	if err != nil {
		env.Fail(jwksVar, "%v", err)
		return nil
	}
	return list
}
