package tokensvc

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The service answers preflights itself and exposes what a browser client
// must read (WWW-Authenticate on a 401) to its allowed origins only.
func TestCORS(t *testing.T) {
	const app = "https://app.example.com"
	e := newEnv(t, envOption{cfg: func(c *Config) { c.CORSOrigins = []string{app} }})

	pre := httptest.NewRequest("OPTIONS", "/token", nil)
	pre.Header.Set("Origin", app)
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "content-type,dpop")
	rec := httptest.NewRecorder()
	e.svc.ServeHTTP(rec, pre)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != app ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "DPoP") {
		t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
	}

	pre.Header.Set("Origin", "https://evil.example.com")
	rec = httptest.NewRecorder()
	e.svc.ServeHTTP(rec, pre)
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight of another origin allowed: %v", rec.Header())
	}

	r := httptest.NewRequest("GET", "/sessions", nil)
	r.Header.Set("Origin", app)
	r.Header.Set("Authorization", "Bearer nope")
	resp := e.do(r)
	if resp.Code != http.StatusUnauthorized || resp.Header().Get("Access-Control-Allow-Origin") != app ||
		!strings.Contains(resp.Header().Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
		t.Fatalf("actual request: %d %v", resp.Code, resp.Header())
	}

	form := exchangeForm(e.idToken("u-cors", nil))
	r = httptest.NewRequest("POST", "/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://evil.example.com")
	resp = e.do(r)
	if resp.Code != http.StatusOK || resp.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin: %d %v", resp.Code, resp.Header())
	}
	e.tokenResponse(resp)

	// Without origins nothing changes: OPTIONS is not a method of /token.
	plain := newEnv(t)
	rec = httptest.NewRecorder()
	pre.Header.Set("Origin", app)
	plain.svc.ServeHTTP(rec, pre)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("no CORS configured: %d %v", rec.Code, rec.Header())
	}
}
