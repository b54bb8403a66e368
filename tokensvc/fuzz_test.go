package tokensvc

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func FuzzParseFormBody(f *testing.F) {
	f.Add("grant_type=refresh_token&refresh_token=abc")
	f.Add("a=1&a=2")
	f.Add("resource=x&resource=y")
	f.Add("%zz=1")
	f.Add("a=%ff")
	f.Add("a;b=c")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := parseFormBody(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != "invalid_request" {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for k, vs := range v {
			if len(vs) > 1 && !multiValued[k] {
				t.Fatalf("repeated %q accepted", k)
			}
		}
	})
}

func FuzzParseRefreshToken(f *testing.F) {
	tok, _ := newRefreshToken(newID(sidBytes))
	f.Add(tok)
	f.Add(strings.Repeat("A", refreshLength))
	f.Add("a.b")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		sid, hash, ok := parseRefreshToken(s)
		if !ok {
			return
		}
		if len(hash) != 32 || !validSessionID(sid) || !strings.HasPrefix(s, sid+".") {
			t.Fatalf("accepted %q as %q", s, sid)
		}
	})
}

func FuzzParseScope(f *testing.F) {
	f.Add("read write")
	f.Add("  read  ")
	f.Add("admin")
	f.Add("\x00")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseScope(s, []string{"read", "write"})
		if err != nil {
			if !errors.Is(err, ErrInvalidScope) {
				t.Fatalf("error %v", err)
			}
			return
		}
		for _, sc := range strings.Fields(got) {
			if sc != "read" && sc != "write" {
				t.Fatalf("granted %q", sc)
			}
		}
	})
}

// FuzzTokenEndpoint sends arbitrary requests through the whole handler: the
// answer is always a well-formed response, never a 500.
func FuzzTokenEndpoint(f *testing.F) {
	e := newEnv(f)
	f.Add("POST", "/token", "application/x-www-form-urlencoded", "grant_type=refresh_token&refresh_token=x", "")
	f.Add("POST", "/token", "application/x-www-form-urlencoded", "grant_type="+GrantTokenExchange+"&subject_token=a.b.c&subject_token_type="+TokenTypeIDToken, "")
	f.Add("POST", "/revoke", "application/x-www-form-urlencoded", "token=abc", "")
	f.Add("POST", "/introspect", "application/x-www-form-urlencoded", "token=abc", "Bearer a.b.c")
	f.Add("DELETE", "/sessions/%2F", "", "", "Bearer x")
	f.Add("GET", "/admin/users/%zz/sessions", "", "", "")
	f.Fuzz(func(t *testing.T, method, path, ct, body, auth string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") {
			return
		}
		r, err := http.NewRequest(method, "http://tokens.example.com"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", ct)
		r.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		e.svc.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS":
		return true
	}
	return false
}
