package revoke

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/store"
)

var directPolicy = Policy{AccessTokenTTL: 5 * time.Minute, DirectMaxAge: time.Minute, RefreshTokenValidity: 48 * time.Hour, FamilyLimit: 3}

// longEntries counts the log's family entries that outlive a day: those
// that last the refresh token validity.
func (f *fixture) longEntries(t *testing.T) (long, short int, users []store.Revocation) {
	t.Helper()
	for _, e := range f.log(t) {
		switch {
		case e.Kind == store.RevokeUser:
			users = append(users, e)
		case e.Kind == store.RevokeJTI && e.Until.Sub(e.At) > 24*time.Hour:
			long++
		case e.Kind == store.RevokeJTI:
			short++
		}
	}
	return long, short, users
}

// signOutLoop is the loop a signed-in user can run: log in (a new login
// family), exchange, sign out; turns times.
func (f *fixture) signOutLoop(t *testing.T, r *Revoker, sub string, from, turns int) {
	t.Helper()
	for i := from; i < from+turns; i++ {
		f.clk.Add(time.Second)
		s := f.session(t, fmt.Sprintf("s-%s-%d", sub, i), sub, fmt.Sprintf("fam-%s-%d", sub, i), f.clk.Now())
		if _, err := r.Session(context.Background(), s.ID, ReasonUserSignOut); err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
	}
}

func TestFamilyLimitEscalatesToGlobalSignOut(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cog := &fakeCognito{}
	r := f.revoker(t, directPolicy, WithCognito(cog, "pool"))

	f.signOutLoop(t, r, "u", 0, 3)
	if long, _, users := f.longEntries(t); long != 3 || len(users) != 0 || len(cog.calls) != 0 {
		t.Fatalf("under the limit: %d long entries, users %v, cognito %v", long, users, cog.calls)
	}
	// A live session of another login, for the escalation to end.
	other := f.session(t, "s-u-other", "u", "fam-u-other", f.clk.Now())
	f.signOutLoop(t, r, "u", 3, 5)
	long, short, users := f.longEntries(t)
	if long != 3 {
		t.Fatalf("%d long family entries past the limit, want 3", long)
	}
	// Each turn past the limit: a short family entry, a user revocation
	// dated by it, a Cognito global sign-out; the other login's family
	// once, short.
	if short != 5+1 || len(users) != 5 || len(cog.calls) != 5 || cog.calls[0] != "pool/name-u" {
		t.Fatalf("past the limit: %d short entries, %d user entries, cognito %v", short, len(users), cog.calls)
	}
	for _, u := range users {
		if got, want := u.Until.Sub(u.At), r.UserEntryLifetime(true); got > want {
			t.Errorf("user entry lives %s, want at most %s", got, want)
		}
	}
	if s, err := f.st.GetSession(ctx, other.ID); err != nil || s.RevokedAt.IsZero() || s.RevokeReason != ReasonFamilyLimit {
		t.Fatalf("other session %+v, %v", s, err)
	}
	// Global sign-out is there, so new sessions stay allowed.
	if until, err := r.LoginsRefused(ctx, "u"); err != nil || !until.IsZero() {
		t.Fatalf("logins refused until %s, %v", until, err)
	}
	// Another user is counted apart.
	f.signOutLoop(t, r, "v", 0, 1)
	if long, _, _ := f.longEntries(t); long != 4 {
		t.Fatalf("other user's entry not long: %d", long)
	}
	// Once the counted entries have expired, the count starts over.
	f.clk.Add(directPolicy.RefreshTokenValidity + directPolicy.DirectMaxAge + DefaultLeeway)
	if c, err := f.st.FamilyCount(ctx, "u"); err != nil || c.N != 0 {
		t.Fatalf("count after the window: %+v, %v", c, err)
	}
}

// Concurrent sign-outs at the limit: exactly one more long entry.
func TestFamilyLimitConcurrentSignOuts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cog := &fakeCognito{}
	r := f.revoker(t, directPolicy, WithCognito(cog, "pool"), WithRepairDelay(200*time.Millisecond))
	f.signOutLoop(t, r, "u", 0, 2)
	var ids []string
	for i := range 8 {
		ids = append(ids, f.session(t, fmt.Sprintf("c-%d", i), "u", fmt.Sprintf("fam-c-%d", i), f.clk.Now()).ID)
	}
	f.clk.Add(time.Second)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if _, err := r.Session(ctx, id, ReasonUserSignOut); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if long, _, _ := f.longEntries(t); long != 3 {
		t.Fatalf("%d long family entries, want 3", long)
	}
	if c, err := f.st.FamilyCount(ctx, "u"); err != nil || c.N != 3 {
		t.Fatalf("count %+v, %v", c, err)
	}
	if len(cog.calls) == 0 {
		t.Fatal("no global sign-out")
	}
}

// Without a global sign-out a sign-out is never weakened: the long entry is
// written, and the user's new sessions are refused until the counted
// entries expire.
func TestFamilyLimitWithoutGlobalSignOut(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Policy
		opts func() []Option
		// refusedAtLimit: refused as soon as the limit is reached, not
		// only once an entry went past it.
		refusedAtLimit bool
	}{
		{"sign-out off", func() Policy { p := directPolicy; p.NoGlobalSignOut = true; return p }(),
			func() []Option { return []Option{WithCognito(&fakeCognito{}, "pool")} }, true},
		{"no user pool", directPolicy, func() []Option { return nil }, true},
		{"cognito failing", directPolicy, func() []Option { return []Option{WithCognito(&fakeCognito{err: errors.New("down")}, "pool")} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			r := f.revoker(t, tc.p, tc.opts()...)
			f.signOutLoop(t, r, "u", 0, 2)
			if until, err := r.LoginsRefused(ctx, "u"); err != nil || !until.IsZero() {
				t.Fatalf("under the limit: refused until %s, %v", until, err)
			}
			f.signOutLoop(t, r, "u", 2, 1)
			if until, err := r.LoginsRefused(ctx, "u"); err != nil || until.IsZero() != !tc.refusedAtLimit {
				t.Fatalf("at the limit: refused until %s, %v", until, err)
			}
			f.signOutLoop(t, r, "u", 3, 1) // a session from before the refusal
			long, _, users := f.longEntries(t)
			if long != 4 || len(users) != 0 {
				t.Fatalf("%d long entries, users %v", long, users)
			}
			until, err := r.LoginsRefused(ctx, "u")
			want := f.clk.Now().Add(tc.p.RefreshTokenValidity + tc.p.DirectMaxAge + DefaultLeeway)
			if err != nil || !until.Equal(want) {
				t.Fatalf("refused until %s, want %s (%v)", until, want, err)
			}
			if until, _ := r.LoginsRefused(ctx, "other"); !until.IsZero() {
				t.Fatal("another user refused")
			}
		})
	}
}

func TestFamilyLimitExchangeModeCountsNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := exchangePolicy
	p.FamilyLimit = 1
	cog := &fakeCognito{}
	r := f.revoker(t, p, WithCognito(cog, "pool"))
	f.signOutLoop(t, r, "u", 0, 4)
	if c, err := f.st.FamilyCount(ctx, "u"); err != nil || c.N != 0 {
		t.Fatalf("count %+v, %v", c, err)
	}
	if until, err := r.LoginsRefused(ctx, "u"); err != nil || !until.IsZero() || len(cog.calls) != 0 {
		t.Fatalf("refused until %s, %v, cognito %v", until, err, cog.calls)
	}
	for _, e := range f.log(t) {
		if e.Kind != store.RevokeSession {
			t.Fatalf("entry %+v", e)
		}
	}
}

func TestLoadPolicyFamilyLimit(t *testing.T) {
	env := config.FromMap(map[string]string{})
	if p := LoadPolicy(env); p.FamilyLimit != DefaultFamilyLimit || env.Err() != nil {
		t.Fatalf("default %d, %v", p.FamilyLimit, env.Err())
	}
	env = config.FromMap(map[string]string{"SHORTFUSE_DIRECT_FAMILY_LIMIT": "7"})
	if p := LoadPolicy(env); p.FamilyLimit != 7 || env.Err() != nil {
		t.Fatalf("set %d, %v", p.FamilyLimit, env.Err())
	}
	for _, v := range []string{"0", "10001", "many"} {
		env = config.FromMap(map[string]string{"SHORTFUSE_DIRECT_FAMILY_LIMIT": v})
		LoadPolicy(env)
		if err := env.Err(); err == nil || !strings.Contains(err.Error(), "SHORTFUSE_DIRECT_FAMILY_LIMIT") {
			t.Errorf("%q: %v", v, err)
		}
	}
}
