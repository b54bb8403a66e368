package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/triggers/presignup"
)

// runInvites dispatches an invites subcommand the way run does.
func runInvites(env map[string]string, sub string, args ...string) result {
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	cmd, ok := c.inviteCommands()["invites "+sub]
	if !ok {
		return result{code: exitUsage}
	}
	code := exitOK
	if err := cmd(context.Background(), args); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
		case errors.Is(err, errUsage):
			code = exitUsage
		default:
			code = exitError
		}
		errb.WriteString(err.Error())
	}
	return result{code, out.String(), errb.String()}
}

func TestInvitesCLI(t *testing.T) {
	d := testenv.Dynalite(t)
	ctx := context.Background()
	storetest.CreateTable(t, d, "shortfuse")
	st := store.New(d.Client, "shortfuse")
	env := map[string]string{"SHORTFUSE_TABLE": "shortfuse", "SHORTFUSE_AWS_ENDPOINT": d.Endpoint}

	r := runInvites(env, "create", "--uses", "3", "--email", "Ada@Example.com", "--expires", "2d", "--note", "team")
	code := regexp.MustCompile(`invite code: (\S+)`).FindStringSubmatch(r.stdout)
	if r.code != 0 || code == nil || !strings.Contains(r.stdout, "3 use(s)") || !strings.Contains(r.stdout, "only for ada@example.com") {
		t.Fatalf("create: %+v", r)
	}
	norm, _ := presignup.NormalizeInviteCode(code[1])
	id := presignup.InviteID(norm)
	inv, err := st.GetInvite(ctx, id)
	if err != nil || inv.MaxUses != 3 || inv.Email != "ada@example.com" || inv.Note != "team" ||
		time.Until(inv.ExpiresAt) < 47*time.Hour {
		t.Fatalf("stored: %+v %v", inv, err)
	}

	r = runInvites(env, "create", "--json")
	var created inviteView
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &created) != nil || created.Code == "" || created.State != "active" || created.MaxUses != 1 {
		t.Fatalf("create --json: %+v", r)
	}

	r = runInvites(env, "list")
	if r.code != 0 || !strings.Contains(r.stdout, id[:16]) || !strings.Contains(r.stdout, "3/3") ||
		strings.Contains(r.stdout, code[1]) || strings.Contains(r.stdout, created.Code) {
		t.Fatalf("list: %+v", r)
	}
	r = runInvites(env, "list", "--json")
	var listed struct{ Invites []inviteView }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &listed) != nil || len(listed.Invites) != 2 || listed.Invites[0].Code != "" {
		t.Fatalf("list --json: %+v", r)
	}

	if r := runInvites(env, "revoke", "--id", id[:10]); r.code != 0 || !strings.Contains(r.stdout, "revoked") {
		t.Fatalf("revoke by prefix: %+v", r)
	}
	if inv, _ := st.GetInvite(ctx, id); inv.RevokedAt.IsZero() {
		t.Fatal("not revoked")
	}
	if r := runInvites(env, "revoke", "--code", strings.ToLower(created.Code), "--json"); r.code != 0 || !strings.Contains(r.stdout, `"state": "revoked"`) {
		t.Fatalf("revoke by code: %+v", r)
	}
	if r := runInvites(env, "revoke", "--code", "ZZZZ-ZZZZ-ZZZZ-ZZZZ"); r.code != 1 || !strings.Contains(r.stderr, "no invite with that code") {
		t.Fatalf("revoke unknown code: %+v", r)
	}
	if r := runInvites(env, "list"); !strings.Contains(r.stdout, "revoked") {
		t.Fatalf("list after revoke: %+v", r)
	}

	for _, args := range [][]string{
		{"create", "--uses", "0"},
		{"create", "--uses", "100000"},
		{"create", "--expires", "soon"},
		{"create", "--expires", "-5"},
		{"create", "--email", "not an email"},
		{"create", "extra"},
		{"revoke"},
		{"revoke", "--id", "abc", "--code", "ABCD-EFGH"},
		{"revoke", "--id", "xyz12345"},
		{"revoke", "--code", "!!"},
	} {
		if r := runInvites(env, args[0], args[1:]...); r.code != exitUsage {
			t.Errorf("%v: %+v", args, r)
		}
	}
	if !strings.Contains(inviteUsage, "invites create") {
		t.Fatal("usage text")
	}
}
