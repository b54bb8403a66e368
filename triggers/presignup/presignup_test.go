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

	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/triggers/emailaddr"
)

// fakeInvites answers ConsumeInvite from a table keyed by invite ID.
type fakeInvites struct {
	mu     sync.Mutex
	byID   map[string]*store.Invite
	errs   map[string]error
	called []string
}

func (f *fakeInvites) ConsumeInvite(_ context.Context, id string, u store.InviteUse) (*store.Invite, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called = append(f.called, id+" "+u.Email+" "+u.Seat+" "+u.Identity)
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
		{"trailing dot refused", base, signup(SourceSignUp, "ada@example.com.", "", nil, nil), ErrEmailInvalid, resp{}},
		{"full-width letter refused", base, signup(SourceSignUp, "\uff41da@example.com", "", nil, nil), ErrEmailInvalid, resp{}},
		{"denied subdomain", base, signup(SourceSignUp, "a@x.bad.example.org", "", nil, nil), ErrDomainNotAllowed, resp{}},
		{"denied deep subdomain", base, signup(SourceSignUp, "a@y.x.bad.example.org", "", nil, nil), ErrDomainNotAllowed, resp{}},
		{"exact deny leaves subdomains", map[string]string{"SHORTFUSE_SIGNUP_DENIED_DOMAINS": "=apex.test"}, signup(SourceSignUp, "a@x.apex.test", "", nil, nil), nil, resp{}},
		{"exact deny covers apex", map[string]string{"SHORTFUSE_SIGNUP_DENIED_DOMAINS": "=apex.test"}, signup(SourceSignUp, "a@apex.test", "", nil, nil), ErrDomainNotAllowed, resp{}},
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
	ev := func(pool, user, email string) Event {
		e := signup(SourceSignUp, email, "+14155550100", map[string]string{InviteField: "GOOD-GOOD-GOOD-GOOD"}, nil)
		e.UserPoolID, e.UserName = pool, user
		return e
	}
	uses := map[string]store.InviteUse{}
	for name, e := range map[string]Event{
		"base":          ev("pool", "ada", "ada@example.com"),
		"retry":         ev("pool", "ada", "ada@example.com"),
		"case of email": ev("pool", "ada", "Ada@EXAMPLE.com"),
		"user case":     ev("pool", "Ada", "ada@example.com"),
		"other pool":    ev("pool2", "ada", "ada@example.com"),
		"plus tag":      ev("pool", "ada", "ada+x@example.com"),
		"no email":      ev("pool", "ada", ""),
	} {
		inv.called = nil
		if _, err := h.Handle(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		uses[name] = inviteUse(e.UserPoolID, e.UserName, mustParse(e.Request.UserAttributes["email"]))
	}
	base := uses["base"]
	if base.Seat != "email:ada@example.com" || base.Email != "ada@example.com" || !strings.HasPrefix(base.Identity, "id:") || len(base.Identity) != 35 {
		t.Fatalf("base use %+v", base)
	}
	// Only an exact repeat (or a case variant of the address, which is the
	// same address) is the same identity; every variant shares the seat.
	if uses["retry"] != base || uses["case of email"] != base {
		t.Errorf("retry %+v, case of email %+v, want %+v", uses["retry"], uses["case of email"], base)
	}
	for _, name := range []string{"user case", "other pool", "plus tag"} {
		if u := uses[name]; u.Identity == base.Identity || u.Seat != base.Seat {
			t.Errorf("%s: %+v against %+v", name, u, base)
		}
	}
	if u := uses["no email"]; u.Seat != "" || u.Email != "" || u.Identity == base.Identity {
		t.Errorf("no email: %+v", u)
	}
}

func mustParse(s string) emailaddr.Address {
	if s == "" {
		return emailaddr.Address{}
	}
	a, err := emailaddr.Parse(s)
	if err != nil {
		panic(err)
	}
	return a
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
	cfg.Domains.Allowed, _ = ParseDomains("example.com", "*.example.org")
	cfg.Domains.Denied, _ = ParseDomains("bad.example.org")
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
		a, err := emailaddr.Parse(email)
		if err != nil || !cfg.Domains.Permits(a.Domain) {
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
	storetest.CreateTable(t, d, "shortfuse")
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

func (s *stuckInvites) ConsumeInvite(ctx context.Context, _ string, _ store.InviteUse) (*store.Invite, error) {
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
// (U+212A KELVIN SIGN into "k", U+0130 into "i"). Such an address must
// neither pass the domain rules of the ASCII domain nor reach an invite:
// it is refused.
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
	if !errors.Is(err, ErrEmailInvalid) || len(inv.called) != 0 {
		t.Fatalf("U+0130 in the local part: %+v %v, invite calls %q", out.Response, err, inv.called)
	}
	if got, err := NormalizeEmail("Ada@Example.COM"); err != nil || got != "ada@example.com" {
		t.Errorf("NormalizeEmail = %q, %v", got, err)
	}
	for _, in := range []string{"a@wor\u212A.test", "\u00C9va@example.com", "a@example.com."} {
		if got, err := NormalizeEmail(in); err == nil {
			t.Errorf("NormalizeEmail(%q) accepted as %q", in, got)
		}
	}
}

// Cognito retries a trigger that failed or timed out with the same event:
// the retry is admitted without a second use, while every other identity
// (user name case, another pool, another tag) is refused.
func TestInviteRetryOnDynalite(t *testing.T) {
	d := testenv.Dynalite(t)
	ctx := context.Background()
	storetest.CreateTable(t, d, "shortfuse")
	st := store.New(d.Client, "shortfuse")
	id := code("RTRY-RTRY-RTRY-RTRY")
	if err := st.CreateInvite(ctx, &store.Invite{ID: id, MaxUses: 1, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	h := New(Config{AutoConfirmInvited: true, External: "allow"}, st, 0, nil)
	ev := func(pool, user, email string) Event {
		e := signup(SourceSignUp, email, "", nil, map[string]string{InviteField: "rtry-rtry-rtry-rtry"})
		e.UserPoolID, e.UserName = pool, user
		return e
	}
	for _, c := range []struct {
		name string
		ev   Event
		want error
	}{
		{"first", ev("eu-west-1_A", "ann@ok.test", "ann@ok.test"), nil},
		{"retry", ev("eu-west-1_A", "ann@ok.test", "ann@ok.test"), nil},
		{"retry, address case", ev("eu-west-1_A", "ann@ok.test", "Ann@OK.test"), nil},
		{"user name case", ev("eu-west-1_A", "Ann@ok.test", "ann@ok.test"), ErrInviteUsedUp},
		{"other pool", ev("eu-west-1_B", "ann@ok.test", "ann@ok.test"), ErrInviteUsedUp},
		{"plus tag", ev("eu-west-1_A", "ann+x@ok.test", "ann+x@ok.test"), ErrInviteUsedUp},
		{"other person", ev("eu-west-1_A", "bea@ok.test", "bea@ok.test"), ErrInviteUsedUp},
		{"retry again", ev("eu-west-1_A", "ann@ok.test", "ann@ok.test"), nil},
	} {
		out, err := h.Handle(ctx, c.ev)
		if !errors.Is(err, c.want) || err == nil && !out.Response.AutoConfirmUser {
			t.Errorf("%s: %+v %v, want %v", c.name, out.Response, err, c.want)
		}
	}
	inv, err := st.GetInvite(ctx, id)
	if err != nil || inv.UsesLeft != 0 || len(inv.UsedBy) != 2 {
		t.Fatalf("invite %+v %v", inv, err)
	}
}
