package cors

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestCheckOrigin(t *testing.T) {
	for _, tc := range []struct {
		in  string
		err string // "" for valid
	}{
		{"https://app.example.com", ""},
		{"https://app.example.com:8443", ""},
		{"http://localhost:3000", ""},
		{"http://127.0.0.1:8095", ""},
		{"http://[::1]:8095", ""},
		{"*", "wildcards"},
		{"https://*.example.com", "wildcards"},
		{"null", "scheme://host"},
		{"app.example.com", "scheme://host"},
		{"https://app.example.com/", "no path"},
		{"https://app.example.com/x", "no path"},
		{"https://App.example.com", "lower case"},
		{"https://app.example.com:443", "default port"},
		{"http://localhost:80", "default port"},
		{"https://app.example.com:0", "bad port"},
		{"https://app.example.com:08443", "bad port"},
		{"http://app.example.com", "https"},
		{"ftp://app.example.com", "scheme must be https"},
		{"https://u@app.example.com", "no user"},
		{"https://app.example.com?x", "no user, query"},
		{"https://app.example.com#x", "no user, query"},
		{"https://bücher.example", "ASCII"},
	} {
		err := CheckOrigin(tc.in)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("CheckOrigin(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestParseOrigins(t *testing.T) {
	got, err := ParseOrigins(" https://a.example , http://localhost:3000,,https://a.example")
	if err != nil || strings.Join(got, " ") != "https://a.example http://localhost:3000" {
		t.Fatalf("got %q, %v", got, err)
	}
	if got, err := ParseOrigins(""); err != nil || got != nil {
		t.Fatalf("empty: %q, %v", got, err)
	}
	_, err = ParseOrigins("*,https://b.example/,https://ok.example")
	if err == nil || !strings.Contains(err.Error(), `"*"`) || !strings.Contains(err.Error(), `"https://b.example/"`) {
		t.Fatalf("every mistake should be named: %v", err)
	}
	var list []string
	for i := range MaxOrigins + 1 {
		list = append(list, "https://app.example:"+strconv.Itoa(i+1))
	}
	if _, err := ParseOrigins(strings.Join(list, ",")); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("too many: %v", err)
	}
}

func FuzzCheckOrigin(f *testing.F) {
	for _, s := range []string{"https://a.example", "http://localhost:1", "*", "https://a.example:443", "http://[::1]:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckOrigin(s) != nil {
			return
		}
		// Whatever passes is an exact origin: no wildcard, no path, and
		// the same string a browser would send.
		if strings.ContainsAny(s, "*/?#@") && !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
			t.Fatalf("accepted %q", s)
		}
		rest := s[strings.Index(s, "://")+3:]
		if strings.ContainsAny(rest, "*/?#@") || s != strings.ToLower(s) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestPolicy(t *testing.T) {
	p, err := New([]string{"https://app.example"})
	if err != nil {
		t.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	h := p.Wrap(next)
	do := func(method, origin string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/token", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	pre := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, dpop"}
	for _, tc := range []struct {
		name, method, origin string
		hdr                  map[string]string
		status               int
		acao                 string
	}{
		{"preflight allowed", "OPTIONS", "https://app.example", pre, 204, "https://app.example"},
		{"preflight other origin", "OPTIONS", "https://evil.example", pre, 204, ""},
		{"preflight bad method", "OPTIONS", "https://app.example", map[string]string{"Access-Control-Request-Method": "PUT"}, 204, ""},
		{"preflight bad header", "OPTIONS", "https://app.example", map[string]string{"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-custom"}, 204, ""},
		{"plain OPTIONS reaches the service", "OPTIONS", "", nil, 401, ""},
		{"actual allowed", "POST", "https://app.example", nil, 401, "https://app.example"},
		{"actual other origin", "POST", "https://evil.example", nil, 401, ""},
		{"no origin", "POST", "", nil, 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := do(tc.method, tc.origin, tc.hdr)
			if w.Code != tc.status || w.Header().Get("Access-Control-Allow-Origin") != tc.acao {
				t.Fatalf("status %d ACAO %q, want %d %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"), tc.status, tc.acao)
			}
			if !strings.Contains(strings.Join(w.Header().Values("Vary"), ","), "Origin") {
				t.Errorf("no Vary: Origin: %v", w.Header())
			}
			if w.Header().Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials must never be allowed")
			}
			if tc.acao == "" {
				return
			}
			if tc.method == "OPTIONS" {
				if got := w.Header().Get("Access-Control-Allow-Headers"); got != "Authorization, Content-Type, DPoP" {
					t.Errorf("allow headers %q", got)
				}
				if w.Header().Get("Access-Control-Max-Age") != "600" || w.Header().Get("Access-Control-Allow-Methods") != "GET, POST, DELETE" {
					t.Errorf("preflight headers %v", w.Header())
				}
			} else if got := w.Header().Get("Access-Control-Expose-Headers"); got != "WWW-Authenticate, DPoP-Nonce" {
				t.Errorf("expose headers %q", got)
			}
		})
	}
	// No origins: the handler is untouched.
	empty, _ := New(nil)
	w := httptest.NewRecorder()
	r := httptest.NewRequest("OPTIONS", "/token", nil)
	r.Header.Set("Origin", "https://app.example")
	r.Header.Set("Access-Control-Request-Method", "POST")
	empty.Wrap(next).ServeHTTP(w, r)
	if w.Code != 401 || w.Header().Get("Vary") != "" {
		t.Fatalf("disabled policy answered: %d %v", w.Code, w.Header())
	}
	if _, err := New([]string{"*"}); err == nil {
		t.Fatal("New accepted *")
	}
}
