package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/tokensvc"
)

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(env map[string]string, args ...string) result {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

func TestCLIAgainstDynalite(t *testing.T) {
	d := testenv.Dynalite(t)
	ctx := context.Background()
	storetest.CreateTable(t, d, "shortfuse")
	st := store.New(d.Client, "shortfuse")
	now := time.Now()
	for _, id := range []string{"AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBA"} {
		if err := st.CreateSession(ctx, &store.Session{
			ID: id, Sub: "user-1", Username: "alice", ClientID: "web", AuthTime: now.Add(-time.Minute),
			AbsExpiresAt: now.Add(time.Hour), IdleExpiresAt: now.Add(time.Hour), RefreshHash: []byte("01234567890123456789012345678901"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"SHORTFUSE_TABLE": "shortfuse", "SHORTFUSE_AWS_ENDPOINT": d.Endpoint}

	r := runCLI(env, "sessions", "list", "--user", "user-1")
	if r.code != 0 || !strings.Contains(r.stdout, "AAAAAAAAAAAAAAAAAAAAAA") || !strings.Contains(r.stdout, "active") {
		t.Fatalf("list: %+v", r)
	}
	r = runCLI(env, "sessions", "list", "--user", "user-1", "--json")
	var list tokensvc.SessionList
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list.Sessions) != 2 {
		t.Fatalf("list --json: %+v", r)
	}
	if strings.Contains(strings.ToLower(r.stdout), "hash") {
		t.Fatal("listing shows refresh hashes")
	}

	r = runCLI(env, "sessions", "revoke", "--session", "AAAAAAAAAAAAAAAAAAAAAA", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"revoke_reason": "admin"`) {
		t.Fatalf("revoke: %+v", r)
	}
	if s, err := st.GetSession(ctx, "AAAAAAAAAAAAAAAAAAAAAA"); err != nil || s.RevokedAt.IsZero() {
		t.Fatalf("not revoked: %+v %v", s, err)
	}
	revs, err := st.RevocationsSince(ctx, now.Add(-time.Minute), time.Now())
	if err != nil || len(revs) != 1 || revs[0].Kind != store.RevokeSession {
		t.Fatalf("revocation log: %+v %v", revs, err)
	}
	if r := runCLI(env, "sessions", "revoke", "--session", "CCCCCCCCCCCCCCCCCCCCCA"); r.code != 1 || !strings.Contains(r.stderr, "no session") {
		t.Fatalf("unknown session: %+v", r)
	}

	if r := runCLI(env, "users", "revoke", "--user", "user-1"); r.code != 2 || !strings.Contains(r.stderr, "--user-pool-id") {
		t.Fatalf("users revoke without a pool: %+v", r)
	}
	r = runCLI(env, "users", "revoke", "--user", "user-1", "--global-signout=false", "--json")
	var res revoke.UserResult
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || len(res.Sessions) != 1 || res.Sessions[0] != "BBBBBBBBBBBBBBBBBBBBBA" {
		t.Fatalf("users revoke: %+v", r)
	}
	if at, err := st.UserRevokedAt(ctx, "user-1"); err != nil || at.IsZero() {
		t.Fatalf("user revoked at: %v %v", at, err)
	}
	r = runCLI(env, "users", "revoke", "--user", "user-2", "--global-signout=false")
	if r.code != 0 || !strings.Contains(r.stdout, "user user-2 revoked") {
		t.Fatalf("users revoke text: %+v", r)
	}
	r = runCLI(env, "sessions", "list", "--user", "nobody")
	if r.code != 0 || !strings.Contains(r.stdout, "no sessions") {
		t.Fatalf("empty list: %+v", r)
	}

	// An unreachable store is a runtime error.
	down := map[string]string{"SHORTFUSE_TABLE": "shortfuse", "SHORTFUSE_AWS_ENDPOINT": "http://127.0.0.1:1"}
	if r := runCLI(down, "sessions", "list", "--user", "user-1", "--timeout", "3s"); r.code != 1 || r.stderr == "" {
		t.Fatalf("unreachable: %+v", r)
	}
}

func TestCLIUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage"},
		{[]string{"help"}, 0, "Usage"},
		{[]string{"--help"}, 0, "Usage"},
		{[]string{"bogus"}, 2, "unknown command"},
		{[]string{"sessions"}, 2, "sessions needs one of: list, revoke"},
		{[]string{"sessions", "delete"}, 2, "sessions needs one of: list, revoke"},
		{[]string{"users"}, 2, "users needs one of: revoke"},
		{[]string{"keys", "--alg", "ES256"}, 2, "keys needs one of: generate"},
		{[]string{"sessions", "list"}, 2, "--user is required"},
		{[]string{"sessions", "list", "--user", "u"}, 2, "--table is required"},
		{[]string{"sessions", "list", "--user", "u", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"sessions", "list", "--user", "u", "extra"}, 2, "unexpected argument"},
		{[]string{"sessions", "revoke"}, 2, "--session is required"},
		{[]string{"users", "revoke", "--user", "u", "--global-signout"}, 2, "--user-pool-id"},
		{[]string{"keys", "generate", "--alg", "HS256"}, 2, "--alg"},
		{[]string{"sessions", "list", "-h"}, 0, "-user"},
		{[]string{"users", "revoke", "--help"}, 0, "Usage: shortfuse users revoke [flags]"},
		{[]string{"sessions", "-h"}, 0, "sessions commands: list, revoke"},
		{[]string{"invites", "--help"}, 0, "invites commands:"},
		{[]string{"keys", "generate", "-h"}, 0, "-alg"},
	}
	for _, tc := range tests {
		r := runCLI(map[string]string{}, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("%v: %+v", tc.args, r)
		}
		// Help asked for goes to standard output; everything else about a
		// usage error goes to standard error.
		if tc.code == 0 && (r.stderr != "" || r.stdout == "") || tc.code == 2 && r.stdout != "" {
			t.Errorf("%v: wrong stream: %+v", tc.args, r)
		}
	}
}

// The settings the CLI shares with the functions are checked by the
// functions' rules, and refused with the variable named, before any call.
func TestCLISharedSettings(t *testing.T) {
	table := map[string]string{"SHORTFUSE_TABLE": "shortfuse", "SHORTFUSE_AWS_ENDPOINT": "http://127.0.0.1:1"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range table {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"endpoint not a URL", with("SHORTFUSE_AWS_ENDPOINT", "localhost:8000"), []string{"sessions", "list", "--user", "u"}, 2,
			"SHORTFUSE_AWS_ENDPOINT: \"localhost:8000\" is not an absolute http(s) URL"},
		{"endpoint flag not a URL", table, []string{"sessions", "list", "--user", "u", "--endpoint", "ftp://x"}, 2,
			"SHORTFUSE_AWS_ENDPOINT: \"ftp://x\" is not an absolute http(s) URL (--endpoint, --region)"},
		{"cognito endpoint not a URL", table, []string{"users", "revoke", "--user", "u", "--global-signout=false", "--cognito-endpoint", "x"}, 2,
			"SHORTFUSE_COGNITO_ENDPOINT"},
		// The service derives 1h30s for 1-hour tokens and refuses less.
		{"retention too short for the clients", with("SHORTFUSE_CLIENTS", "web:3600", "SHORTFUSE_REVOCATION_RETENTION", "30m"),
			[]string{"sessions", "revoke", "--session", "s"}, 1, "SHORTFUSE_REVOCATION_RETENTION: 30m0s is shorter than"},
		// Without the clients, the CLI assumes the longest lifetime.
		{"retention too short without the clients", with("SHORTFUSE_REVOCATION_RETENTION", "10m"),
			[]string{"users", "revoke", "--user", "u", "--global-signout=false"}, 1, "SHORTFUSE_REVOCATION_RETENTION: 10m0s is shorter than the longest a revocation must be remembered (1h0m30s)"},
		{"leeway out of bounds", with("SHORTFUSE_LEEWAY", "1h"), []string{"sessions", "revoke", "--session", "s"}, 1, "SHORTFUSE_LEEWAY"},
		{"clients malformed", with("SHORTFUSE_CLIENTS", "web:abc"), []string{"sessions", "revoke", "--session", "s"}, 1, "SHORTFUSE_CLIENTS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(tc.env, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%+v, want code %d and %q", r, tc.code, tc.want)
			}
		})
	}
}

func TestKeysGenerate(t *testing.T) {
	for _, alg := range []string{keys.ES256, keys.RS256, keys.EdDSA} {
		r := runCLI(nil, "keys", "generate", "--alg", alg)
		if r.code != 0 {
			t.Fatalf("%s: %+v", alg, r)
		}
		set, err := keys.ParseSet([]byte(r.stdout), "")
		if err != nil || set.Active().Alg != alg || !strings.Contains(r.stderr, set.Active().KID) {
			t.Fatalf("%s: %v %+v", alg, err, r)
		}
	}
	out := filepath.Join(t.TempDir(), "key.json")
	r := runCLI(nil, "keys", "generate", "--out", out, "--json")
	var info map[string]string
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &info) != nil || info["alg"] != keys.ES256 || info["file"] != out {
		t.Fatalf("--out: %+v", r)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi, err)
	}
	data, _ := os.ReadFile(out)
	if set, err := keys.ParseSet(data, ""); err != nil || set.Active().KID != info["kid"] {
		t.Fatalf("key file: %v", err)
	}
	// An existing file is never overwritten.
	if r := runCLI(nil, "keys", "generate", "--out", out); r.code != 1 {
		t.Fatalf("overwrite: %+v", r)
	}
}

func TestRevocationsCopy(t *testing.T) {
	d := testenv.Dynalite(t)
	ctx := context.Background()
	storetest.CreateTable(t, d, "shortfuse")
	old := store.New(d.Client, "shortfuse", store.WithRevocationLayout(store.RevocationLayout{Replicas: 1, Shards: 2}))
	if _, err := old.AppendRevocation(ctx, store.Revocation{Kind: store.RevokeUser, Value: "u1", Until: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SHORTFUSE_TABLE": "shortfuse", "SHORTFUSE_AWS_ENDPOINT": d.Endpoint,
		"SHORTFUSE_REVOCATION_REPLICAS": "3", "SHORTFUSE_REVOCATION_SHARDS": "2"}
	if r := runCLI(env, "revocations", "copy"); r.code != 2 {
		t.Fatalf("without --from-replicas: %+v", r)
	}
	r := runCLI(env, "revocations", "copy", "--from-replicas", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "1 live entries copied into replicas 1 to 2 (layout 3x2)") {
		t.Fatalf("copy: %+v", r)
	}
	grown := store.New(d.Client, "shortfuse", store.WithRevocationLayout(store.RevocationLayout{Replicas: 3, Shards: 2}))
	found := false
	for sh := range 2 {
		p, err := grown.ReadRevocations(ctx, store.RevocationQuery{Replica: 2, Shard: sh, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		found = found || len(p.Entries) == 1 && p.Entries[0].Value == "u1"
	}
	if !found {
		t.Fatal("replica 2 lacks the copied entry")
	}
	if r := runCLI(map[string]string{"SHORTFUSE_TABLE": "t", "SHORTFUSE_REVOCATION_SHARDS": "0"}, "revocations", "copy", "--from-replicas", "1"); r.code != 1 || !strings.Contains(r.stderr, "SHORTFUSE_REVOCATION_SHARDS") {
		t.Fatalf("bad layout: %+v", r)
	}
}
