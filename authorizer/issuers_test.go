package authorizer

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// Direct mode with two pools, each publishing its own JWK Set: a token is
// verified with the keys of the issuer it names, and only those.
func TestDirectSeveralIssuers(t *testing.T) {
	a := jwttest.NewIssuer(t, "RS256")
	aJWKS := a.Serve(t)
	b := jwttest.NewIssuer(t, "RS256")
	bJWKS := b.Serve(t)
	b.ClientID = a.ClientID
	f := newFixtureFor(t, a, ModeDirect, nil, func(c *Config) {
		c.JWKS = nil
		c.TokenUses = []string{"id", "access"}
		c.CognitoIssuers = []tokenspec.Issuer{{URL: a.Issuer, JWKSURL: aJWKS}, {URL: b.Issuer, JWKSURL: bJWKS}}
	})
	for _, tc := range []struct {
		name string
		tok  string
		want int
	}{
		{"pool A ID token", a.CognitoIDToken(nil), http.StatusOK},
		{"pool B ID token", b.CognitoIDToken(nil), http.StatusOK},
		{"pool B access token", b.CognitoAccessToken(nil), http.StatusOK},
		{"pool B token signed with pool A's key", a.CognitoIDToken(map[string]any{"iss": b.Issuer}), http.StatusUnauthorized},
		{"pool A access token signed with pool B's key", b.CognitoAccessToken(map[string]any{"iss": a.Issuer}), http.StatusUnauthorized},
		{"unknown issuer", a.CognitoIDToken(map[string]any{"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"}), http.StatusUnauthorized},
		{"issuer with trailing slash", b.CognitoIDToken(map[string]any{"iss": b.Issuer + "/"}), http.StatusUnauthorized},
		{"no issuer", a.CognitoIDToken(map[string]any{"iss": nil}), http.StatusUnauthorized},
	} {
		for _, shape := range Shapes {
			if got := invoke(t, f.a, shape, bearer(tc.tok), "GET", "/hello"); got.status != tc.want {
				t.Errorf("%s, %s: status %d, want %d", tc.name, shape, got.status, tc.want)
			}
		}
	}
	// A token naming an issuer not configured fetches nothing.
	before := a.Fetches() + b.Fetches()
	invoke(t, f.a, ShapeRESTToken, bearer(a.CognitoIDToken(map[string]any{"iss": "https://unknown.example", "kid": "x"})), "GET", "/hello")
	if after := a.Fetches() + b.Fetches(); after != before {
		t.Errorf("an unknown issuer caused %d JWK Set fetches", after-before)
	}

	// An inline JWK Set never serves two issuers.
	cfg := Config{Mode: ModeDirect, Audiences: []string{a.ClientID}, MaxAge: time.Minute, JWKS: a.JWKS(), Routes: f.a.routes,
		CognitoIssuers: []tokenspec.Issuer{{URL: a.Issuer}, {URL: b.Issuer}}}
	if _, err := Open(context.Background(), cfg, Deps{Revocations: f.set}); err == nil || !strings.Contains(err.Error(), "one issuer") {
		t.Fatalf("inline JWK Set for two issuers: %v", err)
	}
}

func TestLoadConfigIssuers(t *testing.T) {
	const (
		orig  = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
		multi = "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_XyZ9"
	)
	load := func(iss, jwks string) (Config, error) {
		return LoadConfig(config.FromMap(map[string]string{
			"SHORTFUSE_AUTHORIZER_MODE": "direct", "SHORTFUSE_CLIENTS": "c1", "SHORTFUSE_ROUTES": `[{"route":"GET /x"}]`,
			"SHORTFUSE_TABLE": "t", "SHORTFUSE_COGNITO_ISSUER": iss, "SHORTFUSE_COGNITO_JWKS_URL": jwks,
		}))
	}
	c, err := load(orig+","+multi, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.CognitoIssuers) != 2 || c.CognitoIssuers[1] != (tokenspec.Issuer{URL: multi, JWKSURL: multi + "/.well-known/jwks.json"}) ||
		c.Issuer != orig || c.JWKSURL != orig+"/.well-known/jwks.json" {
		t.Fatalf("issuers: %+v", c.CognitoIssuers)
	}
	if c, err := load(orig+","+multi, "https://k.example/1,https://k.example/2"); err != nil || c.CognitoIssuers[1].JWKSURL != "https://k.example/2" {
		t.Fatalf("JWK Set URLs: %+v %v", c.CognitoIssuers, err)
	}
	for _, tc := range []struct{ iss, jwks, want string }{
		{"", "", "SHORTFUSE_COGNITO_ISSUER"},
		{"https://issuer-cognito-idp.eu-west-1.amazonaws.com/us-east-1_XyZ9", "", "SHORTFUSE_COGNITO_ISSUER"},
		{"https://issuer-cognito-idp.us-east-1.amazonaws.com/", "", "SHORTFUSE_COGNITO_ISSUER"},
		{"http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123", "", "SHORTFUSE_COGNITO_ISSUER"},
		{orig + "," + orig, "", "SHORTFUSE_COGNITO_ISSUER"},
		{orig + "," + multi, "https://k.example/1", "SHORTFUSE_COGNITO_JWKS_URL"},
		{orig, "http://k.example/1", "SHORTFUSE_COGNITO_JWKS_URL"},
	} {
		if _, err := load(tc.iss, tc.jwks); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: %v, want an error naming %s", tc.iss, tc.jwks, err, tc.want)
		}
	}
}
