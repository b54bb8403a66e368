package revoke

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testclock"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/store"
)

type fakeCognito struct {
	mu    sync.Mutex
	calls []string
	err   error
	block bool
}

func (f *fakeCognito) AdminUserGlobalSignOut(ctx context.Context, in *cip.AdminUserGlobalSignOutInput, _ ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error) {
	f.mu.Lock()
	f.calls = append(f.calls, *in.UserPoolId+"/"+*in.Username)
	err := f.err
	f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &cip.AdminUserGlobalSignOutOutput{}, err
}

// sharedDB is one dynalite for the package; each fixture gets its own table.
var sharedDB testenv.SharedDynalite

func TestMain(m *testing.M) {
	code := m.Run()
	_ = sharedDB.Close()
	os.Exit(code)
}

type fixture struct {
	st    *store.Store
	db    *dynamodb.Client
	table string
	clk   *testclock.Clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dyn := sharedDB.Get(t)
	name := storetest.NewTable(t, dyn)
	clk := testclock.New(time.Now().Truncate(time.Second))
	return &fixture{st: store.New(dyn.Client, name, store.WithClock(clk.Now)), db: dyn.Client, table: name, clk: clk}
}

// items counts every item of the table.
func (f *fixture) items(t *testing.T) int {
	t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(f.db, &dynamodb.ScanInput{TableName: aws.String(f.table), Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += int(out.Count)
	}
	return n
}

func (f *fixture) log(t *testing.T) []store.Revocation {
	t.Helper()
	revs, err := f.st.RevocationsSince(context.Background(), time.Unix(0, 0), f.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	return revs
}

func (f *fixture) revoker(t *testing.T, p Policy, opts ...Option) *Revoker {
	t.Helper()
	r, err := New(f.st, p, append([]Option{WithClock(f.clk.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) session(t *testing.T, id, sub, family string, authTime time.Time) *store.Session {
	t.Helper()
	now := f.clk.Now()
	s := &store.Session{ID: id, Sub: sub, Username: "name-" + sub, ClientID: "c", OriginJTI: family, AuthTime: authTime,
		CreatedAt: now, LastUsedAt: now, AccessExpiresAt: now.Add(5 * time.Minute),
		AbsExpiresAt: now.Add(time.Hour), IdleExpiresAt: now.Add(time.Hour), RefreshHash: make([]byte, 32)}
	if err := f.st.CreateSession(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

var exchangePolicy = Policy{AccessTokenTTL: 5 * time.Minute}

func TestSessionLogsOnlyChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.revoker(t, exchangePolicy)
	now := f.clk.Now()
	f.session(t, "s1", "u1", "fam-1", now.Add(-time.Minute))

	s, err := r.Session(ctx, "s1", ReasonUserSignOut)
	if err != nil || !s.RevokedAt.Equal(now) || s.RevokeReason != ReasonUserSignOut {
		t.Fatalf("%+v %v", s, err)
	}
	log := f.log(t)
	if len(log) != 1 || log[0].Kind != store.RevokeSession || log[0].Value != "s1" ||
		!log[0].Until.Equal(now.Add(5*time.Minute+DefaultLeeway)) {
		t.Fatalf("log %+v", log)
	}
	if ok, err := f.st.FamilyRevoked(ctx, "fam-1"); err != nil || !ok {
		t.Fatalf("family revoked = %v %v", ok, err)
	}
	// Exchange mode logs no family entry: access tokens carry the sid.
	items := f.items(t)
	for i := range 50 {
		f.clk.Add(time.Second)
		reason := ReasonRevokeToken
		if i%2 == 0 {
			reason = ReasonRefreshReuse
		}
		s, err := r.Session(ctx, "s1", reason)
		if err != nil || s.RevokeReason != ReasonUserSignOut || !s.RevokedAt.Equal(now) {
			t.Fatalf("repeat %d: %+v %v", i, s, err)
		}
	}
	if got := f.items(t); got != items {
		t.Fatalf("repeats grew the table from %d to %d items", items, got)
	}
	if _, err := r.Session(ctx, "nope", ReasonAdmin); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing session: %v", err)
	}
}

func TestSessionWithExpiredAccessTokensNeedsNoEntry(t *testing.T) {
	f := newFixture(t)
	r := f.revoker(t, exchangePolicy)
	f.session(t, "s1", "u1", "", f.clk.Now())
	f.clk.Add(5*time.Minute + DefaultLeeway)
	if _, err := r.Session(context.Background(), "s1", ReasonAdmin); err != nil {
		t.Fatal(err)
	}
	if log := f.log(t); len(log) != 0 {
		t.Fatalf("log %+v", log)
	}
}

// flakyLog fails AppendRevocation while fail is set.
type flakyLog struct {
	*store.Store
	mu   sync.Mutex
	fail bool
}

func (s *flakyLog) AppendRevocation(ctx context.Context, r store.Revocation) (store.Revocation, error) {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail {
		return store.Revocation{}, fmt.Errorf("%w: injected", store.ErrUnavailable)
	}
	return s.Store.AppendRevocation(ctx, r)
}

func TestLostLogEntryIsRepaired(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	fl := &flakyLog{Store: f.st, fail: true}
	r, err := New(fl, exchangePolicy, WithClock(f.clk.Now), WithRepairDelay(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	f.session(t, "s1", "u1", "fam-1", f.clk.Now())
	if _, err := r.Session(ctx, "s1", ReasonAdmin); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("first attempt: %v", err)
	}
	fl.mu.Lock()
	fl.fail = false
	fl.mu.Unlock()
	// A retry right away waits for the first attempt to confirm its entry;
	// none comes, so it writes the entry itself before answering.
	start := time.Now()
	if _, err := r.Session(ctx, "s1", ReasonAdmin); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("retry did not wait for the first attempt")
	}
	for range 3 {
		if _, err := r.Session(ctx, "s1", ReasonAdmin); err != nil {
			t.Fatal(err)
		}
	}
	if log := f.log(t); len(log) != 1 || log[0].Value != "s1" {
		t.Fatalf("log after repair %+v", log)
	}
}

// TestConcurrentRepeatsLogOnce: repeats racing the revocation that is
// logging wait for it and write nothing themselves.
func TestConcurrentRepeatsLogOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.revoker(t, exchangePolicy)
	f.session(t, "s1", "u1", "fam-1", f.clk.Now())
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := r.Session(ctx, "s1", ReasonRevokeToken); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if log := f.log(t); len(log) != 1 {
		t.Fatalf("log %+v", log)
	}
}

func TestSessionEndsItsLogin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.revoker(t, exchangePolicy)
	now := f.clk.Now()
	f.session(t, "a", "u1", "fam-1", now)
	f.session(t, "b", "u1", "fam-1", now) // another ID token of the same login
	f.session(t, "c", "u1", "fam-2", now)
	if _, err := r.Session(ctx, "a", ReasonUserSignOut); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"a": true, "b": true, "c": false} {
		s, err := f.st.GetSession(ctx, id)
		if err != nil || s.RevokedAt.IsZero() == want {
			t.Errorf("session %s revoked=%v, want %v (%v)", id, !s.RevokedAt.IsZero(), want, err)
		}
	}
	if s, _ := f.st.GetSession(ctx, "b"); s.RevokeReason != ReasonUserSignOut {
		t.Errorf("sibling reason %q", s.RevokeReason)
	}
	// The session cap ends a session, not its login.
	if _, _, err := r.EndSession(ctx, "c", ReasonSessionLimit); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.st.FamilyRevoked(ctx, "fam-2"); ok {
		t.Error("ending a session revoked its family")
	}
}

func TestDirectModeFamilyEntry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := Policy{AccessTokenTTL: 5 * time.Minute, DirectMaxAge: time.Minute, RefreshTokenValidity: 48 * time.Hour}
	r := f.revoker(t, p)
	now := f.clk.Now()
	changed, err := r.Family(ctx, "fam-d", "", ReasonCognitoEvent)
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	log := f.log(t)
	if len(log) != 1 || log[0].Kind != store.RevokeJTI || log[0].Value != "fam-d" ||
		!log[0].Until.Equal(now.Add(48*time.Hour+time.Minute+DefaultLeeway)) {
		t.Fatalf("log %+v", log)
	}
	items := f.items(t)
	for range 20 {
		if changed, err := r.Family(ctx, "fam-d", "", ReasonCognitoEvent); err != nil || changed {
			t.Fatal(changed, err)
		}
	}
	if f.items(t) != items {
		t.Fatal("family repeats grew the table")
	}
	if got, want := p.MaxEntryLifetime(), 48*time.Hour+time.Minute+DefaultLeeway; got != want {
		t.Errorf("MaxEntryLifetime = %s, want %s", got, want)
	}
	if _, err := r.Family(ctx, "", "", ReasonAdmin); err == nil {
		t.Error("empty family accepted")
	}
}

func TestUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cog := &fakeCognito{}
	r := f.revoker(t, exchangePolicy, WithCognito(cog, "pool"))
	now := f.clk.Now()
	f.session(t, "old", "u1", "fam-old", now.Add(-time.Hour))
	f.session(t, "old-refreshed", "u1", "fam-old", now.Add(time.Second)) // same login, auth_time re-stamped by a refresh
	f.session(t, "other", "u2", "fam-u2", now.Add(-time.Hour))

	res, err := r.User(ctx, UserRequest{Sub: "u1", Reason: ReasonAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if !res.GlobalSignOut || !res.RevokedAt.Equal(now) || len(res.Sessions) != 2 || res.Families != 1 {
		t.Fatalf("%+v", res)
	}
	if len(cog.calls) != 1 || cog.calls[0] != "pool/name-u1" {
		t.Fatalf("cognito calls %v", cog.calls)
	}
	if ok, _ := f.st.FamilyRevoked(ctx, "fam-old"); !ok {
		t.Fatal("the user's login family is not revoked")
	}
	if s, _ := f.st.GetSession(ctx, "old"); s.RevocationLog != store.LogCovered {
		t.Errorf("old session log = %q, want covered by the user entry", s.RevocationLog)
	}
	if s, _ := f.st.GetSession(ctx, "old-refreshed"); s.RevokedAt.IsZero() || s.RevocationLog == store.LogCovered || s.RevocationLog == "" {
		t.Errorf("re-stamped session %+v: want revoked with its own entry", s)
	}
	if s, _ := f.st.GetSession(ctx, "other"); !s.RevokedAt.IsZero() {
		t.Fatal("another user's session revoked")
	}
	var user, sessions int
	for _, e := range f.log(t) {
		switch {
		case e.Kind == store.RevokeUser && e.Value == "u1":
			user++
			if !e.Until.Equal(now.Add(5*time.Minute + DefaultLeeway)) {
				t.Errorf("user entry until %v", e.Until)
			}
		case e.Kind == store.RevokeSession:
			sessions++
		}
	}
	if user != 1 || sessions != 1 {
		t.Fatalf("log: %d user, %d session entries: %+v", user, sessions, f.log(t))
	}

	t.Run("without sessions signs out by sub", func(t *testing.T) {
		cog.calls = nil
		if _, err := r.User(ctx, UserRequest{Sub: "u9", Reason: ReasonAdmin}); err != nil || cog.calls[0] != "pool/u9" {
			t.Fatalf("%v %v", err, cog.calls)
		}
	})
	t.Run("sign-out done elsewhere", func(t *testing.T) {
		cog.calls = nil
		res, err := r.User(ctx, UserRequest{Sub: "u8", Reason: ReasonCognitoEvent, SignOut: SignOutDone})
		if err != nil || len(cog.calls) != 0 || res.GlobalSignOut {
			t.Fatalf("%+v %v %v", res, err, cog.calls)
		}
	})
	t.Run("cognito failure", func(t *testing.T) {
		cog.err = errors.New("boom")
		defer func() { cog.err = nil }()
		f.session(t, "u3-s", "u3", "fam-u3", f.clk.Now().Add(-time.Minute))
		res, err := r.User(ctx, UserRequest{Sub: "u3", Username: "explicit", Reason: ReasonAdmin})
		if !errors.Is(err, ErrGlobalSignOut) || res.RevokedAt.IsZero() || len(res.Sessions) != 1 {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("cognito timeout", func(t *testing.T) {
		r := f.revoker(t, exchangePolicy, WithCognito(&fakeCognito{block: true}, "pool"), WithTimeout(50*time.Millisecond))
		if _, err := r.User(ctx, UserRequest{Sub: "u4"}); !errors.Is(err, ErrGlobalSignOut) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("no pool", func(t *testing.T) {
		if _, err := f.revoker(t, exchangePolicy).User(ctx, UserRequest{Sub: "u5"}); !errors.Is(err, ErrNoUserPool) {
			t.Fatalf("%v", err)
		}
		if at, _ := f.st.UserRevokedAt(ctx, "u5"); !at.IsZero() {
			t.Fatal("refused request changed state")
		}
		if _, err := f.revoker(t, Policy{AccessTokenTTL: time.Minute, NoGlobalSignOut: true}).User(ctx, UserRequest{Sub: "u5"}); err != nil {
			t.Fatalf("opted out of sign-out: %v", err)
		}
	})
}

func TestUserEntryLifetimes(t *testing.T) {
	const ttl, maxAge, validity = 5 * time.Minute, time.Minute, 30 * 24 * time.Hour
	tests := []struct {
		name    string
		p       Policy
		req     SignOut
		failCog bool
		want    []time.Duration
	}{
		{"exchange", Policy{AccessTokenTTL: ttl}, SignOutCognito, false, []time.Duration{ttl + DefaultLeeway}},
		{"exchange without sign-out", Policy{AccessTokenTTL: ttl}, SignOutSkip, false, []time.Duration{ttl + DefaultLeeway}},
		{"direct signed out", Policy{AccessTokenTTL: ttl, DirectMaxAge: maxAge}, SignOutCognito, false, []time.Duration{ttl + DefaultLeeway}},
		{"direct long max age", Policy{AccessTokenTTL: ttl, DirectMaxAge: time.Hour}, SignOutDone, false, []time.Duration{time.Hour + DefaultLeeway}},
		{"direct without sign-out", Policy{AccessTokenTTL: ttl, DirectMaxAge: maxAge}, SignOutSkip, false, []time.Duration{validity + maxAge + DefaultLeeway}},
		{"direct sign-out failed", Policy{AccessTokenTTL: ttl, DirectMaxAge: maxAge}, SignOutCognito, true,
			[]time.Duration{ttl + DefaultLeeway, validity + maxAge + DefaultLeeway}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			cog := &fakeCognito{}
			if tc.failCog {
				cog.err = errors.New("down")
			}
			r := f.revoker(t, tc.p, WithCognito(cog, "pool"))
			now := f.clk.Now()
			_, err := r.User(context.Background(), UserRequest{Sub: "u", SignOut: tc.req})
			if tc.failCog != (err != nil) {
				t.Fatal(err)
			}
			var got []time.Duration
			for _, e := range f.log(t) {
				got = append(got, e.Until.Sub(now))
			}
			slices.Sort(got)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("entry lifetimes %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSessionCap(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.revoker(t, exchangePolicy)
	for i := range 20 {
		id := fmt.Sprintf("s%02d", i)
		f.session(t, id, "u1", "fam-"+id, f.clk.Now())
		f.clk.Add(time.Second)
	}
	// Use the oldest session, so the second oldest becomes the least
	// recently used.
	if _, err := f.st.RotateRefresh(ctx, "s00", make([]byte, 32), []byte("next"), f.clk.Now(), f.clk.Now().Add(time.Hour), f.clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ended, err := r.SessionCap(ctx, "u1", 20, nil); err != nil || len(ended) != 0 {
		t.Fatalf("at the cap: %v %v", ended, err)
	}
	newest := f.session(t, "s20", "u1", "fam-s20", f.clk.Now())
	ended, err := r.SessionCap(ctx, "u1", 20, newest)
	if err != nil || len(ended) != 1 || ended[0] != "s01" {
		t.Fatalf("ended %v %v", ended, err)
	}
	s, _ := f.st.GetSession(ctx, "s01")
	if s.RevokeReason != ReasonSessionLimit {
		t.Fatalf("%+v", s)
	}
	if ok, _ := f.st.FamilyRevoked(ctx, "fam-s01"); ok {
		t.Fatal("the cap revoked a login")
	}
	if _, err := r.SessionCap(ctx, "u1", 0, nil); err == nil {
		t.Fatal("cap 0 accepted")
	}
}

func TestStoreDown(t *testing.T) {
	d := testenv.Dynalite(t)
	st := store.New(d.Client, "t", store.WithTimeout(time.Second))
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	r, err := New(st, Policy{AccessTokenTTL: time.Minute, NoGlobalSignOut: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Session(context.Background(), "s", ReasonAdmin); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("%v", err)
	}
	if _, err := r.User(context.Background(), UserRequest{Sub: "u"}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("%v", err)
	}
}

func TestPolicy(t *testing.T) {
	if _, err := New(&store.Store{}, Policy{}); err == nil {
		t.Error("a policy without access token lifetime accepted")
	}
	if _, err := New(nil, exchangePolicy); err == nil {
		t.Error("nil store accepted")
	}
	p := Policy{AccessTokenTTL: time.Minute}
	if p.MaxEntryLifetime() != time.Minute+DefaultLeeway || p.FamilyLifetime() != DefaultRefreshTokenValidity+MaxIDTokenValidity+DefaultLeeway {
		t.Errorf("%s %s", p.MaxEntryLifetime(), p.FamilyLifetime())
	}
}
