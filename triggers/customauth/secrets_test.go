package customauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/secret"
)

func testKeys(t testing.TB) *Keys {
	t.Helper()
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	k, err := NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestCodes(t *testing.T) {
	counts := map[byte]int{}
	for range 2000 {
		c, err := newCode(8)
		if err != nil {
			t.Fatal(err)
		}
		if !isCode(c, 8) {
			t.Fatalf("code %q", c)
		}
		counts[c[0]]++
	}
	// Leading zeros are kept: every first digit shows up.
	if len(counts) != 10 {
		t.Fatalf("first digits %v", counts)
	}
	for _, bad := range []string{"12345", "1234567", "12345a", "１２３４５６", " 12345"} {
		if isCode(bad, 6) {
			t.Errorf("isCode(%q)", bad)
		}
	}
}

func TestKeysSeparated(t *testing.T) {
	k := testKeys(t)
	if bytes.Equal(k.link, k.code) || bytes.Equal(k.code, k.user) {
		t.Fatal("derived keys collide")
	}
	if k.userKey("sub-1", "") == k.userKey("", "sub-1") {
		t.Fatal("a username can collide with a sub")
	}
	if k.userKey("", "Ada@Example.com") != k.userKey("", "ada@example.com") {
		t.Fatal("username keys are case-sensitive")
	}
	if _, err := NewKeys(make([]byte, 31)); err == nil {
		t.Fatal("short key accepted")
	}
	if bytes.Equal(k.codeMAC("u", "c1", "123456"), k.codeMAC("u", "c2", "123456")) {
		t.Fatal("code MAC not bound to the challenge")
	}
}

func TestLinks(t *testing.T) {
	k := testKeys(t)
	now := time.Unix(1_800_000_000, 0)
	claims := linkClaims{Pool: "pool", User: "ada", JTI: "jti-1234567", Exp: now.Add(time.Minute).Unix()}
	tok, err := k.signLink(claims)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.verifyLink(tok, "pool", "ada", now)
	if err != nil || got.JTI != "jti-1234567" {
		t.Fatalf("verify: %+v %v", got, err)
	}
	if u, ok := LinkUser(tok); !ok || u != "ada" {
		t.Fatalf("LinkUser = %q %v", u, ok)
	}
	link := linkURL("https://app.example/signin", tok)
	if tt, ok := TokenFromLink(link); !ok || tt != tok {
		t.Fatalf("TokenFromLink = %q", tt)
	}
	payload, sig, _ := strings.Cut(tok, ".")
	otherTok, _ := testKeys(t).signLink(claims)
	for name, tc := range map[string]struct {
		tok, pool, user string
		at              time.Time
		want            error
	}{
		"other pool":     {tok, "pool2", "ada", now, errLinkClaims},
		"other user":     {tok, "pool", "bob", now, errLinkClaims},
		"expired":        {tok, "pool", "ada", now.Add(time.Minute), errLinkExpired},
		"other key":      {otherTok, "pool", "ada", now, errLinkSignature},
		"flipped sig":    {payload + "." + flip(sig), "pool", "ada", now, errLinkSignature},
		"swapped claims": {flip(payload) + "." + sig, "pool", "ada", now, errLinkSignature},
		"no dot":         {payload, "pool", "ada", now, errLinkMalformed},
		"empty":          {"", "pool", "ada", now, errLinkMalformed},
		"bad base64":     {payload + ".!!", "pool", "ada", now, errLinkMalformed},
		"huge":           {strings.Repeat("a", 5000) + ".b", "pool", "ada", now, errLinkMalformed},
	} {
		if _, err := k.verifyLink(tc.tok, tc.pool, tc.user, tc.at); err != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestLoadKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "key")
	if err := os.WriteFile(good, []byte("  "+strings.Repeat("k", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("tooshort"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := LoadKey(ctx, "file:"+good, secret.Fetchers{}); err != nil || len(b) != 40 {
		t.Fatalf("file: %d %v", len(b), err)
	}
	t.Setenv("SHORTFUSE_TEST_LINK_KEY", strings.Repeat("e", 32))
	if _, err := LoadKey(ctx, "env:SHORTFUSE_TEST_LINK_KEY", secret.Fetchers{}); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"", "file:" + short, "file:" + filepath.Join(dir, "none"), "env:SHORTFUSE_TEST_UNSET",
		"ssm:/x", "secretsmanager:x", "vault:x", "nocolon"} {
		_, err := LoadKey(ctx, src, secret.Fetchers{})
		if err == nil {
			t.Errorf("%q accepted", src)
		} else if !strings.Contains(err.Error(), "SHORTFUSE_AUTH_LINK_KEY") || strings.Contains(err.Error(), "tooshort") {
			t.Errorf("%q: error %q", src, err)
		}
	}
}

func TestConfig(t *testing.T) {
	env := config.FromMap(nil)
	c := LoadConfig(env)
	if env.Err() != nil || c.CodeLength != 6 || c.MaxAttempts != 3 || c.CodeTTL != 10*time.Minute || c.MinInterval != time.Minute || !c.RequireVerifiedEmail {
		t.Fatalf("defaults %+v %v", c, env.Err())
	}
	for name, vars := range map[string]map[string]string{
		"short code":      {"SHORTFUSE_AUTH_CODE_LENGTH": "4"},
		"long ttl":        {"SHORTFUSE_AUTH_CODE_TTL": "2h"},
		"zero attempts":   {"SHORTFUSE_AUTH_MAX_ATTEMPTS": "0"},
		"fragment":        {"SHORTFUSE_AUTH_LINK_BASE_URL": "https://app.example/#/signin"},
		"not a url":       {"SHORTFUSE_AUTH_LINK_BASE_URL": "app.example/signin"},
		"interval >= ttl": {"SHORTFUSE_AUTH_CODE_TTL": "2m", "SHORTFUSE_AUTH_LINK_MIN_INTERVAL": "2m"},
	} {
		env := config.FromMap(vars)
		LoadConfig(env)
		if env.Err() == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
