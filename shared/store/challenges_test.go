package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newChallenge(k, id string, now time.Time) *Challenge {
	return &Challenge{Key: k, ID: id, CodeMAC: []byte("mac-" + id), MaxAttempts: 3, SentAt: now, ExpiresAt: now.Add(10 * time.Minute)}
}

func TestIssueChallengePacing(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock(time.Unix(1_800_000_000, 0))
	s, _ := newTestStore(t, WithClock(clock.Now))
	const k = "user0000key"
	c1, issued, err := s.IssueChallenge(ctx, newChallenge(k, "first0001", clock.Now()), time.Minute)
	if err != nil || !issued || c1.ID != "first0001" {
		t.Fatalf("first: %+v %v %v", c1, issued, err)
	}
	clock.Add(30 * time.Second)
	cur, issued, err := s.IssueChallenge(ctx, newChallenge(k, "second001", clock.Now()), time.Minute)
	if err != nil || issued || cur.ID != "first0001" || string(cur.CodeMAC) != "mac-first0001" {
		t.Fatalf("within interval: %+v %v %v", cur, issued, err)
	}
	clock.Add(30 * time.Second)
	cur, issued, err = s.IssueChallenge(ctx, newChallenge(k, "third0001", clock.Now()), time.Minute)
	if err != nil || !issued || cur.ID != "third0001" {
		t.Fatalf("after interval: %+v %v %v", cur, issued, err)
	}
	// A used challenge does not hold back the next one.
	if err := s.UseChallenge(ctx, k, "third0001", clock.Now()); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Second)
	if _, issued, err = s.IssueChallenge(ctx, newChallenge(k, "fourth001", clock.Now()), time.Minute); err != nil || !issued {
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
	if _, issued, err = s.IssueChallenge(ctx, newChallenge(k, "fifth0001", clock.Now()), time.Minute); err != nil || !issued {
		t.Fatalf("after delete issue: %v %v", issued, err)
	}
}

func TestAttemptChallenge(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock(time.Unix(1_800_000_000, 0))
	s, _ := newTestStore(t, WithClock(clock.Now))
	const k = "user0001key"
	if _, _, err := s.IssueChallenge(ctx, newChallenge(k, "chal00001", clock.Now()), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AttemptChallenge(ctx, k, "otherid01", clock.Now()); !errors.Is(err, ErrConflict) {
		t.Fatalf("wrong id: %v", err)
	}
	for i := 1; i <= 3; i++ {
		c, err := s.AttemptChallenge(ctx, k, "chal00001", clock.Now())
		if err != nil || c.Attempts != i || string(c.CodeMAC) != "mac-chal00001" {
			t.Fatalf("attempt %d: %+v %v", i, c, err)
		}
	}
	if _, err := s.AttemptChallenge(ctx, k, "chal00001", clock.Now()); !errors.Is(err, ErrConflict) {
		t.Fatalf("fourth attempt: %v", err)
	}
	// A link still works after the code attempts ran out.
	if err := s.UseChallenge(ctx, k, "chal00001", clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.UseChallenge(ctx, k, "chal00001", clock.Now()); !errors.Is(err, ErrConflict) {
		t.Fatalf("second use: %v", err)
	}

	if _, _, err := s.IssueChallenge(ctx, newChallenge(k, "chal00002", clock.Now()), 0); err != nil {
		t.Fatal(err)
	}
	clock.Add(10 * time.Minute)
	if _, err := s.AttemptChallenge(ctx, k, "chal00002", clock.Now()); !errors.Is(err, ErrConflict) {
		t.Fatalf("expired attempt: %v", err)
	}
	if err := s.UseChallenge(ctx, k, "chal00002", clock.Now()); !errors.Is(err, ErrConflict) {
		t.Fatalf("expired use: %v", err)
	}
	if _, err := s.AttemptChallenge(ctx, "nobody000", "chal00002", clock.Now()); !errors.Is(err, ErrConflict) {
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
	if _, _, err := s.IssueChallenge(ctx, newChallenge(k, "race00001", now), 0); err != nil {
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
			_, ok, err := s.IssueChallenge(ctx, newChallenge(k, id, now), time.Minute)
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
