package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/internal/dev/testclock"
)

// testBudget leaves the per-challenge limit in charge.
var testBudget = AttemptBudget{Attempts: 10, Window: time.Hour}

func newChallenge(k, id string, now time.Time) *Challenge {
	return &Challenge{Key: k, ID: id, CodeMAC: []byte("mac-" + id), MaxAttempts: 3, SentAt: now, ExpiresAt: now.Add(10 * time.Minute)}
}

func TestIssueChallengePacing(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	s, _ := newTestStore(t, WithClock(clock.Now))
	const k = "user0000key"
	c1, issued, err := s.IssueChallenge(ctx, newChallenge(k, "first0001", clock.Now()), time.Minute, testBudget)
	if err != nil || !issued || c1.ID != "first0001" {
		t.Fatalf("first: %+v %v %v", c1, issued, err)
	}
	clock.Add(30 * time.Second)
	cur, issued, err := s.IssueChallenge(ctx, newChallenge(k, "second001", clock.Now()), time.Minute, testBudget)
	if err != nil || issued || cur.ID != "first0001" || string(cur.CodeMAC) != "mac-first0001" {
		t.Fatalf("within interval: %+v %v %v", cur, issued, err)
	}
	clock.Add(30 * time.Second)
	cur, issued, err = s.IssueChallenge(ctx, newChallenge(k, "third0001", clock.Now()), time.Minute, testBudget)
	if err != nil || !issued || cur.ID != "third0001" {
		t.Fatalf("after interval: %+v %v %v", cur, issued, err)
	}
	// A used challenge does not hold back the next one.
	if err := s.UseChallenge(ctx, k, "third0001", clock.Now()); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Second)
	if _, issued, err = s.IssueChallenge(ctx, newChallenge(k, "fourth001", clock.Now()), time.Minute, testBudget); err != nil || !issued {
		t.Fatalf("after use: %v %v", issued, err)
	}
	// Deleting the current challenge lets the next one through at once;
	// deleting a replaced one changes nothing.
	if err := s.DeleteChallenge(ctx, k, "third0001"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetChallenge(ctx, k); err != nil || got.ID != "fourth001" {
		t.Fatalf("after stale delete: %+v %v", got, err)
	}
	if err := s.DeleteChallenge(ctx, k, "fourth001"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetChallenge(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, issued, err = s.IssueChallenge(ctx, newChallenge(k, "fifth0001", clock.Now()), time.Minute, testBudget); err != nil || !issued {
		t.Fatalf("after delete issue: %v %v", issued, err)
	}
}

func TestAttemptChallenge(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	s, _ := newTestStore(t, WithClock(clock.Now))
	const k = "user0001key"
	if _, _, err := s.IssueChallenge(ctx, newChallenge(k, "chal00001", clock.Now()), 0, testBudget); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AttemptChallenge(ctx, k, "otherid01", clock.Now(), testBudget); !errors.Is(err, ErrConflict) {
		t.Fatalf("wrong id: %v", err)
	}
	for i := 1; i <= 3; i++ {
		c, err := s.AttemptChallenge(ctx, k, "chal00001", clock.Now(), testBudget)
		if err != nil || c.Attempts != i || string(c.CodeMAC) != "mac-chal00001" {
			t.Fatalf("attempt %d: %+v %v", i, c, err)
		}
	}
	if _, err := s.AttemptChallenge(ctx, k, "chal00001", clock.Now(), testBudget); !errors.Is(err, ErrConflict) {
		t.Fatalf("fourth attempt: %v", err)
	}
	// A link still works after the code attempts ran out.
	if err := s.UseChallenge(ctx, k, "chal00001", clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.UseChallenge(ctx, k, "chal00001", clock.Now()); !errors.Is(err, ErrConflict) {
		t.Fatalf("second use: %v", err)
	}

	if _, _, err := s.IssueChallenge(ctx, newChallenge(k, "chal00002", clock.Now()), 0, testBudget); err != nil {
		t.Fatal(err)
	}
	clock.Add(10 * time.Minute)
	if _, err := s.AttemptChallenge(ctx, k, "chal00002", clock.Now(), testBudget); !errors.Is(err, ErrConflict) {
		t.Fatalf("expired attempt: %v", err)
	}
	if err := s.UseChallenge(ctx, k, "chal00002", clock.Now()); !errors.Is(err, ErrConflict) {
		t.Fatalf("expired use: %v", err)
	}
	if _, err := s.AttemptChallenge(ctx, "nobody000", "chal00002", clock.Now(), testBudget); !errors.Is(err, ErrConflict) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := s.GetChallenge(ctx, "bad key!"); err == nil {
		t.Fatal("bad key accepted")
	}
}

func TestUseChallengeRace(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	now := time.Now()
	const k = "user0002key"
	if _, _, err := s.IssueChallenge(ctx, newChallenge(k, "race00001", now), 0, testBudget); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.UseChallenge(ctx, k, "race00001", now)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, ErrConflict):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d uses succeeded", wins.Load())
	}
}

func TestIssueChallengeRace(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	now := time.Now()
	const k = "user0003key"
	var issued atomic.Int32
	var wg sync.WaitGroup
	ids := []string{"raceid001", "raceid002", "raceid003", "raceid004", "raceid005", "raceid006"}
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.IssueChallenge(ctx, newChallenge(k, id, now), time.Minute, testBudget)
			if err != nil {
				t.Error(err)
			}
			if ok {
				issued.Add(1)
			}
		}()
	}
	wg.Wait()
	if issued.Load() != 1 {
		t.Fatalf("%d challenges issued within one interval", issued.Load())
	}
}

// The attempt ceiling spans every code issued within the window: reaching
// it over several codes slows new codes to one per SlowInterval until the
// window has passed, while a live code keeps its own attempts; a new window
// starts with the next code after that.
func TestAttemptCeilingAcrossReissues(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	s, _ := newTestStore(t, WithClock(clock.Now))
	const k = "user0004key"
	budget := AttemptBudget{Attempts: 7, Window: time.Hour, SlowInterval: 15 * time.Minute}
	start := clock.Now()
	attempt := func(id string) error {
		_, err := s.AttemptChallenge(ctx, k, id, clock.Now(), budget)
		return err
	}
	// Three codes, a minute apart, each tried to its own limit: 3 + 3 + 3
	// attempts, past the ceiling of 7; none refused.
	ids := []string{"budget001", "budget002", "budget003"}
	for i, id := range ids {
		c, issued, err := s.IssueChallenge(ctx, newChallenge(k, id, clock.Now()), time.Minute, budget)
		if err != nil || !issued || c.ID != id {
			t.Fatalf("issue %s: %+v %v %v", id, c, issued, err)
		}
		if c.WindowAttempts != 3*i || !c.WindowStart.Equal(start) {
			t.Fatalf("issue %s: window %s with %d attempts, want %s with %d", id, c.WindowStart, c.WindowAttempts, start, 3*i)
		}
		if i == len(ids)-1 {
			break // the last one stays live, with its attempts, for later
		}
		for j := range 3 {
			if err := attempt(id); err != nil {
				t.Fatalf("%s attempt %d: %v", id, j+1, err)
			}
		}
		clock.Add(time.Minute)
	}
	// Past the ceiling (6 + 1 = 7), the live code still takes its attempts.
	for j := range 3 {
		if err := attempt("budget003"); err != nil {
			t.Fatalf("attempt %d past the ceiling: %v", j+1, err)
		}
	}
	if err := attempt("budget003"); !errors.Is(err, ErrConflict) {
		t.Fatalf("attempt past the code's own limit: %v", err)
	}
	cur, err := s.GetChallenge(ctx, k)
	if err != nil || cur.ID != "budget003" || cur.Attempts != 3 || cur.WindowAttempts != 9 {
		t.Fatalf("after the code's attempts: %+v %v", cur, err)
	}
	// No new code within the slow interval, even with the code spent or
	// expired; one right after it.
	sent := clock.Now()
	for _, at := range []time.Time{sent, sent.Add(5 * time.Minute), sent.Add(budget.SlowInterval - time.Second)} {
		clock.Set(at)
		cur, issued, err := s.IssueChallenge(ctx, newChallenge(k, "slowed001", clock.Now()), time.Minute, budget)
		if !errors.Is(err, ErrSlowed) || issued || cur == nil || cur.ID != "budget003" {
			t.Fatalf("issue at +%s past the ceiling: %+v %v %v", at.Sub(sent), cur, issued, err)
		}
	}
	clock.Set(sent.Add(budget.SlowInterval))
	c, issued, err := s.IssueChallenge(ctx, newChallenge(k, "slowed002", clock.Now()), time.Minute, budget)
	if err != nil || !issued || c.WindowAttempts != 9 || !c.WindowStart.Equal(start) {
		t.Fatalf("issue after the slow interval: %+v %v %v", c, issued, err)
	}
	if err := attempt("slowed002"); err != nil {
		t.Fatalf("attempt on the slowed code: %v", err)
	}
	// Once the window has passed, the next code starts a new one at the
	// usual pace.
	clock.Set(start.Add(budget.Window))
	c, issued, err = s.IssueChallenge(ctx, newChallenge(k, "fresh0001", clock.Now()), time.Minute, budget)
	if err != nil || !issued || c.WindowAttempts != 0 || !c.WindowStart.Equal(clock.Now()) {
		t.Fatalf("issue after the window: %+v %v %v", c, issued, err)
	}
	if err := attempt("fresh0001"); err != nil {
		t.Fatalf("attempt in the new window: %v", err)
	}
}

// Counters reset with the first code after the window, spent or not; a
// dropped challenge keeps them; challenges stored before the window existed
// start one on their first attempt.
func TestAttemptBudgetReset(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	s, _ := newTestStore(t, WithClock(clock.Now))
	const k = "user0005key"
	budget := AttemptBudget{Attempts: 3, Window: 10 * time.Minute, SlowInterval: 5 * time.Minute}
	if _, _, err := s.IssueChallenge(ctx, newChallenge(k, "reset0001", clock.Now()), 0, budget); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.AttemptChallenge(ctx, k, "reset0001", clock.Now(), budget); err != nil {
			t.Fatal(err)
		}
	}
	// A challenge dropped because its mail failed gives no attempts back.
	if _, _, err := s.IssueChallenge(ctx, newChallenge(k, "reset0002", clock.Now()), 0, budget); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteChallenge(ctx, k, "reset0002"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetChallenge(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dropped challenge: %v", err)
	}
	c, issued, err := s.IssueChallenge(ctx, newChallenge(k, "reset0003", clock.Now()), 0, budget)
	if err != nil || !issued || c.WindowAttempts != 2 {
		t.Fatalf("issue after a drop: %+v %v %v", c, issued, err)
	}
	if _, err := s.AttemptChallenge(ctx, k, "reset0003", clock.Now(), budget); err != nil {
		t.Fatal(err)
	}
	// At the ceiling with the challenge dropped (its mail failed): the next
	// one may go out, since nothing was sent.
	if err := s.DeleteChallenge(ctx, k, "reset0003"); err != nil {
		t.Fatal(err)
	}
	if _, issued, err := s.IssueChallenge(ctx, newChallenge(k, "reset0004", clock.Now()), 0, budget); err != nil || !issued {
		t.Fatalf("issue at the ceiling after a drop: %v %v", issued, err)
	}
	if cur, issued, err := s.IssueChallenge(ctx, newChallenge(k, "reset0041", clock.Now()), 0, budget); !errors.Is(err, ErrSlowed) || issued || cur == nil {
		t.Fatalf("issue at the ceiling: %+v %v %v", cur, issued, err)
	}
	clock.Add(budget.Window)
	c, issued, err = s.IssueChallenge(ctx, newChallenge(k, "reset0005", clock.Now()), 0, budget)
	if err != nil || !issued || c.WindowAttempts != 0 || !c.WindowStart.Equal(clock.Now()) {
		t.Fatalf("issue after the window: %+v %v %v", c, issued, err)
	}
	// A window with attempts left resets too.
	if _, err := s.AttemptChallenge(ctx, k, "reset0005", clock.Now(), budget); err != nil {
		t.Fatal(err)
	}
	clock.Add(budget.Window)
	c, issued, err = s.IssueChallenge(ctx, newChallenge(k, "reset0006", clock.Now()), 0, budget)
	if err != nil || !issued || c.WindowAttempts != 0 || !c.WindowStart.Equal(clock.Now()) {
		t.Fatalf("issue after an unspent window: %+v %v %v", c, issued, err)
	}

	for _, b := range []AttemptBudget{{Attempts: 0, Window: time.Hour}, {Attempts: 3}, {Attempts: 3, Window: 25 * time.Hour},
		{Attempts: 3, Window: time.Hour, SlowInterval: 2 * time.Hour}, {Attempts: 3, Window: time.Hour, SlowInterval: -1}} {
		if _, _, err := s.IssueChallenge(ctx, newChallenge(k, "badbudget", clock.Now()), 0, b); err == nil {
			t.Errorf("issue with budget %+v accepted", b)
		}
		if _, err := s.AttemptChallenge(ctx, k, "reset0006", clock.Now(), b); err == nil {
			t.Errorf("attempt with budget %+v accepted", b)
		}
	}

	// Dropping a challenge with nothing counted leaves no item behind.
	const fresh = "user0008key"
	if _, _, err := s.IssueChallenge(ctx, newChallenge(fresh, "fresh0001", clock.Now()), 0, budget); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteChallenge(ctx, fresh, "fresh0001"); err != nil {
		t.Fatal(err)
	}
	if it, err := s.challengeItem(ctx, fresh); err != nil || it != nil {
		t.Fatalf("item after dropping an unattempted challenge: %v %v", it, err)
	}

	// An item without the window, as stored before it existed.
	const old = "user0006key"
	it := key(challengePrefix+old, challengeSK)
	it[attrChallengeID] = attrS("legacy001")
	it[attrCodeMAC] = attrB([]byte("mac"))
	it[attrAttempts] = attrN(0)
	it[attrMaxAttempts] = attrN(3)
	it[attrSentAt] = attrTime(clock.Now())
	it[attrExpiresAt] = attrTime(clock.Now().Add(time.Minute))
	if _, err := s.putItem(ctx, &dynamodb.PutItemInput{Item: it}); err != nil {
		t.Fatal(err)
	}
	c, err = s.AttemptChallenge(ctx, old, "legacy001", clock.Now(), budget)
	if err != nil || c.Attempts != 1 || c.WindowAttempts != 1 || !c.WindowStart.Equal(clock.Now()) {
		t.Fatalf("attempt on a challenge without a window: %+v %v", c, err)
	}
}

// Concurrent attempts never count past a code's own limit, whatever the
// window's ceiling.
func TestAttemptBudgetRace(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	now := time.Now()
	const k = "user0007key"
	budget := AttemptBudget{Attempts: 10, Window: time.Hour}
	c := newChallenge(k, "budrace01", now)
	c.MaxAttempts = 10 // the ceiling (also 10) refuses nothing
	if _, _, err := s.IssueChallenge(ctx, c, 0, budget); err != nil {
		t.Fatal(err)
	}
	var counted atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.AttemptChallenge(ctx, k, "budrace01", now, budget)
			switch {
			case err == nil:
				counted.Add(1)
			case !errors.Is(err, ErrConflict):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	cur, err := s.GetChallenge(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if counted.Load() != 10 || cur.Attempts != 10 || cur.WindowAttempts != 10 {
		t.Fatalf("%d attempts counted (stored %d, window %d), want 10", counted.Load(), cur.Attempts, cur.WindowAttempts)
	}
}
