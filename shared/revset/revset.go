// Package revset keeps an in-memory copy of the revocation log so that a
// warm authorizer can refuse revoked tokens without any I/O per request.
//
// The log is written as several identical replicas, each split into shards
// (store.RevocationLayout; docs/scale.md has the arithmetic): a Set reads
// every shard of one replica, chosen at random, so a fleet of authorizers
// spreads its reads over the replicas and a burst of appends over the shards.
//
// Loading. Start reads the live log page by page, each page (at most 1 MB)
// under its own deadline, and resumes a failed page where it stopped instead
// of starting over. It returns as soon as the load is complete, or after
// InitWait with the load still running in the background; until the load
// completes Check waits at most LoadWait for it and then refuses with
// ErrStale (never an allow), and the first Check after it completes answers.
//
// Polling. After the load a Set polls every Poll, reading each shard from a
// little before its previous read: an entry's ID carries the writer's clock,
// a copy may be committed up to store.RevocationAttemptTimeout after that,
// and an eventually consistent read may lag the commit; Overlap covers the
// three. Entries are deduplicated by ID, so a poll costs what was appended
// during Poll+Overlap, not the size of the log. An entry is dropped once its
// Until (plus Retain, the verifiers' leeway) has passed, never earlier.
//
// The Set fails closed. A token is checked against state that is at most
// about one poll old; when the background poll is late (a frozen Lambda
// container, a slow call) Check refreshes first, and when the log cannot be
// read Check keeps answering only while the last good read is younger than
// Grace, then refuses everything with ErrStale until a read succeeds again.
// In strict mode every Check reads the log first, consistently.
//
// Lookups load one atomic pointer and probe three maps: no lock, no
// allocation.
package revset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/store"
)

// Errors returned by Check.
var (
	// ErrRevoked: the token matches a live revocation.
	ErrRevoked = errors.New("revset: token revoked")
	// ErrStale: the revocation state could not be read recently enough to
	// trust; the caller must refuse the request.
	ErrStale = errors.New("revset: revocation state unavailable")
	// ErrLoading: the initial load has not completed; it wraps ErrStale.
	ErrLoading = fmt.Errorf("%w: initial load not complete", ErrStale)
)

// Prebuilt so that a refusal does not allocate.
var (
	errRevokedSession = fmt.Errorf("%w: session", ErrRevoked)
	errRevokedJTI     = fmt.Errorf("%w: jti", ErrRevoked)
	errRevokedUser    = fmt.Errorf("%w: user", ErrRevoked)
)

// Source reads the revocation log; *store.Store implements it.
type Source interface {
	// RevocationLayout is the layout of the log.
	RevocationLayout() store.RevocationLayout
	// ReadRevocations reads one page of one shard of one replica.
	ReadRevocations(ctx context.Context, q store.RevocationQuery) (store.RevocationPage, error)
}

// Token holds the claims a revocation can match.
type Token struct {
	Subject   string    // sub: matched by user revocations
	SessionID string    // sid: matched by session revocations
	JTI       string    // jti: matched by jti revocations
	OriginJTI string    // origin_jti: matched by jti revocations
	AuthTime  time.Time // auth_time: a user revocation at At covers auth_time <= At
}

// Defaults for Options.
const (
	DefaultPoll = time.Second
	// DefaultOverlap covers a writer's attempt deadline
	// (store.RevocationAttemptTimeout, 250 ms), clock skew between writer
	// and reader (50 ms) and the lag of an eventually consistent read behind
	// the commit (450 ms assumed); docs/scale.md explains the choice.
	DefaultOverlap  = 750 * time.Millisecond
	DefaultGrace    = 10 * time.Second
	DefaultRetain   = time.Minute
	DefaultInitWait = 7 * time.Second
	DefaultLoadWait = 2 * time.Second
)

// Options configure a Set. Zero values take the defaults.
type Options struct {
	// Poll is the interval between reads of the log (default 1s).
	Poll time.Duration
	// Grace is how long the last good read may be used while the log cannot
	// be read (default 10s, at least Poll).
	Grace time.Duration
	// Overlap is how far before its previous read each poll starts (default
	// DefaultOverlap).
	Overlap time.Duration
	// Consistent makes polls strongly consistent reads: twice the read
	// units, and no replication lag for Overlap to cover.
	Consistent bool
	// Retain keeps entries this long past their Until, covering the
	// verifier's exp leeway and reader clock skew (default 1m).
	Retain time.Duration
	// Lookback limits the initial load to entries appended within it,
	// widened by Retain and Overlap so that an entry still live (appended
	// at most Lookback before its Until, by a writer whose clock may lag)
	// is never left out; it must be at least the longest Until minus
	// append time any writer uses. Zero reads the whole log.
	Lookback time.Duration
	// Timeout bounds one page read (default awsx.CallTimeout).
	Timeout time.Duration
	// InitWait is how long Start waits for the initial load before leaving
	// it to the background (default 7s, within Lambda's 10 s init phase).
	InitWait time.Duration
	// LoadWait is how long a Check waits for an incomplete initial load
	// before refusing (default 2s); the wait also gives a Lambda
	// container, frozen between invocations, time to load.
	LoadWait time.Duration
	// Replica picks the replica to read among n (default: at random).
	Replica func(n int) int
	// Strict reads the log before every Check instead of polling.
	Strict bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives state changes (default: discard).
	Logger *slog.Logger
}

// Set is the polled revocation set. It is safe for concurrent use.
type Set struct {
	src     Source
	o       Options
	layout  store.RevocationLayout
	replica int
	// late is the state age past which Check refreshes before answering.
	late time.Duration

	state  atomic.Pointer[state]
	loaded chan struct{} // closed when the initial load is complete

	mu          sync.Mutex // serialises polls; guards the fields below
	seen        map[string]store.Revocation
	lastAttempt time.Time
	lastErr     error
	failing     bool

	calls     atomic.Int64 // Query calls (pages)
	failures  atomic.Int64
	polls     atomic.Int64
	items     atomic.Int64
	bytes     atomic.Int64
	units     atomic.Int64 // read units reported, in thousandths
	foreign   atomic.Int64
	loadNanos atomic.Int64

	startOnce sync.Once
	closeOnce sync.Once
	ctx       context.Context // cancelled by Close; bounds background reads
	cancel    context.CancelFunc
	done      chan struct{}
}

// state is an immutable snapshot; a read that changes nothing replaces only
// the pointer, sharing the maps.
type state struct {
	sessions map[string]struct{}
	jtis     map[string]struct{}
	users    map[string]time.Time // newest At per sub
	entries  int
	// refreshed is when the last successful read was sent (zero: the
	// initial load is not complete). Everything committed before it is in
	// the snapshot.
	refreshed time.Time
	// expires is the earliest Until+Retain among the entries (zero: none).
	expires time.Time
}

// New returns a Set reading from src. Call Start to load it.
func New(src Source, o Options) *Set {
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.Grace < o.Poll {
		o.Grace = o.Poll
	}
	if o.Overlap <= 0 {
		o.Overlap = DefaultOverlap
	}
	if o.Retain <= 0 {
		o.Retain = DefaultRetain
	}
	if o.Timeout <= 0 {
		o.Timeout = awsx.CallTimeout
	}
	if o.InitWait <= 0 {
		o.InitWait = DefaultInitWait
	}
	if o.LoadWait <= 0 {
		o.LoadWait = DefaultLoadWait
	}
	if o.Replica == nil {
		o.Replica = rand.IntN
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	layout := src.RevocationLayout()
	s := &Set{
		src:     src,
		o:       o,
		layout:  layout,
		replica: min(max(o.Replica(layout.Replicas), 0), layout.Replicas-1),
		late:    o.Poll + o.Poll/2,
		seen:    map[string]store.Revocation{},
		loaded:  make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.state.Store(&state{})
	return s
}

// Start begins the initial load and, once it is complete, polling (unless
// the Set is strict) until Close. It returns nil as soon as the load is
// complete; when that takes longer than InitWait, or ctx ends first, it
// returns an error wrapping ErrLoading and the load goes on in the
// background: Check refuses until it completes.
func (s *Set) Start(ctx context.Context) error {
	s.startOnce.Do(func() { go s.run() })
	t := time.NewTimer(s.o.InitWait)
	defer t.Stop()
	select {
	case <-s.loaded:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", ErrLoading, ctx.Err())
	case <-t.C:
		return fmt.Errorf("%w after %s: %v", ErrLoading, s.o.InitWait, s.loadError())
	}
}

func (s *Set) loadError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr == nil {
		return errors.New("still reading")
	}
	return s.lastErr
}

// Close stops loading and polling. It is safe to call more than once.
func (s *Set) Close() {
	s.closeOnce.Do(s.cancel)
	s.startOnce.Do(func() { close(s.done) })
	<-s.done
}

// run loads the log, then polls until Close.
func (s *Set) run() {
	defer close(s.done)
	if !s.load() {
		return
	}
	close(s.loaded)
	if s.o.Strict {
		return
	}
	t := time.NewTicker(s.o.Poll)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			// A Check may have refreshed a moment ago; skip a redundant read.
			if st := s.state.Load(); s.o.Now().Sub(st.refreshed) < s.o.Poll/2 {
				continue
			}
			_ = s.Refresh(s.ctx)
		}
	}
}

// load reads every shard of the replica to its end, page by page, retrying
// a failed page with backoff until it succeeds or the Set is closed. It
// reports whether the load completed.
func (s *Set) load() bool {
	start := s.o.Now()
	since := time.Unix(0, 0)
	if s.o.Lookback > 0 {
		// An entry is kept until Until+Retain, and its ID carries the
		// writer's clock: look back as far as a live entry can reach.
		since = start.Add(-(s.o.Lookback + s.o.Retain + s.o.Overlap))
	}
	cutoff := start.Add(-s.o.Retain)
	lists := make([][]store.Revocation, s.layout.Shards)
	var wg sync.WaitGroup
	for sh := range s.layout.Shards {
		wg.Go(func() {
			q := store.RevocationQuery{Replica: s.replica, Shard: sh, Since: since, Now: cutoff, Consistent: s.o.Consistent || s.o.Strict}
			backoff := 50 * time.Millisecond
			for s.ctx.Err() == nil {
				p, err := s.page(s.ctx, q)
				if err != nil {
					s.noteFailure(err, time.Time{})
					select {
					case <-s.ctx.Done():
					case <-time.After(backoff):
					}
					backoff = min(2*backoff, time.Second)
					continue
				}
				backoff = 50 * time.Millisecond
				lists[sh] = append(lists[sh], p.Entries...)
				if p.Next == "" {
					return
				}
				q.After = p.Next
			}
		})
	}
	wg.Wait()
	if s.ctx.Err() != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noteSuccess(0)
	for _, l := range lists {
		for _, r := range l {
			if r.ID != "" {
				s.seen[r.ID] = r
			}
		}
	}
	next := &state{refreshed: start}
	s.rebuild(next)
	s.state.Store(next)
	d := s.o.Now().Sub(start)
	s.loadNanos.Store(int64(d))
	s.o.Logger.Info("revocation log loaded", "entries", next.entries, "replica", s.replica,
		"layout", s.layout.String(), "duration_ms", d.Milliseconds())
	return true
}

// page reads one page under the page deadline and counts what it cost.
func (s *Set) page(ctx context.Context, q store.RevocationQuery) (store.RevocationPage, error) {
	s.calls.Add(1)
	cctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	p, err := s.src.ReadRevocations(cctx, q)
	if err != nil {
		s.failures.Add(1)
		return p, err
	}
	s.items.Add(int64(p.Items))
	s.bytes.Add(int64(p.Bytes))
	s.units.Add(int64(p.ReadUnits * 1000))
	if p.ForeignLayout > 0 {
		if s.foreign.Add(int64(p.ForeignLayout)) == int64(p.ForeignLayout) {
			s.o.Logger.Error("revocation log entries written under another layout than this reader's: writers and readers must share SHORTFUSE_REVOCATION_REPLICAS and SHORTFUSE_REVOCATION_SHARDS",
				"layout", s.layout.String(), "entries", p.ForeignLayout)
		}
	}
	return p, nil
}

// noteFailure records a failed read; s.mu need not be held by the loader.
func (s *Set) noteFailure(err error, lastGood time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastAttempt = s.o.Now()
	s.lastErr = err
	if !s.failing {
		s.failing = true
		s.o.Logger.Warn("revocation log unreadable", "error", err.Error(),
			"last_good_read", lastGood, "grace", s.o.Grace.String())
	}
}

// noteSuccess clears the failure state; s.mu is held.
func (s *Set) noteSuccess(entries int) {
	s.lastErr = nil
	if s.failing {
		s.failing = false
		s.o.Logger.Info("revocation log readable again", "entries", entries)
	}
}

// Refresh reads the log now. Before the initial load completes it returns
// ErrLoading without reading.
func (s *Set) Refresh(ctx context.Context) error {
	if s.state.Load().refreshed.IsZero() {
		return ErrLoading
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readLocked(ctx)
}

// refreshAfter reads the log unless a read sent at or after t has already
// succeeded; concurrent callers needing the same freshness share one read.
// Unless force is set, it does not retry within one poll of a failed read.
// Unless wait is set, it returns nil at once when a read is under way.
func (s *Set) refreshAfter(ctx context.Context, t time.Time, force, wait bool) error {
	if wait {
		s.mu.Lock()
	} else if !s.mu.TryLock() {
		return nil
	}
	defer s.mu.Unlock()
	if r := s.state.Load().refreshed; !r.Before(t) {
		return nil
	}
	if !force && s.lastErr != nil && s.o.Now().Sub(s.lastAttempt) < s.o.Poll {
		return s.lastErr
	}
	return s.readLocked(ctx)
}

// readLocked polls every shard from the previous read minus the overlap.
// s.mu is held and the initial load is complete.
func (s *Set) readLocked(ctx context.Context) error {
	start := s.o.Now()
	old := s.state.Load()
	since := old.refreshed.Add(-s.o.Overlap)
	cutoff := start.Add(-s.o.Retain)
	consistent := s.o.Consistent || s.o.Strict
	s.polls.Add(1)
	lists := make([][]store.Revocation, s.layout.Shards)
	errs := make([]error, s.layout.Shards)
	readShard := func(sh int) {
		q := store.RevocationQuery{Replica: s.replica, Shard: sh, Since: since, Now: cutoff, Consistent: consistent}
		for {
			p, err := s.page(ctx, q)
			if err != nil {
				errs[sh] = err
				return
			}
			lists[sh] = append(lists[sh], p.Entries...)
			if p.Next == "" {
				return
			}
			q.After = p.Next
		}
	}
	if s.layout.Shards == 1 {
		readShard(0)
	} else {
		var wg sync.WaitGroup
		for sh := range s.layout.Shards {
			wg.Go(func() { readShard(sh) })
		}
		wg.Wait()
	}
	s.lastAttempt = start
	if err := errors.Join(errs...); err != nil {
		s.lastErr = err
		if !s.failing {
			s.failing = true
			s.o.Logger.Warn("revocation log unreadable", "error", err.Error(),
				"last_good_read", old.refreshed, "grace", s.o.Grace.String())
		}
		return err
	}
	s.noteSuccess(old.entries)

	changed := false
	for _, l := range lists {
		for _, r := range l {
			if _, ok := s.seen[r.ID]; !ok && r.ID != "" {
				s.seen[r.ID] = r
				changed = true
			}
		}
	}
	if !old.expires.IsZero() && !start.Before(old.expires) {
		for id, r := range s.seen {
			if !start.Before(r.Until.Add(s.o.Retain)) {
				delete(s.seen, id)
				changed = true
			}
		}
	}
	next := *old
	next.refreshed = start
	if changed {
		s.rebuild(&next)
	}
	s.state.Store(&next)
	return nil
}

// rebuild fills st's index from s.seen.
func (s *Set) rebuild(st *state) {
	st.sessions = map[string]struct{}{}
	st.jtis = map[string]struct{}{}
	st.users = map[string]time.Time{}
	st.expires = time.Time{}
	st.entries = len(s.seen)
	for _, r := range s.seen {
		switch r.Kind {
		case store.RevokeSession:
			st.sessions[r.Value] = struct{}{}
		case store.RevokeJTI:
			st.jtis[r.Value] = struct{}{}
		case store.RevokeUser:
			if at, ok := st.users[r.Value]; !ok || r.At.After(at) {
				st.users[r.Value] = r.At
			}
		default:
			// An unknown kind is written by a newer writer; it cannot be
			// matched, so say so rather than ignore it silently.
			s.o.Logger.Warn("unknown revocation kind", "kind", r.Kind, "id", r.ID)
		}
		if e := r.Until.Add(s.o.Retain); st.expires.IsZero() || e.Before(st.expires) {
			st.expires = e
		}
	}
}

// Check returns nil when t is not revoked, an error wrapping ErrRevoked when
// it is, and one wrapping ErrStale when the state cannot be trusted (ErrLoading
// while the initial load is not complete).
func (s *Set) Check(ctx context.Context, t Token) error {
	st := s.state.Load()
	if st.refreshed.IsZero() {
		if err := s.waitLoaded(ctx); err != nil {
			return err
		}
		st = s.state.Load()
	}
	now := s.o.Now()
	switch {
	case s.o.Strict:
		if err := s.refreshAfter(ctx, now, true, true); err != nil {
			return fmt.Errorf("%w: %v", ErrStale, err)
		}
		st = s.state.Load()
	case now.Sub(st.refreshed) > s.late:
		// The background poll is late: read now. If a read is already
		// under way and the state is within the grace, answer from the
		// state rather than queue behind a slow read.
		inGrace := now.Sub(st.refreshed) <= s.o.Grace
		err := s.refreshAfter(ctx, now.Add(-s.o.Poll), false, !inGrace)
		st = s.state.Load()
		if err != nil && now.Sub(st.refreshed) > s.o.Grace {
			return fmt.Errorf("%w: %v", ErrStale, err)
		}
	}
	return st.match(&t)
}

// waitLoaded waits up to LoadWait (and ctx) for the initial load.
func (s *Set) waitLoaded(ctx context.Context) error {
	t := time.NewTimer(s.o.LoadWait)
	defer t.Stop()
	select {
	case <-s.loaded:
		return nil
	case <-ctx.Done():
	case <-t.C:
	}
	if err := s.loadError(); err != nil {
		return fmt.Errorf("%w: %v", ErrLoading, err)
	}
	return ErrLoading
}

func (st *state) match(t *Token) error {
	if t.SessionID != "" {
		if _, ok := st.sessions[t.SessionID]; ok {
			return errRevokedSession
		}
	}
	if t.JTI != "" {
		if _, ok := st.jtis[t.JTI]; ok {
			return errRevokedJTI
		}
	}
	if t.OriginJTI != "" {
		if _, ok := st.jtis[t.OriginJTI]; ok {
			return errRevokedJTI
		}
	}
	if t.Subject != "" {
		// A token without auth_time has the zero time and so is covered by
		// any user revocation: fail closed.
		if at, ok := st.users[t.Subject]; ok && store.RevokedLogin(at, t.AuthTime) {
			return errRevokedUser
		}
	}
	return nil
}

// Stats describe the Set for logs, tests and benchmarks.
type Stats struct {
	Calls     int64   // DynamoDB Query calls attempted (one per page)
	Failures  int64   // calls that failed
	Polls     int64   // polls after the initial load
	Items     int64   // items read, expired ones included
	Bytes     int64   // their size as DynamoDB counts it
	ReadUnits float64 // read units DynamoDB reported consumed
	Foreign   int64   // entries seen that another layout wrote
	Entries   int     // live entries held
	Replica   int     // the replica read
	Loaded    bool    // the initial load is complete
	LoadTime  time.Duration
	Refreshed time.Time // when the last successful read was sent (zero: not loaded)
}

// Stats returns current counters.
func (s *Set) Stats() Stats {
	st := s.state.Load()
	return Stats{
		Calls:     s.calls.Load(),
		Failures:  s.failures.Load(),
		Polls:     s.polls.Load(),
		Items:     s.items.Load(),
		Bytes:     s.bytes.Load(),
		ReadUnits: float64(s.units.Load()) / 1000,
		Foreign:   s.foreign.Load(),
		Entries:   st.entries,
		Replica:   s.replica,
		Loaded:    !st.refreshed.IsZero(),
		LoadTime:  time.Duration(s.loadNanos.Load()),
		Refreshed: st.refreshed,
	}
}

// SourceFunc adapts a function that returns the whole live log appended at
// or after since (Until after now) to a Source of one replica and one shard,
// read in one page: for tests and tools with a small in-memory log.
type SourceFunc func(ctx context.Context, since, now time.Time) ([]store.Revocation, error)

// RevocationLayout is one replica of one shard.
func (f SourceFunc) RevocationLayout() store.RevocationLayout {
	return store.RevocationLayout{Replicas: 1, Shards: 1}
}

// ReadRevocations calls f once.
func (f SourceFunc) ReadRevocations(ctx context.Context, q store.RevocationQuery) (store.RevocationPage, error) {
	list, err := f(ctx, q.Since, q.Now)
	if err != nil {
		return store.RevocationPage{}, err
	}
	return store.RevocationPage{Entries: list, Items: len(list)}, nil
}
