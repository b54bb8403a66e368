package templates

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"Ada":               "Ada",
		"Ada Lovelace":      "Ada Lovelace",
		"Ada King Lovelace": "Ada King",
		"Jean-Luc":          "Jean-Luc",
		"O'Brien":           "O'Brien",
		"José Ñúñez":        "José Ñúñez",
		"Zoë":               "Zoë",
		"  <b>Carol</b> ":   "b Carol",
		"Your account is locked, call +1 415 555 0100 or visit evil.example": "Your account",
		"call +1 415 555 0100":             "call",
		"+14155550100":                     "",
		"evil.example":                     "",
		"visit evil . example now":         "visit now",
		"evil[.]example":                   "",
		"evil(dot)example":                 "",
		"evil dot example":                 "",
		"https://evil.example/x":           "",
		"http：//evil":                      "",
		"www.evil":                         "",
		"ceo@evil.example":                 "",
		"ceo＠evil．example":                 "",
		"ｅｖｉｌ．ｅｘａｍｐｌｅ":                     "",
		"１２３ Main Street":                  "Main Street",
		"221B Baker Street":                "Baker Street",
		"Name\nSecond line":                "Name Second",
		"Averyveryverylongfirstname Smith": "Averyveryverylongfir",
		"Anna Maximilianeverlong":          "Anna",
		"":                                 "",
		"123":                              "",
		"\xff\xfeAda":                      "Ada",
	} {
		if got := SafeName(in); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNameMode(t *testing.T) {
	spoof := "Locked! Call +1 415 555 0100 or visit evil.example"
	if got := NameNone.ForUnverified(spoof); got != "" {
		t.Errorf("none: %q", got)
	}
	if got := NameShort.ForUnverified(spoof); got != "Locked Call" {
		t.Errorf("short: %q", got)
	}
	if got := NameFull.ForUnverified(spoof); got != spoof {
		t.Errorf("full: %q", got)
	}
	for _, s := range Sources {
		want := s == SignUp || s == ResendCode || s == UpdateUserAttribute || s == VerifyUserAttribute || s == AdminCreateUser
		if IsUnverified(s) != want {
			t.Errorf("IsUnverified(%s) = %v", s, !want)
		}
	}
}

func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"Ada", "call +1 415 555 0100", "evil.example", "a@b", "ｅｖｉｌ．ｅｘａｍｐｌｅ", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SafeName(in)
		if !utf8.ValidString(out) || utf8.RuneCountInString(out) > MaxSafeName || len(strings.Fields(out)) > maxSafeWords {
			t.Fatalf("SafeName(%q) = %q: too long or invalid", in, out)
		}
		// Nothing left that could be a link, an address or a number.
		if strings.ContainsAny(out, "0123456789@.:/\\<>&\"") || strings.ContainsFunc(out, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("SafeName(%q) = %q", in, out)
		}
		if SafeName(out) != out {
			t.Fatalf("SafeName not idempotent: %q -> %q -> %q", in, out, SafeName(out))
		}
	})
}
