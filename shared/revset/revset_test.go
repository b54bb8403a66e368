package revset

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/testclock"
	"github.com/shortfuse/shortfuse/shared/store"
)

// fakeLog is an in-memory Source with a switchable outage.
type fakeLog struct {
	mu       sync.Mutex
	entries  []fakeEntry
	down     bool
	calls    int // reads answered
	entered  int // reads started, including those still blocked
	sinces   []time.Time
	seq      int
	block    chan struct{} // when set, reads wait for it to close (or their deadline)
	pageSize int
}

type fakeEntry struct {
	appended time.Time
	r        store.Revocation
}

var errDown = fmt.Errorf("fake: %w", store.ErrUnavailable)

func (f *fakeLog) add(appended time.Time, kind, value string, at, until time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	f.entries = append(f.entries, fakeEntry{appended, store.Revocation{
		ID: fmt.Sprintf("%020d#%016x", appended.UnixNano(), f.seq), Kind: kind, Value: value, At: at, Until: until,
	}})
}

func (f *fakeLog) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }

func (f *fakeLog) callCount() int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls }

func (f *fakeLog) enteredCount() int { f.mu.Lock(); defer f.mu.Unlock(); return f.entered }

func (f *fakeLog) RevocationLayout() store.RevocationLayout {
	return store.RevocationLayout{Replicas: 1, Shards: 1}
}

// ReadRevocations answers in pages of f.pageSize entries (all when zero).
func (f *fakeLog) ReadRevocations(ctx context.Context, q store.RevocationQuery) (store.RevocationPage, error) {
	f.mu.Lock()
	block := f.block
	f.entered++
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if q.After == "" {
		f.sinces = append(f.sinces, q.Since)
	}
	if f.down {
		return store.RevocationPage{}, errDown
	}
	if err := ctx.Err(); err != nil {
		return store.RevocationPage{}, err
	}
	var p store.RevocationPage
	last := ""
	for _, e := range f.entries {
		if e.appended.Before(q.Since) || (q.After != "" && e.r.ID <= q.After) {
			continue
		}
		if f.pageSize > 0 && p.Items == f.pageSize {
			p.Next = last
			break
		}
		p.Items++
		last = e.r.ID
		if e.r.Until.After(q.Now) {
			p.Entries = append(p.Entries, e.r)
		}
	}
	return p, nil
}

func newClock() *testclock.Clock { return testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

func newSet(t *testing.T, src Source, c *testclock.Clock, o Options) *Set {
	t.Helper()
	o.Now = c.Now
	if o.Poll == 0 {
		o.Poll = time.Hour // tests drive refreshes by hand unless they opt in
	}
	if o.Grace == 0 {
		o.Grace = 2 * o.Poll
	}
	if o.InitWait == 0 {
		o.InitWait = 5 * time.Second
	}
	if o.LoadWait == 0 {
		o.LoadWait = time.Millisecond
	}
	s := New(src, o)
	t.Cleanup(s.Close)
	return s
}

// startedSet starts a set on an empty log, at newClock's time.
func startedSet(t *testing.T, o Options) (*Set, *fakeLog, *testclock.Clock) {
	t.Helper()
	c := newClock()
	f := &fakeLog{}
	s := newSet(t, f, c, o)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, f, c
}

func TestMatchRules(t *testing.T) {
	c := newClock()
	now := c.Now()
	f := &fakeLog{}
	until := now.Add(10 * time.Minute)
	f.add(now.Add(-time.Minute), store.RevokeSession, "sess-1", now.Add(-time.Minute), until)
	f.add(now.Add(-time.Minute), store.RevokeJTI, "jti-1", now.Add(-time.Minute), until)
	f.add(now.Add(-time.Minute), store.RevokeJTI, "origin-1", now.Add(-time.Minute), until)
	f.add(now.Add(-time.Minute), store.RevokeUser, "user-1", now.Add(-time.Minute), until)
	f.add(now.Add(-2*time.Minute), store.RevokeUser, "user-1", now.Add(-2*time.Minute), until) // older, must not win
	s := newSet(t, f, c, Options{Poll: time.Second})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	revokedAt := now.Add(-time.Minute)
	tests := []struct {
		name string
		tok  Token
		want error
	}{
		{"clean", Token{Subject: "user-2", SessionID: "sess-2", JTI: "jti-2", AuthTime: now}, nil},
		{"session", Token{Subject: "user-2", SessionID: "sess-1"}, ErrRevoked},
		{"jti", Token{Subject: "user-2", JTI: "jti-1"}, ErrRevoked},
		{"origin jti", Token{Subject: "user-2", JTI: "x", OriginJTI: "origin-1"}, ErrRevoked},
		{"jti value as origin", Token{Subject: "user-2", OriginJTI: "jti-1"}, ErrRevoked},
		{"user login before", Token{Subject: "user-1", AuthTime: revokedAt.Add(-time.Second)}, ErrRevoked},
		{"user login at", Token{Subject: "user-1", AuthTime: revokedAt}, ErrRevoked},
		{"user login after", Token{Subject: "user-1", AuthTime: revokedAt.Add(time.Second)}, nil},
		{"user without auth_time", Token{Subject: "user-1"}, ErrRevoked},
		{"session id is not a jti", Token{Subject: "u", JTI: "sess-1"}, nil},
		{"empty token", Token{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Check(context.Background(), tt.tok)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
		})
	}
	if got := s.Stats().Entries; got != 5 {
		t.Fatalf("Entries = %d, want 5", got)
	}
}

func TestPollOverlapDedupeAndExpiry(t *testing.T) {
	s, f, c := startedSet(t, Options{Poll: time.Second, Overlap: 5 * time.Second, Retain: 30 * time.Second})
	ctx := context.Background()
	if got := f.sinces[0]; !got.Equal(time.Unix(0, 0)) {
		t.Fatalf("initial load since %v, want the whole log", got)
	}
	loadedAt := c.Now()

	// A writer whose clock is 3 s behind appends after the load: its ID is
	// older than the previous read, yet within the overlap.
	c.Add(time.Second)
	f.add(c.Now().Add(-3*time.Second), store.RevokeSession, "late", c.Now(), c.Now().Add(time.Minute))
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.sinces[1]; !got.Equal(loadedAt.Add(-5 * time.Second)) {
		t.Fatalf("poll since %v, want previous read minus overlap %v", got, loadedAt.Add(-5*time.Second))
	}
	if err := s.Check(ctx, Token{SessionID: "late"}); !errors.Is(err, ErrRevoked) {
		t.Fatalf("late entry not seen: %v", err)
	}
	// Re-reading the overlap returns the same entry again: still one entry.
	c.Add(time.Second)
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().Entries; got != 1 {
		t.Fatalf("Entries = %d after overlapping reads, want 1", got)
	}

	// The entry lives until Until + Retain, then goes.
	c.Add(time.Minute)
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx, Token{SessionID: "late"}); !errors.Is(err, ErrRevoked) {
		t.Fatalf("entry dropped before Until+Retain: %v", err)
	}
	c.Add(30 * time.Second)
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx, Token{SessionID: "late"}); err != nil {
		t.Fatalf("entry kept past Until+Retain: %v", err)
	}
	if got := s.Stats().Entries; got != 0 {
		t.Fatalf("Entries = %d, want 0", got)
	}
}

func TestColdStartUnreachableFailsClosed(t *testing.T) {
	c := newClock()
	f := &fakeLog{down: true}
	s := newSet(t, f, c, Options{Poll: time.Second, Grace: 10 * time.Second, InitWait: 50 * time.Millisecond})
	ctx := context.Background()
	if err := s.Start(ctx); !errors.Is(err, ErrLoading) || !errors.Is(err, ErrStale) {
		t.Fatalf("Start with the log down = %v, want ErrLoading", err)
	}
	if err := s.Check(ctx, Token{Subject: "u"}); !errors.Is(err, ErrStale) {
		t.Fatalf("Check = %v, want ErrStale", err)
	}
	// Requests do not read the log themselves: only the loader does, with
	// backoff (50 ms doubling), so 100 refusals cost a handful of reads.
	before := f.callCount()
	for range 100 {
		if err := s.Check(ctx, Token{Subject: "u"}); !errors.Is(err, ErrLoading) {
			t.Fatalf("Check while loading = %v, want ErrLoading", err)
		}
	}
	if got := f.callCount() - before; got > 10 {
		t.Fatalf("%d reads during 100 refused checks, want only the loader's few", got)
	}
	// The store comes back: the loader completes and requests pass.
	f.setDown(false)
	deadline := time.Now().Add(5 * time.Second)
	for s.Check(ctx, Token{Subject: "u"}) != nil {
		if time.Now().After(deadline) {
			t.Fatal("never recovered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !s.Stats().Loaded {
		t.Fatal("Stats.Loaded false after recovery")
	}
}

// A load of many pages where one page fails resumes at that page.
func TestLoadResumesAtFailedPage(t *testing.T) {
	c := newClock()
	now := c.Now()
	f := &fakeLog{pageSize: 10}
	for i := range 95 {
		f.add(now.Add(time.Duration(i-100)*time.Second), store.RevokeSession, fmt.Sprint("s", i), now, now.Add(time.Hour))
	}
	// The fourth page fails once.
	var failed atomic.Bool
	src := &failingPage{fakeLog: f, fail: func(q store.RevocationQuery) bool {
		return q.After != "" && q.After == f.entries[29].r.ID && !failed.Swap(true)
	}}
	s := newSet(t, src, c, Options{})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats(); got.Entries != 95 || got.Calls != 11 || got.Failures != 1 {
		t.Fatalf("stats %+v; want 95 entries in 10 pages plus one retried page", got)
	}
	if err := s.Check(context.Background(), Token{SessionID: "s94"}); !errors.Is(err, ErrRevoked) {
		t.Fatalf("Check = %v", err)
	}
}

type failingPage struct {
	*fakeLog
	fail func(store.RevocationQuery) bool
}

func (f *failingPage) ReadRevocations(ctx context.Context, q store.RevocationQuery) (store.RevocationPage, error) {
	if f.fail(q) {
		return store.RevocationPage{}, errDown
	}
	return f.fakeLog.ReadRevocations(ctx, q)
}

func TestGraceThenDeny(t *testing.T) {
	s, f, c := startedSet(t, Options{Poll: time.Second, Grace: 10 * time.Second})
	ctx := context.Background()
	f.setDown(true)
	for _, step := range []struct {
		advance time.Duration
		want    error
	}{
		{500 * time.Millisecond, nil},  // fresh: no read at all
		{2 * time.Second, nil},         // late, read fails, within grace
		{5 * time.Second, nil},         // 7.5 s old
		{2400 * time.Millisecond, nil}, // 9.9 s old
		{200 * time.Millisecond, ErrStale},
		{time.Minute, ErrStale},
	} {
		c.Add(step.advance)
		err := s.Check(ctx, Token{Subject: "u"})
		if step.want == nil && err != nil || step.want != nil && !errors.Is(err, step.want) {
			t.Fatalf("at +%v: Check = %v, want %v", c.Now().Sub(s.Stats().Refreshed), err, step.want)
		}
	}
	f.setDown(false)
	c.Add(time.Second)
	if err := s.Check(ctx, Token{Subject: "u"}); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestLatePollRefreshesBeforeAnswering(t *testing.T) {
	// A frozen Lambda container wakes up with an old snapshot: the first
	// request must not be decided on it.
	s, f, c := startedSet(t, Options{Poll: time.Second, Grace: 10 * time.Minute})
	ctx := context.Background()
	c.Add(5 * time.Minute)
	f.add(c.Now(), store.RevokeSession, "s1", c.Now(), c.Now().Add(time.Hour))
	if err := s.Check(ctx, Token{SessionID: "s1"}); !errors.Is(err, ErrRevoked) {
		t.Fatalf("Check = %v, want ErrRevoked", err)
	}
	// Fresh again: no read for the next requests.
	n := f.callCount()
	for range 10 {
		_ = s.Check(ctx, Token{SessionID: "s2"})
	}
	if f.callCount() != n {
		t.Fatalf("reads on fresh state: %d", f.callCount()-n)
	}
}

func TestStrictReadsEveryCheck(t *testing.T) {
	s, f, c := startedSet(t, Options{Strict: true, Poll: time.Second, Grace: time.Hour})
	ctx := context.Background()
	base := f.callCount()
	for i := range 5 {
		c.Add(time.Millisecond)
		if err := s.Check(ctx, Token{SessionID: "s"}); err != nil {
			t.Fatal(err)
		}
		if got := f.callCount() - base; got != i+1 {
			t.Fatalf("reads = %d after %d checks", got, i+1)
		}
	}
	c.Add(time.Millisecond)
	f.add(c.Now(), store.RevokeSession, "s", c.Now(), c.Now().Add(time.Hour))
	c.Add(time.Millisecond)
	if err := s.Check(ctx, Token{SessionID: "s"}); !errors.Is(err, ErrRevoked) {
		t.Fatalf("strict Check = %v, want ErrRevoked", err)
	}
	// Strict has no grace: one failed read refuses.
	f.setDown(true)
	c.Add(time.Millisecond)
	if err := s.Check(ctx, Token{SessionID: "other"}); !errors.Is(err, ErrStale) {
		t.Fatalf("strict Check with the log down = %v, want ErrStale", err)
	}
}

func TestLookback(t *testing.T) {
	_, f, c := startedSet(t, Options{Lookback: time.Hour, Retain: time.Minute, Overlap: 10 * time.Second})
	if got, want := f.sinces[0], c.Now().Add(-time.Hour-time.Minute-10*time.Second); !got.Equal(want) {
		t.Fatalf("since = %v, want %v", got, want)
	}
}

// TestLookbackKeepsLiveEntries: entries that live Lookback past their
// append time must all be loaded at start while live, i.e. until Until +
// Retain, including those appended by a writer whose clock lags by up to
// Overlap.
func TestLookbackKeepsLiveEntries(t *testing.T) {
	const (
		lookback = time.Hour
		retain   = time.Minute
		overlap  = 10 * time.Second
	)
	for _, tt := range []struct {
		name     string
		appended time.Duration // before the load
		skew     time.Duration // writer clock behind
		want     error
	}{
		{"fresh", time.Minute, 0, ErrRevoked},
		{"appended Lookback ago", lookback, 0, ErrRevoked},
		{"past Until, within Retain", lookback + retain - time.Second, 0, ErrRevoked},
		{"within Retain, writer clock behind", lookback + retain - time.Second, overlap - time.Second, ErrRevoked},
		{"past Until+Retain", lookback + retain, 0, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			f := &fakeLog{}
			real := c.Now().Add(-tt.appended)
			// The entry's ID carries the writer's (lagging) clock; it lives
			// Lookback after it was really appended.
			f.add(real.Add(-tt.skew), store.RevokeSession, "sess", real, real.Add(lookback))
			s := newSet(t, f, c, Options{Lookback: lookback, Retain: retain, Overlap: overlap})
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			err := s.Check(context.Background(), Token{SessionID: "sess"})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestBackgroundPolling(t *testing.T) {
	f := &fakeLog{}
	s := New(f, Options{Poll: 10 * time.Millisecond, Grace: time.Second})
	defer s.Close()
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f.add(now, store.RevokeSession, "bg", now, now.Add(time.Hour))
	deadline := time.Now().Add(5 * time.Second)
	for {
		// Read the snapshot directly: Check could refresh by itself.
		if err := s.state.Load().match(&Token{SessionID: "bg"}); errors.Is(err, ErrRevoked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background poll never picked up the entry")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()
	n := f.callCount()
	time.Sleep(50 * time.Millisecond)
	if f.callCount() != n {
		t.Fatal("polling continued after Close")
	}
}

func TestConcurrentChecksAndPolls(t *testing.T) {
	f := &fakeLog{}
	s := New(f, Options{Poll: time.Millisecond, Grace: time.Minute})
	defer s.Close()
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				_ = s.Check(ctx, Token{Subject: fmt.Sprint(g), SessionID: fmt.Sprint(i % 50), AuthTime: time.Now()})
			}
		}()
	}
	for i := range 50 {
		now := time.Now()
		f.add(now, store.RevokeSession, fmt.Sprint(i), now, now.Add(time.Hour))
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().Entries; got != 50 {
		t.Fatalf("Entries = %d, want 50", got)
	}
}

func BenchmarkCheck(b *testing.B) {
	f := &fakeLog{}
	now := time.Now()
	for i := range 10000 {
		f.add(now, store.RevokeSession, fmt.Sprint("s", i), now, now.Add(time.Hour))
	}
	s := New(f, Options{Poll: time.Hour, Grace: 2 * time.Hour})
	defer s.Close()
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	tok := Token{Subject: "u", SessionID: "sess", JTI: "jti", OriginJTI: "o", AuthTime: now}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Check(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSlowReadDoesNotStallWithinGrace(t *testing.T) {
	s, f, c := startedSet(t, Options{Poll: time.Second, Grace: 10 * time.Second})
	ctx := context.Background()
	release := make(chan struct{})
	f.mu.Lock()
	f.block = release
	f.mu.Unlock()
	c.Add(2 * time.Second)
	done := make(chan error)
	go func() { done <- s.Refresh(ctx) }() // a poll stuck on a slow read
	deadline := time.Now().Add(5 * time.Second)
	for f.enteredCount() < 2 {
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the slow read never started")
		}
		time.Sleep(time.Millisecond)
	}
	answered := make(chan error)
	go func() { answered <- s.Check(ctx, Token{SessionID: "x"}) }()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatalf("Check = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Check waited for the slow read although the state is within the grace")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
