package domains

import (
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/shared/config"
)

func TestMatch(t *testing.T) {
	deny, err := Parse([]string{"evil.example", "=apex.example", "*.sub.example", ".both.example", "Trail.Example."}, WithSubdomains)
	if err != nil {
		t.Fatal(err)
	}
	allow, err := Parse([]string{"ok.example", ".corp.example", "*.dept.example"}, Exact)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		list   List
		domain string
		want   bool
	}{
		{deny, "evil.example", true},
		{deny, "x.evil.example", true},
		{deny, "a.b.evil.example", true},
		{deny, "notevil.example", false},
		{deny, "evil.example.org", false},
		{deny, "apex.example", true},
		{deny, "x.apex.example", false},
		{deny, "sub.example", false},
		{deny, "x.sub.example", true},
		{deny, "both.example", true},
		{deny, "x.both.example", true},
		{deny, "trail.example", true},
		{allow, "ok.example", true},
		{allow, "x.ok.example", false},
		{allow, "corp.example", true},
		{allow, "eu.corp.example", true},
		{allow, "dept.example", false},
		{allow, "hr.dept.example", true},
		{nil, "ok.example", false},
	}
	for _, c := range cases {
		if got := c.list.Match(c.domain); got != c.want {
			t.Errorf("%s.Match(%q) = %v, want %v", c.list, c.domain, got, c.want)
		}
	}
	if got := deny.String(); got != ".evil.example,=apex.example,*.sub.example,.both.example,.trail.example" {
		t.Errorf("String() = %q", got)
	}
}

func TestPolicy(t *testing.T) {
	env := config.FromMap(map[string]string{AllowedVar: "ok.example,evil.ok.example", DeniedVar: "evil.ok.example,bad.example"})
	p := LoadPolicy(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]bool{
		"ok.example": true, "evil.ok.example": false, "x.evil.ok.example": false,
		"other.example": false, "x.ok.example": false, "bad.example": false,
	} {
		if got := p.Permits(d); got != want {
			t.Errorf("Permits(%q) = %v, want %v", d, got, want)
		}
	}
	if !(Policy{}).Permits("any.example") {
		t.Error("empty policy refuses")
	}
	for _, bad := range []string{"*", "*.com", "com", "=", ".", "a..b", "x_y.example", "bücher.example", "**.a.example"} {
		env := config.FromMap(map[string]string{DeniedVar: bad})
		LoadPolicy(env)
		if err := env.Err(); err == nil || !strings.Contains(err.Error(), DeniedVar) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"evil.example", "=a.example", "*.a.example", ".a.example", "A.Example.", "*", ""} {
		f.Add(s, "x.a.example")
	}
	f.Fuzz(func(t *testing.T, entry, domain string) {
		for _, bare := range []Mode{Exact, WithSubdomains} {
			l, err := Parse([]string{entry}, bare)
			if err != nil {
				continue
			}
			// The explicit form parses to the same rules whatever the default.
			back, err := Parse(strings.Split(l.String(), ","), Exact)
			if err != nil || back.String() != l.String() {
				t.Fatalf("%q: round trip %q -> %v, %v", entry, l, back, err)
			}
			// A rule never matches a domain that does not end in its own.
			if l.Match(domain) && !strings.HasSuffix(domain, l[0].Domain) {
				t.Fatalf("%q matches %q", entry, domain)
			}
		}
	})
}
