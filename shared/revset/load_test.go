package revset

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/store"
)

// coldEntries is how many live entries the cold-start test loads: 100,000,
// or 25,000 under the race detector, where filling dynalite on a shared
// machine takes minutes (SHORTFUSE_TEST_COLD_ENTRIES overrides it; the
// cold-init benchmark loads 100,000 in any case).
func coldEntries(t testing.TB) int {
	if v := os.Getenv("SHORTFUSE_TEST_COLD_ENTRIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SHORTFUSE_TEST_COLD_ENTRIES=%q", v)
		}
		return n
	}
	if raceEnabled {
		return 25_000
	}
	return 100_000
}

// fillLog appends n live session entries ("s0".."s<n-1>") and returns the
// time of the first append.
func fillLog(tb testing.TB, st *store.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	const chunk = 2500
	for i := 0; i < n; i += chunk {
		var rs []store.Revocation
		for j := i; j < min(i+chunk, n); j++ {
			rs = append(rs, store.Revocation{Kind: store.RevokeSession, Value: "s" + strconv.Itoa(j), Until: until})
		}
		if _, err := st.AppendRevocations(ctx, rs); err != nil {
			tb.Fatal(err)
		}
	}
}

// pausingSource pauses dynalite just before the page numbered pauseAt.
type pausingSource struct {
	*store.Store
	d       *testenv.Dynamo
	pauseAt int64
	pages   atomic.Int64
	paused  chan struct{}
}

func (p *pausingSource) ReadRevocations(ctx context.Context, q store.RevocationQuery) (store.RevocationPage, error) {
	if p.pages.Add(1) == p.pauseAt {
		if err := p.d.Pause(); err != nil {
			return store.RevocationPage{}, err
		}
		close(p.paused)
	}
	return p.Store.ReadRevocations(ctx, q)
}

// TestColdStartLargeLog: a cold Set loads every live entry of a large log
// from dynalite; with dynalite frozen in the middle of the load it refuses
// (never allows) and, once dynalite runs again, completes the load and
// answers.
func TestColdStartLargeLog(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a large log")
	}
	n := coldEntries(t)
	d := testenv.Dynalite(t)
	table := "cold"
	storetest.CreateTable(t, d, table)
	layout := store.RevocationLayout{Replicas: 1, Shards: 2}
	st := store.New(d.Client, table, store.WithRevocationLayout(layout), store.WithTimeout(time.Minute))
	start := time.Now()
	fillLog(t, st, n)
	t.Logf("appended %d entries in %s", n, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	last := Token{SessionID: "s" + strconv.Itoa(n-1)}
	clean := Token{SessionID: "not-revoked"}

	t.Run("load", func(t *testing.T) {
		s := New(st, Options{Poll: time.Hour, Grace: 2 * time.Hour, InitWait: time.Minute})
		defer s.Close()
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		stats := s.Stats()
		if stats.Entries != n {
			t.Fatalf("loaded %d entries, want %d", stats.Entries, n)
		}
		t.Logf("loaded %d entries in %s: %d pages, %d KB, %.0f read units", n, stats.LoadTime.Round(time.Millisecond),
			stats.Calls, stats.Bytes>>10, stats.ReadUnits)
		if err := s.Check(ctx, last); !errors.Is(err, ErrRevoked) {
			t.Fatalf("Check(last entry) = %v", err)
		}
		if err := s.Check(ctx, clean); err != nil {
			t.Fatalf("Check(clean) = %v", err)
		}
	})

	t.Run("paused mid-load", func(t *testing.T) {
		src := &pausingSource{Store: st, d: d, pauseAt: 2, paused: make(chan struct{})}
		// The page deadline must exceed the time dynalite takes for a 1 MB
		// page (about 0.6 s here), or requests pile up behind abandoned ones.
		s := New(src, Options{Poll: time.Hour, Grace: 2 * time.Hour, Timeout: 3 * time.Second,
			InitWait: time.Second, LoadWait: 50 * time.Millisecond})
		defer s.Close()
		defer func() { _ = d.Resume() }()
		started := make(chan error, 1)
		go func() { started <- s.Start(ctx) }()
		select {
		case <-src.paused:
		case <-time.After(3 * time.Minute):
			t.Fatal("the load never reached its second page")
		}
		// The load cannot complete while dynalite is frozen.
		if err := <-started; !errors.Is(err, ErrLoading) {
			t.Fatalf("Start while dynalite is paused = %v, want ErrLoading", err)
		}
		for _, tok := range []Token{clean, last} {
			if err := s.Check(ctx, tok); !errors.Is(err, ErrStale) {
				t.Fatalf("Check(%+v) while paused = %v, want a refusal (ErrStale)", tok, err)
			}
		}
		// Stay paused past a page deadline, so that a page read fails.
		time.Sleep(4 * time.Second)
		if err := s.Check(ctx, clean); !errors.Is(err, ErrStale) {
			t.Fatalf("Check while paused = %v", err)
		}
		if err := d.Resume(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			err := s.Check(ctx, clean)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrStale) {
				t.Fatalf("Check while recovering = %v", err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("no recovery after resume: %v (%+v)", err, s.Stats())
			}
			time.Sleep(20 * time.Millisecond)
		}
		stats := s.Stats()
		if stats.Entries != n || stats.Failures == 0 {
			t.Fatalf("after recovery: %+v; want %d entries and the failed pages counted", stats, n)
		}
		if err := s.Check(ctx, last); !errors.Is(err, ErrRevoked) {
			t.Fatalf("Check(last entry) after recovery = %v", err)
		}
		t.Logf("recovered: %d entries, %d pages of which %d failed", stats.Entries, stats.Calls, stats.Failures)
	})
}
