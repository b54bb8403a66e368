// Package revset keeps an in-memory copy of the revocation log so that a
// warm authorizer can refuse revoked tokens without any I/O per request.
//
// A Set loads the live window of the log once, then polls for new entries
// every Poll. Each poll re-reads an overlap window before its previous read,
// because an entry's ID carries the writer's clock and its write may land
// late; entries are deduplicated by ID. An entry is dropped once its Until
// (plus Retain) has passed: no token it could affect is accepted any more.
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
)

// Prebuilt so that a refusal does not allocate.
var (
	errRevokedSession = fmt.Errorf("%w: session", ErrRevoked)
	errRevokedJTI     = fmt.Errorf("%w: jti", ErrRevoked)
	errRevokedUser    = fmt.Errorf("%w: user", ErrRevoked)
)

// Source reads the revocation log; *store.Store implements it.
type Source interface {
	// RevocationsSince returns the entries appended at or after since whose
	// Until is after now, oldest first.
	RevocationsSince(ctx context.Context, since, now time.Time) ([]store.Revocation, error)
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
	DefaultPoll    = time.Second
	DefaultGrace   = 10 * time.Second
	DefaultOverlap = 10 * time.Second
	DefaultRetain  = time.Minute
)

// Options configure a Set. Zero values take the defaults.
type Options struct {
	// Poll is the interval between reads of the log (default 1s).
	Poll time.Duration
	// Grace is how long the last good read may be used while the log cannot
	// be read (default 10s, at least Poll).
	Grace time.Duration
	// Overlap is how far before its previous read each poll starts, to
	// tolerate writer clock skew and late writes (default 10s).
	Overlap time.Duration
	// Retain keeps entries this long past their Until, covering the
	// verifier's exp leeway and reader clock skew (default 1m).
	Retain time.Duration
	// Lookback limits the initial load to entries appended within it,
	// widened by Retain and Overlap so that an entry still live (appended
	// at most Lookback before its Until, by a writer whose clock may lag)
	// is never left out; it should be at least the longest Until minus
	// append time any writer uses. Zero reads the whole log.
	Lookback time.Duration
	// Timeout bounds one read of the log (default awsx.CallTimeout).
	Timeout time.Duration
	// Strict reads the log before every Check instead of polling.
	Strict bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives state changes (default: discard).
	Logger *slog.Logger
}

// Set is the polled revocation set. It is safe for concurrent use.
type Set struct {
	src Source
	o   Options
	// late is the state age past which Check refreshes before answering.
	late time.Duration

	state atomic.Pointer[state]

	mu          sync.Mutex // serialises reads of the log; guards the fields below
	seen        map[string]store.Revocation
	lastAttempt time.Time
	lastErr     error
	failing     bool

	calls    atomic.Int64
	failures atomic.Int64

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
	// refreshed is when the last successful read was sent (zero: never).
	// Everything committed before it is in the snapshot.
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
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Set{
		src:  src,
		o:    o,
		late: o.Poll + o.Poll/2,
		seen: map[string]store.Revocation{},
		done: make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.state.Store(&state{})
	return s
}

// Start loads the log and, unless the Set is strict, starts polling in the
// background until Close. A failed load is returned but not fatal: Check
// refuses every token until a later read succeeds.
func (s *Set) Start(ctx context.Context) error {
	err := s.Refresh(ctx)
	s.startOnce.Do(func() {
		if s.o.Strict {
			close(s.done)
			return
		}
		go s.loop()
	})
	return err
}

// Close stops polling. It is safe to call more than once.
func (s *Set) Close() {
	s.closeOnce.Do(s.cancel)
	s.startOnce.Do(func() { close(s.done) })
	<-s.done
}

func (s *Set) loop() {
	defer close(s.done)
	t := time.NewTicker(s.o.Poll)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			// A Check may have refreshed a moment ago; skip a redundant read.
			if st := s.state.Load(); !st.refreshed.IsZero() && s.o.Now().Sub(st.refreshed) < s.o.Poll/2 {
				continue
			}
			_ = s.Refresh(s.ctx)
		}
	}
}

// Refresh reads the log now.
func (s *Set) Refresh(ctx context.Context) error {
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
	if r := s.state.Load().refreshed; !r.IsZero() && !r.Before(t) {
		return nil
	}
	if !force && s.lastErr != nil && s.o.Now().Sub(s.lastAttempt) < s.o.Poll {
		return s.lastErr
	}
	return s.readLocked(ctx)
}

func (s *Set) readLocked(ctx context.Context) error {
	start := s.o.Now()
	old := s.state.Load()
	since := time.Unix(0, 0)
	switch {
	case !old.refreshed.IsZero():
		since = old.refreshed.Add(-s.o.Overlap)
	case s.o.Lookback > 0:
		// An entry is kept until Until+Retain, and its ID carries the
		// writer's clock: look back as far as a live entry can reach.
		since = start.Add(-(s.o.Lookback + s.o.Retain + s.o.Overlap))
	}
	s.calls.Add(1)
	cctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	list, err := s.src.RevocationsSince(cctx, since, start.Add(-s.o.Retain))
	cancel()
	s.lastAttempt = start
	if err != nil {
		s.failures.Add(1)
		s.lastErr = err
		if !s.failing {
			s.failing = true
			s.o.Logger.Warn("revocation log unreadable", "error", err.Error(),
				"last_good_read", old.refreshed, "grace", s.o.Grace.String())
		}
		return err
	}
	s.lastErr = nil
	if s.failing {
		s.failing = false
		s.o.Logger.Info("revocation log readable again", "entries", old.entries)
	}

	changed := false
	for _, r := range list {
		if _, ok := s.seen[r.ID]; !ok && r.ID != "" {
			s.seen[r.ID] = r
			changed = true
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
// it is, and one wrapping ErrStale when the state cannot be trusted.
func (s *Set) Check(ctx context.Context, t Token) error {
	now := s.o.Now()
	st := s.state.Load()
	switch {
	case s.o.Strict:
		if err := s.refreshAfter(ctx, now, true, true); err != nil {
			return fmt.Errorf("%w: %v", ErrStale, err)
		}
		st = s.state.Load()
	case st.refreshed.IsZero() || now.Sub(st.refreshed) > s.late:
		// The background poll is late: read now. If a read is already
		// under way and the state is within the grace, answer from the
		// state rather than queue behind a slow read.
		inGrace := !st.refreshed.IsZero() && now.Sub(st.refreshed) <= s.o.Grace
		err := s.refreshAfter(ctx, now.Add(-s.o.Poll), false, !inGrace)
		st = s.state.Load()
		if err != nil && (st.refreshed.IsZero() || now.Sub(st.refreshed) > s.o.Grace) {
			return fmt.Errorf("%w: %v", ErrStale, err)
		}
	}
	return st.match(&t)
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
	Calls     int64     // reads of the log attempted (each one DynamoDB Query, plus pages)
	Failures  int64     // reads that failed
	Entries   int       // live entries held
	Refreshed time.Time // when the last successful read was sent (zero: never)
}

// Stats returns current counters.
func (s *Set) Stats() Stats {
	st := s.state.Load()
	return Stats{
		Calls:     s.calls.Load(),
		Failures:  s.failures.Load(),
		Entries:   st.entries,
		Refreshed: st.refreshed,
	}
}
