package authorizer

import (
	"net/http"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/store"
)

// Direct mode accepts the Cognito token kinds SHORTFUSE_DIRECT_TOKEN_USE
// names, each under its own rules, and never one for the other.
func TestDirectTokenUse(t *testing.T) {
	iss := jwttest.NewIssuer(t, "RS256")
	id := func(o map[string]any) string { return bearer(iss.CognitoIDToken(o)) }
	access := func(o map[string]any) string { return bearer(iss.CognitoAccessToken(o)) }
	old := time.Now().Add(-2 * time.Minute).Unix()
	type want struct{ id, access, both int }
	ok, no := http.StatusOK, http.StatusUnauthorized
	cases := []struct {
		name string
		auth func(f *fixture) string
		want want
	}{
		{"ID token", func(*fixture) string { return id(nil) }, want{ok, no, ok}},
		{"access token", func(*fixture) string { return access(nil) }, want{no, ok, ok}},
		{"access token with a scope route", func(*fixture) string {
			return access(map[string]any{"scope": "orders:write"})
		}, want{no, ok, ok}},
		{"access token with aud", func(*fixture) string { return access(map[string]any{"aud": iss.ClientID}) }, want{no, no, no}},
		{"access token of another client", func(*fixture) string { return access(map[string]any{"client_id": "other"}) }, want{no, no, no}},
		{"access token without client_id", func(*fixture) string { return access(map[string]any{"client_id": nil}) }, want{no, no, no}},
		{"access token of a client credentials grant", func(*fixture) string {
			// Cognito's machine-to-machine token: sub is the client, no user.
			return access(map[string]any{"sub": iss.ClientID, "username": nil, "scope": "orders:write"})
		}, want{no, no, no}},
		{"access token with an empty username", func(*fixture) string { return access(map[string]any{"username": ""}) }, want{no, no, no}},
		{"access token too old", func(*fixture) string { return access(map[string]any{"iat": old}) }, want{no, no, no}},
		{"access token of another issuer", func(*fixture) string {
			return access(map[string]any{"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other"})
		}, want{no, no, no}},
		{"access token typ at+jwt", func(*fixture) string {
			return bearer(iss.Sign(map[string]any{"alg": "RS256", "kid": iss.KID, "typ": "at+jwt"}, map[string]any{
				"iss": iss.Issuer, "sub": "user-1", "client_id": iss.ClientID, "token_use": "access",
				"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
			}))
		}, want{no, no, no}},
		{"ID token claiming token_use access", func(*fixture) string { return id(map[string]any{"token_use": "access"}) }, want{no, no, no}},
		{"access token claiming token_use id", func(*fixture) string { return access(map[string]any{"token_use": "id"}) }, want{no, no, no}},
		{"refresh token_use", func(*fixture) string { return access(map[string]any{"token_use": "refresh"}) }, want{no, no, no}},
		{"the token service's at+jwt", func(*fixture) string {
			return bearer(iss.AccessToken(map[string]any{"aud": iss.ClientID}))
		}, want{no, no, no}},
		{"access token of a revoked login", func(f *fixture) string {
			f.revoke(t, store.RevokeJTI, "origin-7", time.Now())
			return access(map[string]any{"origin_jti": "origin-7"})
		}, want{no, no, no}},
		{"access token of a revoked user", func(f *fixture) string {
			f.revoke(t, store.RevokeUser, "user-7", time.Now())
			return access(map[string]any{"sub": "user-7", "auth_time": time.Now().Add(-time.Minute).Unix()})
		}, want{no, no, no}},
	}
	for _, uses := range []struct {
		name string
		set  []string
		pick func(want) int
	}{
		{"id", nil, func(w want) int { return w.id }},
		{"access", []string{"access"}, func(w want) int { return w.access }},
		{"id,access", []string{"id", "access"}, func(w want) int { return w.both }},
	} {
		for _, c := range cases {
			t.Run(uses.name+"/"+c.name, func(t *testing.T) {
				f := newFixtureFor(t, iss, ModeDirect, iss.JWKS(), func(cfg *Config) { cfg.TokenUses = uses.set })
				path, method := "/hello", "GET"
				if c.name == "access token with a scope route" {
					path, method = "/orders", "POST"
				}
				auth := c.auth(f)
				for _, shape := range Shapes {
					for i := range 2 {
						got := invoke(t, f.a, shape, auth, method, path)
						if want := uses.pick(c.want); got.status != want {
							t.Fatalf("%s (call %d): status %d, want %d; %s", shape, i+1, got.status, want, got.raw)
						}
						if got.status == http.StatusOK && c.name == "access token" && got.context["username"] != "alice" {
							t.Fatalf("%s: context %v", shape, got.context)
						}
					}
				}
			})
		}
	}
}

func TestLoadConfigDirectTokenUse(t *testing.T) {
	base := map[string]string{
		"SHORTFUSE_AUTHORIZER_MODE": "direct", "SHORTFUSE_COGNITO_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
		"SHORTFUSE_CLIENTS": "c1", "SHORTFUSE_ROUTES": `[{"route":"GET /x"}]`, "SHORTFUSE_TABLE": "t",
	}
	for _, tc := range []struct {
		in   string
		want []string // nil: refused
	}{
		{"", []string{"id"}},
		{"id", []string{"id"}},
		{"access", []string{"access"}},
		{"id,access", []string{"id", "access"}},
		{" access , id ", []string{"access", "id"}},
		{"refresh", nil},
		{"id,id", nil},
		{"ID", nil},
		{"id;access", nil},
	} {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		env["SHORTFUSE_DIRECT_TOKEN_USE"] = tc.in
		c, err := LoadConfig(config.FromMap(env))
		if tc.want == nil {
			if err == nil {
				t.Errorf("%q accepted: %v", tc.in, c.TokenUses)
			}
			continue
		}
		if err != nil || len(c.TokenUses) != len(tc.want) {
			t.Errorf("%q: %v %v", tc.in, c.TokenUses, err)
			continue
		}
		for i := range tc.want {
			if c.TokenUses[i] != tc.want[i] {
				t.Errorf("%q: %v", tc.in, c.TokenUses)
			}
		}
	}
}
