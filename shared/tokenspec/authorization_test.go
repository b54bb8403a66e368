package tokenspec

import (
	"strings"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	long := strings.Repeat("a", MaxCredentialBytes)
	for _, tc := range []struct {
		in     string
		scheme string // "" when refused
		tok    string
	}{
		{"Bearer abc.def.ghi", SchemeBearer, "abc.def.ghi"},
		{"bearer abc", SchemeBearer, "abc"},
		{"BEARER  abc ", SchemeBearer, "abc"}, // several SP; OWS around the value
		{" \tBearer abc\t", SchemeBearer, "abc"},
		{"DPoP abc", SchemeDPoP, "abc"},
		{"dpop  abc", SchemeDPoP, "abc"},
		{"Bearer abc.def-_~+/=", SchemeBearer, "abc.def-_~+/="},
		{"Bearer abc==", SchemeBearer, "abc=="},
		{"Bearer " + long, SchemeBearer, long},

		{"Bearer " + long + "a", "", ""}, // too long
		{"Bearer =abc", "", ""},          // '=' only at the end
		{"Bearer a=b", "", ""},
		{"Bearer ===", "", ""},
		{"Bearer\tabc", "", ""}, // 1*SP, not a tab
		{"Bearer", "", ""},
		{"Bearer ", "", ""},
		{"Bearerabc", "", ""},
		{"Basic abc", "", ""},
		{"Token abc", "", ""},
		{"abc", "", ""},
		{"", "", ""},
		{"Bearer a b", "", ""},
		{"Bearer a,Bearer b", "", ""}, // API Gateway's join of two headers
		{"Bearer a, Bearer b", "", ""},
		{"DPoP abc, DPoP def", "", ""},
		{"Bearer a\x00", "", ""},
		{"Bearer a\nb", "", ""},
		{"Bearer \"abc\"", "", ""},
		{"Bearer ab%63", "", ""},
		{"Bearer é", "", ""},
	} {
		c, ok := ParseAuthorization(tc.in)
		if ok != (tc.scheme != "") || c.Scheme != tc.scheme || c.Token != tc.tok {
			t.Errorf("ParseAuthorization(%.40q) = %+.40v, %v; want %q %.40q", tc.in, c, ok, tc.scheme, tc.tok)
		}
		tok, ok := BearerToken(tc.in)
		if want := tc.scheme == SchemeBearer; ok != want || (ok && tok != tc.tok) {
			t.Errorf("BearerToken(%.40q) = %.40q, %v", tc.in, tok, ok)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer a.b.c", "bearer  x", "DPoP y==", "Basic y", "Bearer a, Bearer b", "Bearer\t\tz ", "", "Bearer =", "dpop a=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		c, ok := ParseAuthorization(h)
		if !ok {
			if c != (Credential{}) {
				t.Fatalf("refused %q but returned %+v", h, c)
			}
			return
		}
		if c.Scheme != SchemeBearer && c.Scheme != SchemeDPoP {
			t.Fatalf("%q: scheme %q", h, c.Scheme)
		}
		if !validB64Token(c.Token) || strings.ContainsAny(c.Token, " \t\r\n,\"\x00") {
			t.Fatalf("%q: token %q", h, c.Token)
		}
		// The token is the value's tail: nothing is rewritten.
		if !strings.HasSuffix(strings.TrimRight(h, " \t"), c.Token) {
			t.Fatalf("%q: token %q is not its tail", h, c.Token)
		}
	})
}
