package emailaddr

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestParse(t *testing.T) {
	ok := []struct{ in, norm, seat string }{
		{"a@ok.example", "a@ok.example", "a@ok.example"},
		{"A@OK.EXAMPLE", "a@ok.example", "a@ok.example"},
		{"Ada.Lovelace@Example.COM", "ada.lovelace@example.com", "ada.lovelace@example.com"},
		{"a+news@ok.example", "a+news@ok.example", "a@ok.example"},
		{"A+X+Y@ok.example", "a+x+y@ok.example", "a@ok.example"},
		{"+only@ok.example", "+only@ok.example", "+only@ok.example"},
		{"o'brien@xn--bcher-kva.example", "o'brien@xn--bcher-kva.example", "o'brien@xn--bcher-kva.example"},
	}
	for _, c := range ok {
		a, err := Parse(c.in)
		if err != nil || a.Norm != c.norm || a.Seat != c.seat || !strings.HasSuffix(a.Norm, "@"+a.Domain) {
			t.Errorf("Parse(%q) = %+v, %v; want norm %q seat %q", c.in, a, err, c.norm, c.seat)
		}
	}
	bad := []string{
		"", "a", "@ok.example", "a@", "a@ok", "a@ok.example.", "a@ok..example", "a@-ok.example",
		"a b@ok.example", " a@ok.example", "a@ok.example ", "\"a\"@ok.example", "a(c)@ok.example",
		"Ada <a@ok.example>", ".a@ok.example", "a.@ok.example", "a..b@ok.example", "a@b@ok.example",
		"a@ok_x.example", "a@bücher.example", "ä@ok.example", "a\x00@ok.example",
		strings.Repeat("a", 65) + "@ok.example", "a@" + strings.Repeat("b", 250) + ".example",
	}
	for _, in := range bad {
		if a, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", in, a)
		}
	}
}

// Every Unicode-compatibility variant of an ASCII address is refused: NFKC
// maps each of these to a@ok.example, which Parse accepts.
func TestParseRefusesNFKCVariants(t *testing.T) {
	variants := []string{
		"\uff41@ok.example",     // full-width a
		"a@\uff4fk.example",     // full-width o
		"a@o\u212a.example",     // Kelvin sign
		"a\uff20ok.example",     // full-width @
		"a@ok\uff0eexample",     // full-width full stop
		"\U0001d41a@ok.example", // mathematical bold a
		"a@ok.exa\u217fple",     // small roman numeral one thousand (m)
		"\u00aa@ok.example",     // feminine ordinal indicator
	}
	for _, v := range variants {
		if got := norm.NFKC.String(v); strings.ToLower(got) != "a@ok.example" {
			t.Fatalf("test data: NFKC(%q) = %q", v, got)
		}
		if a, err := Parse(v); err == nil {
			t.Errorf("Parse(%q) = %+v, want refused", v, a)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a@ok.example", "A+x@OK.example", "a@ok.example.", "\uff41@ok.example", "a..b@x.y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		// An accepted address is ASCII, NFKC-stable, and its forms are
		// themselves accepted and stable.
		if norm.NFKC.String(s) != s {
			t.Fatalf("accepted %q, not NFKC-stable", s)
		}
		b, err := Parse(a.Norm)
		if err != nil || b != a {
			t.Fatalf("Parse(Norm %q) = %+v, %v; want %+v", a.Norm, b, err, a)
		}
		if a.Norm != strings.ToLower(s) || !ValidDomain(a.Domain) || strings.Contains(a.Seat, "+") && !strings.HasPrefix(a.Seat, "+") {
			t.Fatalf("Parse(%q) = %+v", s, a)
		}
	})
}
