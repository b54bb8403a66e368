package forwarded

import (
	"errors"
	"net/http"
	"slices"
	"testing"
)

func TestValue(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "-"},
		{"-", "%2D"},
		{"ada", "ada"},
		{"a,b", "a%2Cb"},
		{"100%", "100%25"},
		{"zoë", "zo%C3%AB"},
		{"a b", "a%20b"},
		{"--", "--"},
		{"\r\n", "%0D%0A"},
	} {
		if got := Value(tt.in); got != tt.want {
			t.Errorf("Value(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := DecodeValue(Value(tt.in)); err != nil || back != tt.in {
			t.Errorf("DecodeValue(Value(%q)) = %q, %v", tt.in, back, err)
		}
	}
}

func TestLists(t *testing.T) {
	if got := Groups(nil); got != NoValue {
		t.Errorf("Groups(nil) = %q", got)
	}
	if got := Groups([]string{"", ""}); got != NoValue {
		t.Errorf("Groups of empty names = %q", got)
	}
	if got := Groups([]string{"-", "a,b", "users"}); got != "%2D,a%2Cb,users" {
		t.Errorf("Groups = %q", got)
	}
	if got := Scope("  openid   orders:write "); got != "openid orders:write" {
		t.Errorf("Scope = %q", got)
	}
	if got := Scope(""); got != NoValue {
		t.Errorf("Scope(\"\") = %q", got)
	}
	// Scope tokens are separated by a space alone (RFC 6749 §3.3), as the
	// authorizer's routes read them: a tab or a no-break space is part of
	// a token, so a backend never sees two scopes where the routes saw one.
	for in, want := range map[string]string{
		"orders:read\torders:write": "orders:read%09orders:write",
		"a\u00a0b c":                "a%C2%A0b c",
		"a\nb":                      "a%0Ab",
		"\t":                        "%09",
	} {
		if got := Scope(in); got != want {
			t.Errorf("Scope(%q) = %q, want %q", in, got, want)
		}
	}
	g, err := DecodeList("%2D,a%2Cb,users", ',')
	if err != nil || !slices.Equal(g, []string{"-", "a,b", "users"}) {
		t.Errorf("DecodeList = %q, %v", g, err)
	}
	if g, err := DecodeList(NoValue, ','); err != nil || g != nil {
		t.Errorf("DecodeList(-) = %q, %v", g, err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, s := range []string{"", "%", "%2", "%G0", "a b", "a,b", "zoë", "a\tb", "%2"} {
		if _, err := DecodeValue(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeValue(%q): %v, want ErrMalformed", s, err)
		}
	}
	for _, s := range []string{"a,,b", ",a", "a,"} {
		if _, err := DecodeList(s, ','); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeList(%q): %v, want ErrMalformed", s, err)
		}
	}
}

func headers() http.Header {
	h := http.Header{}
	h.Set(HeaderSub, "5b7f3c7e")
	h.Set(HeaderSessionID, NoValue)
	h.Set(HeaderUsername, "zo%C3%AB")
	h.Set(HeaderGroups, "users,a%2Cb")
	h.Set(HeaderScope, "openid orders:write")
	h.Set(HeaderRequestID, "req-1")
	return h
}

func TestFromHeaders(t *testing.T) {
	id, err := FromHeaders(headers())
	if err != nil {
		t.Fatal(err)
	}
	if id.Sub != "5b7f3c7e" || id.SessionID != "" || id.Username != "zoë" || !slices.Equal(id.Groups, []string{"users", "a,b"}) ||
		!slices.Equal(id.Scope, []string{"openid", "orders:write"}) || id.RequestID != "req-1" {
		t.Fatalf("%+v", id)
	}
	for _, tt := range []struct {
		name   string
		mutate func(http.Header)
	}{
		{"missing groups", func(h http.Header) { h.Del(HeaderGroups) }},
		{"empty scope", func(h http.Header) { h.Set(HeaderScope, "") }},
		{"repeated groups", func(h http.Header) { h.Add(HeaderGroups, "admin") }},
		{"no sub", func(h http.Header) { h.Set(HeaderSub, NoValue) }},
		{"malformed username", func(h http.Header) { h.Set(HeaderUsername, "%ZZ") }},
		{"missing request id", func(h http.Header) { h.Del(HeaderRequestID) }},
	} {
		h := headers()
		tt.mutate(h)
		if _, err := FromHeaders(h); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", tt.name, err)
		}
	}
}

// FuzzRoundTrip: every value encodes to printable ASCII without the
// separators, never empty, and decodes back; lists keep their members.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"", "-", "a,b", "100%", "zoë", " x ", "\x00\r\n", "%2D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := Value(s)
		if v == "" {
			t.Fatal("empty")
		}
		for i := 0; i < len(v); i++ {
			if v[i] <= ' ' || v[i] >= 0x7f || v[i] == ',' {
				t.Fatalf("%q -> %q has byte %#x", s, v, v[i])
			}
		}
		if back, err := DecodeValue(v); err != nil || back != s {
			t.Fatalf("%q -> %q -> %q, %v", s, v, back, err)
		}
		if s == "" {
			return
		}
		g := Groups([]string{s, s})
		if back, err := DecodeList(g, ','); err != nil || !slices.Equal(back, []string{s, s}) {
			t.Fatalf("groups of %q -> %q -> %q, %v", s, g, back, err)
		}
	})
}

// FuzzDecode: the decoder, as a backend runs it on whatever arrives,
// never panics, and what it accepts re-encodes to the same member.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"-", "%2D", "a%2Cb", "%", "%G0", "zo%C3%AB", "a,b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := DecodeValue(s)
		if err != nil {
			return
		}
		if s == NoValue {
			if v != "" {
				t.Fatalf("- decodes to %q", v)
			}
			return
		}
		_, _ = DecodeList(s, ',')
		_, _ = DecodeList(s, ' ')
		if v == "" {
			t.Fatalf("%q decodes to empty", s)
		}
	})
}
