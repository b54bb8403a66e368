package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEnvValues(t *testing.T) {
	e := FromMap(map[string]string{
		"S":     "  value  ",
		"BLANK": "   ",
		"ONE":   "b",
		"INT":   "42",
		"BOOL":  "true",
		"SECS":  "30",
		"DUR":   "1m30s",
		"LIST":  " a, ,b ,",
		"URL":   "https://example.com/x",
	})
	if v := e.String("S", "d"); v != "value" {
		t.Errorf("String: %q", v)
	}
	if v := e.String("BLANK", "d"); v != "d" {
		t.Errorf("blank String: %q", v)
	}
	if v := e.String("UNSET", "d"); v != "d" {
		t.Errorf("unset String: %q", v)
	}
	if v := e.Required("S"); v != "value" {
		t.Errorf("Required: %q", v)
	}
	if v := e.OneOf("ONE", "a", "a", "b"); v != "b" {
		t.Errorf("OneOf: %q", v)
	}
	if v := e.OneOf("UNSET", "a", "a", "b"); v != "a" {
		t.Errorf("OneOf default: %q", v)
	}
	if v := e.Int("INT", 1, 0, 100); v != 42 {
		t.Errorf("Int: %d", v)
	}
	if v := e.Bool("BOOL", false); !v {
		t.Error("Bool")
	}
	if v := e.Duration("SECS", 0, 0, time.Hour); v != 30*time.Second {
		t.Errorf("Duration seconds: %v", v)
	}
	if v := e.Duration("DUR", 0, 0, time.Hour); v != 90*time.Second {
		t.Errorf("Duration: %v", v)
	}
	if v := e.Duration("UNSET", 5*time.Second, 0, time.Hour); v != 5*time.Second {
		t.Errorf("Duration default: %v", v)
	}
	if v := e.List("LIST", nil); strings.Join(v, "|") != "a|b" {
		t.Errorf("List: %q", v)
	}
	if v := e.List("UNSET", []string{"x"}); strings.Join(v, "|") != "x" {
		t.Errorf("List default: %q", v)
	}
	if v := e.URL("URL", ""); v != "https://example.com/x" {
		t.Errorf("URL: %q", v)
	}
	if err := e.Err(); err != nil {
		t.Fatalf("unexpected errors: %v", err)
	}
}

// TestEnvCollectsEveryError checks that every problem is reported at once,
// each naming its variable, and that a bad value falls back to the default.
func TestEnvCollectsEveryError(t *testing.T) {
	e := FromMap(map[string]string{
		"ONE":      "c",
		"NOT_INT":  "x",
		"BIG_INT":  "101",
		"NOT_BOOL": "maybe",
		"NOT_DUR":  "soon",
		"NEG_DUR":  "-5",
		"LONG_DUR": "2h",
		"REL_URL":  "/path",
		"FTP_URL":  "ftp://example.com",
	})
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"MISSING", e.Required("MISSING"), ""},
		{"ONE", e.OneOf("ONE", "a", "a", "b"), "a"},
		{"NOT_INT", e.Int("NOT_INT", 7, 0, 100), 7},
		{"BIG_INT", e.Int("BIG_INT", 7, 0, 100), 7},
		{"NOT_BOOL", e.Bool("NOT_BOOL", true), true},
		{"NOT_DUR", e.Duration("NOT_DUR", time.Second, 0, time.Hour), time.Second},
		{"NEG_DUR", e.Duration("NEG_DUR", time.Second, 0, time.Hour), time.Second},
		{"LONG_DUR", e.Duration("LONG_DUR", time.Second, 0, time.Hour), time.Second},
		{"REL_URL", e.URL("REL_URL", "d"), "d"},
		{"FTP_URL", e.URL("FTP_URL", "d"), "d"},
	}
	e.Fail("CROSS", "%s is longer than %s", "a", "b")
	err := e.Err()
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(checks)+1 {
		t.Errorf("%d errors, want %d:\n%v", len(lines), len(checks)+1, err)
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want the default %v", c.name, c.got, c.want)
		}
		if i < len(lines) && !strings.HasPrefix(lines[i], c.name+": ") {
			t.Errorf("error %d %q does not name %s", i, lines[i], c.name)
		}
	}
	if !strings.HasPrefix(lines[len(lines)-1], "CROSS: a is longer than b") {
		t.Errorf("Fail: %q", lines[len(lines)-1])
	}
}

func TestFromOS(t *testing.T) {
	t.Setenv("SHORTFUSE_CONFIG_TEST", " x ")
	e := FromOS()
	if v := e.Required("SHORTFUSE_CONFIG_TEST"); v != "x" || e.Err() != nil {
		t.Fatalf("%q %v", v, e.Err())
	}
	if e.Required("SHORTFUSE_CONFIG_TEST_UNSET"); !errors.Is(e.Err(), e.errs[0]) {
		t.Fatal("unset variable not reported")
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"0": 0, "300": 300 * time.Second, "5m": 5 * time.Minute, "1.5s": 1500 * time.Millisecond} {
		if d, err := ParseDuration(in); err != nil || d != want {
			t.Errorf("%q: %v %v", in, d, err)
		}
	}
	for _, in := range []string{"", "x", "-1", "99999999999999999999", "9223372036854775807"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	f.Add("300")
	f.Add("1h")
	f.Add("-1")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d < 0 && !strings.HasPrefix(strings.TrimSpace(s), "-") {
			t.Fatalf("%q -> %v", s, d)
		}
	})
}
