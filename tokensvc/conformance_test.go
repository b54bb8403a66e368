package tokensvc

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestBearerChallenge: RFC 6750 §3.1 — a request without credentials gets a
// challenge with no error code; a bad token gets error="invalid_token".
func TestBearerChallenge(t *testing.T) {
	e := newEnv(t)
	user := e.login("user-1", nil)
	cases := []struct {
		name, authorization, want string
		status                    int
	}{
		{"no Authorization header", "", `Bearer realm="shortfuse", DPoP algs="ES256 EdDSA RS256"`, 401},
		{"another scheme", "Basic dXNlcjpwYXNz", `Bearer realm="shortfuse", DPoP algs="ES256 EdDSA RS256"`, 401},
		{"scheme alone", "Bearer", `Bearer realm="shortfuse", error="invalid_token"`, 401},
		{"malformed token", "Bearer a b", `Bearer realm="shortfuse", error="invalid_token"`, 401},
		{"invalid token", "Bearer garbage", `Bearer realm="shortfuse", error="invalid_token"`, 401},
		{"refresh token as Bearer", "Bearer " + user.RefreshToken, `Bearer realm="shortfuse", error="invalid_token"`, 401},
		{"valid token", "bearer " + user.AccessToken, "", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/sessions", nil)
			if c.authorization != "" {
				r.Header.Set("Authorization", c.authorization)
			}
			resp := e.do(r)
			if resp.Code != c.status || resp.Header().Get("WWW-Authenticate") != c.want {
				t.Fatalf("%d WWW-Authenticate %q, want %d %q", resp.Code, resp.Header().Get("WWW-Authenticate"), c.status, c.want)
			}
			if c.status == 401 && resp.json["error"] != "invalid_token" {
				t.Fatalf("body %s", resp.Body)
			}
		})
	}
}

// TestHead: HEAD on every GET route answers GET's status and headers with
// no body; the Allow header of a 405 names HEAD with GET.
func TestHead(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *Config) { c.Issuer = testIssuer + "/auth" }})
	raw := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.svc.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	for _, path := range []string{"/.well-known/jwks.json", "/.well-known/oauth-authorization-server",
		"/.well-known/oauth-authorization-server/auth", "/auth/.well-known/jwks.json"} {
		get := e.do(httptest.NewRequest("GET", path, nil))
		head := raw("HEAD", path)
		if get.Code != 200 || head.Code != 200 || head.Body.Len() != 0 {
			t.Fatalf("%s: GET %d, HEAD %d with %d body bytes", path, get.Code, head.Code, head.Body.Len())
		}
		for _, h := range []string{"Content-Type", "Cache-Control"} {
			if head.Header().Get(h) != get.Header().Get(h) {
				t.Errorf("%s: HEAD %s %q, GET %q", path, h, head.Header().Get(h), get.Header().Get(h))
			}
		}
	}
	head := raw("HEAD", "/sessions")
	if head.Code != http.StatusUnauthorized || head.Body.Len() != 0 || head.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("HEAD /sessions: %d %v %q", head.Code, head.Header(), head.Body)
	}
	del := raw("PUT", "/.well-known/jwks.json")
	if del.Code != 405 || del.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("PUT: %d Allow %q", del.Code, del.Header().Get("Allow"))
	}
	if post := raw("HEAD", "/token"); post.Code != 405 || post.Header().Get("Allow") != "POST" {
		t.Fatalf("HEAD /token: %d Allow %q", post.Code, post.Header().Get("Allow"))
	}
}
