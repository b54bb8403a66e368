package presignup

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/shared/testenv"
)

// fakeInvites answers ConsumeInvite from a table keyed by invite ID.
type fakeInvites struct {
	mu     sync.Mutex
	byID   map[string]*store.Invite
	errs   map[string]error
	called []string
}

func (f *fakeInvites) ConsumeInvite(_ context.Context, id, email, who string) (*store.Invite, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called = append(f.called, id+" "+email+" "+who)
	if err := f.errs[id]; err != nil {
		return nil, err
	}
	inv, ok := f.byID[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	return inv, nil
}

func code(s string) string {
	n, ok := NormalizeInviteCode(s)
	if !ok {
		panic(s)
	}
	return InviteID(n)
}

func policy(t *testing.T, vars map[string]string) Config {
	t.Helper()
	env := config.FromMap(vars)
	c := LoadConfig(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	return c
}

func signup(source, email, phone string, validation, meta map[string]string) Event {
	var ev Event
	ev.TriggerSource = source
	ev.UserName = "u-123"
	ev.Request.UserAttributes = map[string]string{}
	if email != "" {
		ev.Request.UserAttributes["email"] = email
	}
	if phone != "" {
		ev.Request.UserAttributes["phone_number"] = phone
	}
	ev.Request.ValidationData = validation
	ev.Request.ClientMetadata = meta
	return ev
}

func TestPolicy(t *testing.T) {
	inv := &fakeInvites{
		byID: map[string]*store.Invite{
			code("GOOD-GOOD-GOOD-GOOD"): {UsesLeft: 0, MaxUses: 1},
			code("B0ND-B0ND-B0ND-B0ND"): {Email: "ada@example.com"},
		},
		errs: map[string]error{
			code("W5ED-W5ED-W5ED-W5ED"): store.ErrInviteUsedUp,
			code("EXPD-EXPD-EXPD-EXPD"): store.ErrInviteExpired,
			code("REVK-REVK-REVK-REVK"): store.ErrInviteRevoked,
			code("MAIL-MAIL-MAIL-MAIL"): store.ErrInviteEmail,
			code("DOWN-DOWN-DOWN-DOWN"): store.ErrUnavailable,
		},
	}
	base := map[string]string{
		"SHORTFUSE_SIGNUP_ALLOWED_DOMAINS":     "example.com,*.example.org,trusted.test,sso.test",
		"SHORTFUSE_SIGNUP_DENIED_DOMAINS":      "bad.example.org",
		"SHORTFUSE_SIGNUP_AUTOCONFIRM_DOMAINS": "trusted.test",
		"SHORTFUSE_SIGNUP_AUTOVERIFY_DOMAINS":  "sso.test",
		"SHORTFUSE_SIGNUP_PHONE_PREFIXES":      "+1,+44",
	}
	invitesOnly := map[string]string{"SHORTFUSE_SIGNUP_INVITE_REQUIRED": "true"}
	type resp = events.CognitoEventUserPoolsPreSignupResponse
	for _, tc := range []struct {
		name string
		vars map[string]string
		ev   Event
		want error
		resp resp
	}{
		{"allowed exact", base, signup(SourceSignUp, "ada@example.com", "", nil, nil), nil, resp{}},
		{"allowed case-insensitive", base, signup(SourceSignUp, "Ada@EXAMPLE.com", "", nil, nil), nil, resp{}},
		{"allowed subdomain", base, signup(SourceSignUp, "a@eu.example.org", "", nil, nil), nil, resp{}},
		{"apex of subdomain rule", base, signup(SourceSignUp, "a@example.org", "", nil, nil), ErrDomainNotAllowed, resp{}},
		{"exact rule has no subdomains", base, signup(SourceSignUp, "a@eu.example.com", "", nil, nil), ErrDomainNotAllowed, resp{}},
		{"lookalike suffix", base, signup(SourceSignUp, "a@notexample.com", "", nil, nil), ErrDomainNotAllowed, resp{}},
		{"deny wins", base, signup(SourceSignUp, "a@bad.example.org", "", nil, nil), ErrDomainNotAllowed, resp{}},
		{"not allowed", base, signup(SourceSignUp, "a@gmail.com", "", nil, nil), ErrDomainNotAllowed, resp{}},
		{"email required by allow list", base, signup(SourceSignUp, "", "+14155550100", nil, nil), ErrEmailRequired, resp{}},
		{"bad email", base, signup(SourceSignUp, "ada@@example.com", "", nil, nil), ErrEmailInvalid, resp{}},
		{"display name", base, signup(SourceSignUp, "Ada <ada@example.com>", "", nil, nil), ErrEmailInvalid, resp{}},
		{"unicode domain", base, signup(SourceSignUp, "a@exämple.com", "", nil, nil), ErrEmailInvalid, resp{}},
		{"auto-confirm domain", base, signup(SourceSignUp, "a@trusted.test", "", nil, nil), nil, resp{AutoConfirmUser: true}},
		{"auto-verify domain", base, signup(SourceSignUp, "a@sso.test", "", nil, nil), nil, resp{AutoConfirmUser: true, AutoVerifyEmail: true}},
		{"phone ok", base, signup(SourceSignUp, "a@example.com", "+14155550100", nil, nil), nil, resp{}},
		{"phone not e164", base, signup(SourceSignUp, "a@example.com", "4155550100", nil, nil), ErrPhoneInvalid, resp{}},
		{"phone with spaces", base, signup(SourceSignUp, "a@example.com", "+1 415 555 0100", nil, nil), ErrPhoneInvalid, resp{}},
		{"phone leading zero", base, signup(SourceSignUp, "a@example.com", "+04155550100", nil, nil), ErrPhoneInvalid, resp{}},
		{"phone too long", base, signup(SourceSignUp, "a@example.com", "+1234567890123456", nil, nil), ErrPhoneInvalid, resp{}},
		{"phone prefix", base, signup(SourceSignUp, "a@example.com", "+4930123456", nil, nil), ErrPhoneNotAllowed, resp{}},
		{"admin create from denied domain", base, signup(SourceAdminCreateUser, "a@bad.example.org", "", nil, nil), ErrDomainNotAllowed, resp{}},
		{"admin create verified domain", base, signup(SourceAdminCreateUser, "a@sso.test", "", nil, nil), nil, resp{AutoVerifyEmail: true}},
		{"external allowed", base, signup(SourceExternal, "a@example.com", "", nil, nil), nil, resp{}},
		{"external denied domain", base, signup(SourceExternal, "a@gmail.com", "", nil, nil), ErrDomainNotAllowed, resp{}},
		{"unknown source", base, signup("PreSignUp_Other", "a@example.com", "", nil, nil), ErrSourceUnknown, resp{}},
		{"no rules", nil, signup(SourceSignUp, "a@anything.test", "", nil, nil), nil, resp{}},

		{"invite required, none", invitesOnly, signup(SourceSignUp, "a@x.test", "", nil, nil), ErrInviteRequired, resp{}},
		{"invite in validation data", invitesOnly, signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "good-good-good-good"}, nil), nil, resp{AutoConfirmUser: true}},
		{"invite in client metadata", invitesOnly, signup(SourceSignUp, "a@x.test", "", nil, map[string]string{InviteField: "GOODGOODGOODGOOD"}), nil, resp{AutoConfirmUser: true}},
		{"bound invite verifies email", invitesOnly, signup(SourceSignUp, "Ada@Example.com", "", map[string]string{InviteField: "b0nd-bond-B0ND-B0ND"}, nil), nil, resp{AutoConfirmUser: true, AutoVerifyEmail: true}},
		{"invite garbage", invitesOnly, signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "<script>"}, nil), ErrInviteInvalid, resp{}},
		{"invite unknown", invitesOnly, signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "NOPE-NOPE-NOPE-NOPE"}, nil), ErrInviteInvalid, resp{}},
		{"invite used", invitesOnly, signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "W5ED-W5ED-W5ED-W5ED"}, nil), ErrInviteUsedUp, resp{}},
		{"invite expired", invitesOnly, signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "EXPD-EXPD-EXPD-EXPD"}, nil), ErrInviteExpired, resp{}},
		{"invite revoked", invitesOnly, signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "REVK-REVK-REVK-REVK"}, nil), ErrInviteInvalid, resp{}},
		{"invite other email", invitesOnly, signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "MAIL-MAIL-MAIL-MAIL"}, nil), ErrInviteEmail, resp{}},
		{"invite store down", invitesOnly, signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "DOWN-DOWN-DOWN-DOWN"}, nil), ErrUnavailable, resp{}},
		{"invite checked when optional", nil, signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "W5ED-W5ED-W5ED-W5ED"}, nil), ErrInviteUsedUp, resp{}},
		{"invited, auto-confirm off", map[string]string{"SHORTFUSE_SIGNUP_AUTOCONFIRM_INVITED": "false"}, signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "GOOD-GOOD-GOOD-GOOD"}, nil), nil, resp{}},
		{"external denied when invites required", invitesOnly, signup(SourceExternal, "a@x.test", "", nil, nil), ErrExternalDenied, resp{}},
		{"external explicitly allowed", map[string]string{"SHORTFUSE_SIGNUP_INVITE_REQUIRED": "true", "SHORTFUSE_SIGNUP_EXTERNAL": "allow"}, signup(SourceExternal, "a@x.test", "", nil, nil), nil, resp{}},
		{"admin create needs no invite", invitesOnly, signup(SourceAdminCreateUser, "a@x.test", "", nil, nil), nil, resp{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := New(policy(t, tc.vars), inv, 0, nil)
			out, err := h.Handle(context.Background(), tc.ev)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if err == nil && out.Response != tc.resp {
				t.Fatalf("response %+v, want %+v", out.Response, tc.resp)
			}
		})
	}
}

func TestInviteIdentity(t *testing.T) {
	inv := &fakeInvites{byID: map[string]*store.Invite{code("GOOD-GOOD-GOOD-GOOD"): {}}}
	h := New(Config{}, inv, 0, nil)
	for _, ev := range []Event{
		signup(SourceSignUp, "Ada@Example.COM", "", map[string]string{InviteField: "GOOD-GOOD-GOOD-GOOD"}, nil),
		signup(SourceSignUp, "", "+14155550100", map[string]string{InviteField: "GOOD-GOOD-GOOD-GOOD"}, nil),
	} {
		if _, err := h.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	id := code("GOOD-GOOD-GOOD-GOOD")
	want := []string{id + " ada@example.com ada@example.com", id + "  user:u-123"}
	if strings.Join(inv.called, "|") != strings.Join(want, "|") {
		t.Fatalf("calls %q, want %q", inv.called, want)
	}
}

func TestInviteCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := NewInviteCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 19 || c[4] != '-' || seen[c] {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
		n, ok := NormalizeInviteCode(strings.ToLower(c))
		if !ok || n != strings.ReplaceAll(c, "-", "") {
			t.Fatalf("normalize %q = %q %v", c, n, ok)
		}
		if InviteID(n)[:12] != obs.TokenID(n) {
			t.Fatal("InviteID prefix is not the TokenID")
		}
	}
	for in, want := range map[string]string{
		"abcd efgh":         "ABCDEFGH",
		"oIlL-0000":         "01110000",
		"ABCD-EFGH-JKMN-PQ": "ABCDEFGHJKMNPQ",
	} {
		if got, ok := NormalizeInviteCode(in); !ok || got != want {
			t.Errorf("NormalizeInviteCode(%q) = %q, %v", in, got, ok)
		}
	}
	for _, bad := range []string{"", "short", "ABCD-EFGH-ÄÖÜ0", "ABCDEFGU", strings.Repeat("A", 65), "abc\x00defgh"} {
		if _, ok := NormalizeInviteCode(bad); ok {
			t.Errorf("NormalizeInviteCode(%q) accepted", bad)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"bad domain":   {"SHORTFUSE_SIGNUP_ALLOWED_DOMAINS": "example.com,not a domain"},
		"wildcard mid": {"SHORTFUSE_SIGNUP_DENIED_DOMAINS": "a.*.com"},
		"single label": {"SHORTFUSE_SIGNUP_AUTOCONFIRM_DOMAINS": "localhost"},
		"bad prefix":   {"SHORTFUSE_SIGNUP_PHONE_PREFIXES": "44"},
		"bad external": {"SHORTFUSE_SIGNUP_EXTERNAL": "maybe"},
		"bad bool":     {"SHORTFUSE_SIGNUP_INVITE_REQUIRED": "yes please"},
	} {
		env := config.FromMap(vars)
		LoadConfig(env)
		err := env.Err()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for k := range vars {
			if !strings.Contains(err.Error(), k) {
				t.Errorf("%s: error %q does not name %s", name, err, k)
			}
		}
	}
}

func TestFixtures(t *testing.T) {
	inv := &fakeInvites{byID: map[string]*store.Invite{code("ABCD-EFGH-JKMN-PQRS"): {}}}
	h := lambda.NewHandler(New(policy(t, map[string]string{"SHORTFUSE_SIGNUP_ALLOWED_DOMAINS": "example.com"}), inv, 0, nil).Handle)
	for file, want := range map[string]events.CognitoEventUserPoolsPreSignupResponse{
		"testdata/cognito-local-signup.json": {AutoConfirmUser: true},
		"testdata/cognito-external.json":     {},
	} {
		in, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out, err := h.Invoke(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var ev Event
		if err := json.Unmarshal(out, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Response != want {
			t.Errorf("%s: %+v", file, ev.Response)
		}
	}
}

func FuzzHandle(f *testing.F) {
	inv := &fakeInvites{byID: map[string]*store.Invite{code("ABCD-EFGH-JKMN-PQRS"): {Email: "ada@example.com"}}}
	cfg := Config{InviteRequired: true, AutoConfirmInvited: true, External: "deny"}
	cfg.Allowed, _ = ParseDomains("example.com", "*.example.org")
	cfg.Denied, _ = ParseDomains("bad.example.org")
	h := lambda.NewHandler(New(cfg, inv, 0, nil).Handle)
	for _, file := range []string{"testdata/cognito-local-signup.json", "testdata/cognito-external.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"triggerSource":"PreSignUp_SignUp","request":{"userAttributes":{"email":"a@bad.example.org"},"validationData":{"invite_code":"ABCDEFGHJKMNPQRS"}}}`))
	f.Add([]byte(`{"triggerSource":"PreSignUp_SignUp","request":{"userAttributes":{"email":1}}}`))
	f.Add([]byte(`{"triggerSource":"PreSignUp_AdminCreateUser","request":{"userAttributes":{"phone_number":"+1"}},"response":{"autoConfirmUser":true}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := h.Invoke(context.Background(), in)
		if err != nil {
			return
		}
		var ev Event
		if err := json.Unmarshal(out, &ev); err != nil {
			t.Fatalf("reply is not an event: %v", err)
		}
		// Accepted: the email, if any, passes the lists, and a self-service
		// sign-up came with the invite.
		email := ev.Request.UserAttributes["email"]
		_, dom, err := splitEmail(email)
		if err != nil || !cfg.Allowed.match(dom) || cfg.Denied.match(dom) {
			t.Fatalf("accepted email %q", email)
		}
		if ev.TriggerSource == SourceExternal {
			t.Fatal("accepted an external sign-up")
		}
		if ev.TriggerSource == SourceSignUp && ev.Request.ValidationData[InviteField] == "" && ev.Request.ClientMetadata[InviteField] == "" {
			t.Fatal("accepted a sign-up without invite")
		}
		if ev.Response.AutoVerifyEmail && !strings.EqualFold(email, "ada@example.com") {
			t.Fatalf("verified %q", email)
		}
	})
}

// With DynamoDB gone, a sign-up with an invite fails fast with a clear,
// temporary error, well inside Cognito's 5 s.
func TestInviteStoreDown(t *testing.T) {
	d := testenv.Dynalite(t)
	ctx := context.Background()
	if err := store.CreateTable(ctx, d.Client, "shortfuse"); err != nil {
		t.Fatal(err)
	}
	h, err := FromEnv(ctx, config.FromMap(map[string]string{
		"SHORTFUSE_TABLE":             "shortfuse",
		"SHORTFUSE_DYNAMODB_ENDPOINT": d.Endpoint,
		"SHORTFUSE_AWS_REGION":        "us-east-1",
		"SHORTFUSE_TRIGGER_TIMEOUT":   "2s",
		"SHORTFUSE_DYNAMODB_TIMEOUT":  "500ms",
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err = h.Handle(ctx, signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "ABCD-EFGH-JKMN-PQRS"}, nil))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v", err)
	}
}

// stuckInvites never answers: it waits for its context and records what
// the context had left when the call began (-1 without a deadline).
type stuckInvites struct{ left []time.Duration }

func (s *stuckInvites) ConsumeInvite(ctx context.Context, _, _, _ string) (*store.Invite, error) {
	left := time.Duration(-1)
	if dl, ok := ctx.Deadline(); ok {
		left = time.Until(dl)
	}
	s.left = append(s.left, left)
	<-ctx.Done()
	return nil, errors.Join(store.ErrUnavailable, ctx.Err())
}

// A store that does not answer cannot hold the trigger past its budget:
// the call has the invocation's deadline and its failure is a clear,
// temporary error.
func TestBudgetBoundsStuckStore(t *testing.T) {
	const budget = 100 * time.Millisecond
	inv := &stuckInvites{}
	h := New(Config{AutoConfirmInvited: true, External: "allow"}, inv, budget, nil)
	_, err := h.Handle(context.Background(), signup(SourceSignUp, "a@x.test", "", map[string]string{InviteField: "ABCD-EFGH-JKMN-PQRS"}, nil))
	var e *Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &e) || !e.Temporary {
		t.Fatalf("err %v", err)
	}
	if len(inv.left) != 1 || inv.left[0] < 0 || inv.left[0] > budget {
		t.Fatalf("store call had %v left, want a deadline within %s", inv.left, budget)
	}
}

// Unicode case mapping turns some non-ASCII letters into ASCII ones
// (U+212A KELVIN SIGN into "k", U+0130 into "i"). Such an address is not
// the ASCII one: it must neither pass the domain rules of the ASCII domain
// nor match the address an invite is bound to.
func TestEmailFoldsASCIIOnly(t *testing.T) {
	vars := map[string]string{
		"SHORTFUSE_SIGNUP_ALLOWED_DOMAINS":    "work.test,x.test",
		"SHORTFUSE_SIGNUP_AUTOVERIFY_DOMAINS": "work.test",
	}
	inv := &fakeInvites{byID: map[string]*store.Invite{code("B0ND-B0ND-B0ND-B0ND"): {Email: "alice@x.test"}}}
	h := New(policy(t, vars), inv, 0, nil)

	out, err := h.Handle(context.Background(), signup(SourceSignUp, "ceo@wor\u212A.test", "", nil, nil))
	if !errors.Is(err, ErrEmailInvalid) {
		t.Fatalf("kelvin-sign domain: %+v %v, want %v", out.Response, err, ErrEmailInvalid)
	}
	out, err = h.Handle(context.Background(), signup(SourceSignUp, "al\u0130ce@x.test", "", map[string]string{InviteField: "B0ND-B0ND-B0ND-B0ND"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if out.Response.AutoVerifyEmail {
		t.Fatal("address with U+0130 verified as the invite's bound address")
	}
	if want := code("B0ND-B0ND-B0ND-B0ND") + " al\u0130ce@x.test al\u0130ce@x.test"; len(inv.called) != 1 || inv.called[0] != want {
		t.Fatalf("ConsumeInvite calls %q, want %q", inv.called, want)
	}
	for in, want := range map[string]string{
		"Ada@Example.COM":      "ada@example.com",
		"\u00C9va@example.com": "\u00C9va@example.com",
		"al\u0130ce@x.test":    "al\u0130ce@x.test",
	} {
		if got, err := NormalizeEmail(in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := NormalizeEmail("a@wor\u212A.test"); err == nil {
		t.Errorf("NormalizeEmail accepted a non-ASCII domain as %q", got)
	}
}
