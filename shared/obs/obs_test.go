package obs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

const (
	// A Cognito-style ID token (header, claims, signature).
	jwt = "eyJraWQiOiJDb2duaXRvTG9jYWwiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
	// A refresh token of the token service: 22 + "." + 43 base64url characters.
	refresh = "AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"nothing to see", "nothing to see"},
		{jwt, Redacted},
		{"Bearer " + jwt, "Bearer " + Redacted},
		{"token=" + jwt + "&x=1", "token=" + Redacted + "&x=1"},
		{`{"t":"` + jwt + `"}`, `{"t":"` + Redacted + `"}`},
		{"alg none " + "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "alg none " + Redacted},
		{"JWE eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "JWE " + Redacted},
		{"refresh " + refresh + " used twice", "refresh " + Redacted + " used twice"},
		{"ends with " + refresh + ".", "ends with " + Redacted},
		{jwt + " and " + refresh, Redacted + " and " + Redacted},
		// Things that merely contain dots or base64url stay.
		{"api.example.com", "api.example.com"},
		{"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/jwks.json", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/jwks.json"},
		{"session AAAAAAAAAAAAAAAAAAAAAA revoked", "session AAAAAAAAAAAAAAAAAAAAAA revoked"},
		{"eyJhbGciOiJSUzI1NiJ9 header only", "eyJhbGciOiJSUzI1NiJ9 header only"},
		{"token_id " + TokenID(jwt), "token_id " + TokenID(jwt)},
		{"v1.2.3", "v1.2.3"},
		// Glued to other characters, a token is still found.
		{"x" + jwt + "y", Redacted},
		{"0" + refresh + "0", Redacted},
		{"a." + refresh + ".b", Redacted},
	}
	for _, tc := range tests {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

type nilErr struct{ msg *string }

func (e *nilErr) Error() string { return *e.msg }

// TestLoggerNeverPrintsTokens logs tokens every way a caller could by
// mistake: none reaches the output.
func TestLoggerNeverPrintsTokens(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "debug")
	log.Info("exchange of "+jwt, "token", jwt, "refresh", refresh)
	log.Warn("failed", "error", fmt.Errorf("verify %s: %w", jwt, errors.New("expired")))
	log.With("req", slog.GroupValue(slog.String("auth", "Bearer "+jwt))).Debug("grouped")
	log.Info("list", "tokens", []string{"ok", refresh})
	log.Info("nil error", "error", error((*nilErr)(nil)))
	out := buf.String()
	if strings.Contains(out, jwt) || strings.Contains(out, refresh) || strings.Contains(out, jwt[:60]) {
		t.Fatalf("a token reached the log:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
	}
	for _, want := range []string{`"msg":"exchange of [redacted]"`, `"token":"[redacted]"`, `"error":"verify [redacted]: expired"`,
		`"auth":"Bearer [redacted]"`, `"tokens":["ok","[redacted]"]`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

func TestNewLoggerLevels(t *testing.T) {
	for level, want := range map[string][]string{
		"debug": {"d", "i", "w", "e"},
		"INFO":  {"i", "w", "e"},
		"":      {"i", "w", "e"},
		"bogus": {"i", "w", "e"},
		"warn":  {"w", "e"},
		"error": {"e"},
	} {
		var buf bytes.Buffer
		log := NewLogger(&buf, level)
		log.Debug("d")
		log.Info("i")
		log.Warn("w")
		log.Error("e")
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m struct{ Msg string }
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%q: not JSON: %s", level, l)
			}
			got = append(got, m.Msg)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("level %q logged %v, want %v", level, got, want)
		}
	}
}

func TestTokenID(t *testing.T) {
	id := TokenID(jwt)
	if len(id) != 12 || id != TokenID(jwt) || id == TokenID(refresh) || strings.Contains(jwt, id) {
		t.Fatalf("TokenID %q", id)
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("a", MaxClip+1)
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"alice", "alice"},
		{long[:MaxClip], long[:MaxClip]},
		{long, long[:MaxClip]},
	} {
		if got := Clip(tt.in); got != tt.want {
			t.Errorf("Clip(%d bytes) = %d bytes, want %d", len(tt.in), len(got), len(tt.want))
		}
	}
}

func TestMetric(t *testing.T) {
	var buf bytes.Buffer
	Metric(&buf, "shortfuse", "Exchanges", 2, "Count", map[string]string{"client": "web"})
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["Exchanges"] != 2.0 || m["client"] != "web" {
		t.Fatalf("%v %s", err, buf.String())
	}
	cw := m["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if cw["Namespace"] != "shortfuse" {
		t.Fatalf("%v", cw)
	}
}

func TestCounter(t *testing.T) {
	var buf bytes.Buffer
	c := NewCounter(&buf, "authorizer")
	c.Count("Decisions", "Outcome", "allow")
	c.Count("Decisions", "Outcome", "revoked")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 records, got %q", buf.String())
	}
	var m struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Function, Outcome string
		Decisions         float64
	}
	if err := json.Unmarshal([]byte(lines[1]), &m); err != nil {
		t.Fatal(err)
	}
	cw := m.AWS.CloudWatchMetrics
	if m.AWS.Timestamp == 0 || len(cw) != 1 || cw[0].Namespace != Namespace ||
		!slices.Equal(cw[0].Dimensions[0], []string{"Function", "Outcome"}) ||
		cw[0].Metrics[0] != (struct{ Name, Unit string }{"Decisions", "Count"}) ||
		m.Function != "authorizer" || m.Outcome != "revoked" || m.Decisions != 1 {
		t.Fatalf("record %s", lines[1])
	}
	var none *Counter
	none.Count("Decisions", "Outcome", "allow") // a nil Counter counts nothing
}

func FuzzRedact(f *testing.F) {
	f.Add("Bearer " + jwt)
	f.Add(refresh)
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		r := Redact(s)
		if strings.Contains(r, jwt) || strings.Contains(r, refresh) {
			t.Fatalf("token left in %q", r)
		}
		if Redact(r) != r {
			t.Fatalf("not idempotent: %q -> %q", r, Redact(r))
		}
	})
}
