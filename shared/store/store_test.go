package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shortfuse/shortfuse/internal/dev/testclock"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/config"
)

// One dynalite serves the whole package, started on first use; each test
// gets its own table.
var (
	sharedDB testenv.SharedDynalite
	tableSeq atomic.Int64
)

func TestMain(m *testing.M) { os.Exit(sharedDB.Run(m)) }

// newTable creates a fresh table on d and returns its name.
func newTable(tb testing.TB, d *testenv.Dynamo) string {
	tb.Helper()
	name := fmt.Sprintf("shortfuse-%d", tableSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := CreateTable(ctx, d.Client, name); err != nil {
		tb.Fatal(err)
	}
	return name
}

// newTestStore returns a Store on a fresh table of the shared dynalite.
func newTestStore(tb testing.TB, opts ...Option) (*Store, *testenv.Dynamo) {
	tb.Helper()
	d := sharedDB.Get(tb)
	return New(d.Client, newTable(tb, d), opts...), d
}

// clockedStore returns a Store with opts on a fresh table, on a clock
// standing at t0.
func clockedStore(t *testing.T, opts ...Option) (*Store, *testclock.Clock) {
	t.Helper()
	clk := testclock.New(t0)
	s, _ := newTestStore(t, append([]Option{WithClock(clk.Now)}, opts...)...)
	return s, clk
}

// sessionStore returns a store on a clock standing at t0, holding session s1
// of user u1 (newSession).
func sessionStore(t *testing.T) (*Store, *testclock.Clock) {
	t.Helper()
	s, clk := clockedStore(t)
	if err := s.CreateSession(context.Background(), newSession("s1", "u1", t0)); err != nil {
		t.Fatal(err)
	}
	return s, clk
}

func newSession(id, sub string, now time.Time) *Session {
	return &Session{
		ID:            id,
		Sub:           sub,
		Username:      sub + "@example.com",
		ClientID:      "client",
		Groups:        []string{"users"},
		Scope:         "openid",
		OriginJTI:     "jti-" + id,
		AuthTime:      now.Add(-time.Minute),
		CreatedAt:     now,
		IdleExpiresAt: now.Add(time.Hour),
		AbsExpiresAt:  now.Add(24 * time.Hour),
		RefreshHash:   []byte("h0-" + id),
		UserAgent:     "test",
		SourceIP:      "192.0.2.7",
	}
}

var t0 = time.Unix(1_800_000_000, 0)

func TestCreateTableIdempotent(t *testing.T) {
	d := sharedDB.Get(t)
	name := newTable(t, d)
	if err := CreateTable(context.Background(), d.Client, name); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
}

func TestCreateGetSession(t *testing.T) {
	s, _ := clockedStore(t)
	ctx := context.Background()

	in := newSession("s1", "u1", t0)
	if err := s.CreateSession(ctx, in); err != nil {
		t.Fatal(err)
	}
	if !in.LastUsedAt.Equal(t0) {
		t.Errorf("LastUsedAt not defaulted to CreatedAt: %v", in.LastUsedAt)
	}
	got, err := s.GetSession(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	want := *in
	want.PrevRefreshHashes = nil
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("GetSession:\n got %+v\nwant %+v", *got, want)
	}
	if !got.Active(t0) {
		t.Error("new session not active")
	}

	dup := newSession("s1", "other", t0)
	if err := s.CreateSession(ctx, dup); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate CreateSession = %v, want ErrConflict", err)
	}
	if got, _ := s.GetSession(ctx, "s1"); got == nil || got.Sub != "u1" {
		t.Error("duplicate create overwrote the session")
	}
	if _, err := s.GetSession(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSession(missing) = %v, want ErrNotFound", err)
	}
}

func TestRotateRefresh(t *testing.T) {
	s, _ := sessionStore(t)
	ctx := context.Background()

	hash := func(i int) []byte {
		if i == 0 {
			return []byte("h0-s1")
		}
		return fmt.Appendf(nil, "h%d", i)
	}
	now := t0.Add(time.Minute)
	got, err := s.RotateRefresh(ctx, "s1", hash(0), hash(1), now, now.Add(time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.RefreshHash, hash(1)) || got.RefreshGen != 1 || !got.LastUsedAt.Equal(now) ||
		!got.IdleExpiresAt.Equal(now.Add(time.Hour)) || len(got.PrevRefreshHashes) != 1 ||
		!bytes.Equal(got.PrevRefreshHashes[0], hash(0)) {
		t.Errorf("after rotate: %+v", got)
	}
	stored, err := s.GetSession(ctx, "s1")
	if err != nil || fmt.Sprint(*stored) != fmt.Sprint(*got) {
		t.Errorf("GetSession after rotate = %+v, %v; want %+v", stored, err, got)
	}

	// The old hash is no longer current.
	if _, err := s.RotateRefresh(ctx, "s1", hash(0), hash(99), now, now.Add(time.Hour), now.Add(time.Hour)); !errors.Is(err, ErrConflict) {
		t.Errorf("rotate with stale hash = %v, want ErrConflict", err)
	}
	// Unknown session.
	if _, err := s.RotateRefresh(ctx, "nope", hash(0), hash(99), now, now.Add(time.Hour), now.Add(time.Hour)); !errors.Is(err, ErrConflict) {
		t.Errorf("rotate of unknown session = %v, want ErrConflict", err)
	}

	// Many rotations: the list keeps the newest MaxPrevRefreshHashes, newest first.
	for i := 1; i < 9; i++ {
		got, err = s.RotateRefresh(ctx, "s1", hash(i), hash(i+1), now, now.Add(time.Hour), now.Add(time.Hour))
		if err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
	}
	if got.RefreshGen != 9 {
		t.Errorf("RefreshGen = %d, want 9", got.RefreshGen)
	}
	var prev []string
	for _, h := range got.PrevRefreshHashes {
		prev = append(prev, string(h))
	}
	if want := "h8 h7 h6 h5 h4"; strings.Join(prev, " ") != want {
		t.Errorf("PrevRefreshHashes = %v, want %s", prev, want)
	}

	// Idle expiry: a rotation at or after idle_exp fails.
	late := now.Add(time.Hour)
	if _, err := s.RotateRefresh(ctx, "s1", hash(9), hash(10), late, late.Add(time.Hour), late.Add(time.Hour)); !errors.Is(err, ErrConflict) {
		t.Errorf("rotate after idle expiry = %v, want ErrConflict", err)
	}
	// Absolute expiry wins over a fresh idle expiry.
	if err := s.CreateSession(ctx, newSession("s2", "u1", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateRefresh(ctx, "s2", []byte("h0-s2"), hash(1), t0.Add(30*time.Minute), t0.Add(48*time.Hour), t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	abs := t0.Add(24 * time.Hour)
	if _, err := s.RotateRefresh(ctx, "s2", hash(1), hash(2), abs, abs.Add(time.Hour), abs.Add(time.Hour)); !errors.Is(err, ErrConflict) {
		t.Errorf("rotate at absolute expiry = %v, want ErrConflict", err)
	}
}

func TestRotateRefreshConcurrent(t *testing.T) {
	s, _ := newTestStore(t, WithClock(func() time.Time { return t0 }))
	ctx := context.Background()
	if err := s.CreateSession(ctx, newSession("s1", "u1", t0)); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var (
		wg        sync.WaitGroup
		wins      atomic.Int32
		conflicts atomic.Int32
		start     = make(chan struct{})
	)
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := s.RotateRefresh(ctx, "s1", []byte("h0-s1"), fmt.Appendf(nil, "new-%d", i), t0, t0.Add(time.Hour), t0.Add(time.Hour))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, ErrConflict):
				conflicts.Add(1)
			default:
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if wins.Load() != 1 || conflicts.Load() != n-1 {
		t.Errorf("wins = %d, conflicts = %d; want 1 and %d", wins.Load(), conflicts.Load(), n-1)
	}
	got, err := s.GetSession(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshGen != 1 || len(got.PrevRefreshHashes) != 1 || !bytes.HasPrefix(got.RefreshHash, []byte("new-")) {
		t.Errorf("after race: %+v", got)
	}
}

func TestRevokeSession(t *testing.T) {
	s, clk := sessionStore(t)
	ctx := context.Background()
	first := t0.Add(time.Minute)
	got, changed, err := s.RevokeSession(ctx, "s1", "logout", first, "")
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	if !got.RevokedAt.Equal(first) || got.RevokeReason != "logout" || got.Active(first) {
		t.Errorf("after revoke: %+v", got)
	}
	// Again, later, with another reason: the first revocation stands.
	got, changed, err = s.RevokeSession(ctx, "s1", "admin", first.Add(time.Hour), "")
	if err != nil || changed {
		t.Fatal(changed, err)
	}
	if !got.RevokedAt.Equal(first) || got.RevokeReason != "logout" {
		t.Errorf("second revoke changed it: %+v", got)
	}
	// A revoked session cannot rotate.
	if _, err := s.RotateRefresh(ctx, "s1", []byte("h0-s1"), []byte("h1"), first, first.Add(time.Hour), first.Add(time.Hour)); !errors.Is(err, ErrConflict) {
		t.Errorf("rotate after revoke = %v, want ErrConflict", err)
	}
	// Still readable, and listed, as revoked.
	if got, err := s.GetSession(ctx, "s1"); err != nil || got.RevokedAt.IsZero() {
		t.Errorf("GetSession after revoke = %+v, %v", got, err)
	}
	if _, _, err := s.RevokeSession(ctx, "missing", "x", first, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke missing = %v, want ErrNotFound", err)
	}
	// A zero time means now; no reason leaves none.
	if err := s.CreateSession(ctx, newSession("s2", "u1", t0)); err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(5 * time.Minute))
	got, _, err = s.RevokeSession(ctx, "s2", "", time.Time{}, "")
	if err != nil || !got.RevokedAt.Equal(t0.Add(5*time.Minute)) || got.RevokeReason != "" {
		t.Errorf("revoke with zero time = %+v, %v", got, err)
	}
}

func TestListUserSessions(t *testing.T) {
	s, clk := clockedStore(t, WithSessionRetention(time.Hour))
	ctx := context.Background()

	// s-old expires (ttl = abs + 1h retention) long before the others.
	old := newSession("s-old", "u1", t0)
	old.AbsExpiresAt = t0.Add(time.Hour)
	sessions := []*Session{
		old,
		newSession("s-a", "u1", t0.Add(time.Second)),
		newSession("s-b", "u1", t0.Add(2*time.Second)),
		newSession("s-c", "u1", t0.Add(2*time.Second+time.Millisecond)), // same second: nanos order
		newSession("s-other", "u2", t0.Add(3*time.Second)),
	}
	for _, sess := range sessions {
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.RevokeSession(ctx, "s-a", "logout", t0.Add(time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	ids := func() string {
		t.Helper()
		list, err := s.ListUserSessions(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, sess := range list {
			if sess.Sub != "u1" {
				t.Errorf("listed %s of %s", sess.ID, sess.Sub)
			}
			out = append(out, sess.ID)
		}
		return strings.Join(out, " ")
	}
	if got, want := ids(), "s-c s-b s-a s-old"; got != want {
		t.Errorf("list = %q, want %q", got, want)
	}
	// Past s-old's absolute expiry it is still listed (retention) ...
	clk.Set(t0.Add(90 * time.Minute))
	if got, want := ids(), "s-c s-b s-a s-old"; got != want {
		t.Errorf("list within retention = %q, want %q", got, want)
	}
	// ... and once its ttl passes it is not, though dynalite still holds it.
	clk.Set(t0.Add(2 * time.Hour))
	if got, want := ids(), "s-c s-b s-a"; got != want {
		t.Errorf("list after ttl = %q, want %q", got, want)
	}
	if list, err := s.ListUserSessions(ctx, "nobody"); err != nil || len(list) != 0 {
		t.Errorf("list of unknown user = %v, %v", list, err)
	}
}

func TestListUserSessionsPages(t *testing.T) {
	s, _ := newTestStore(t, WithClock(func() time.Time { return t0 }))
	s.pageLimit = 3
	ctx := context.Background()
	for i := range 10 {
		if err := s.CreateSession(ctx, newSession(fmt.Sprintf("s%02d", i), "u1", t0.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListUserSessions(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 10 || list[0].ID != "s09" || list[9].ID != "s00" {
		t.Errorf("got %d sessions, first %v", len(list), list)
	}
}

func TestRecentUserSessions(t *testing.T) {
	clk := testclock.New(t0.Add(2 * time.Hour))
	s, _ := newTestStore(t, WithClock(clk.Now), WithSessionRetention(time.Minute))
	s.pageLimit = 3 // several pages per listing
	ctx := context.Background()
	for i := range 10 {
		sess := newSession(fmt.Sprintf("s%02d", i), "u1", t0.Add(time.Duration(i)*time.Second))
		if i == 8 {
			sess.AbsExpiresAt = t0.Add(time.Hour) // its ttl has passed: never listed
		}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		limit    int
		want     string
		wantMore bool
	}{
		{1, "s09", true},
		{3, "s09 s07 s06", true},
		{8, "s09 s07 s06 s05 s04 s03 s02 s01", true},
		{9, "s09 s07 s06 s05 s04 s03 s02 s01 s00", false},
		{50, "s09 s07 s06 s05 s04 s03 s02 s01 s00", false},
	}
	for _, tt := range tests {
		list, more, err := s.RecentUserSessions(ctx, "u1", tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, sess := range list {
			ids = append(ids, sess.ID)
		}
		if got := strings.Join(ids, " "); got != tt.want || more != tt.wantMore {
			t.Errorf("limit %d: %q more=%v, want %q more=%v", tt.limit, got, more, tt.want, tt.wantMore)
		}
	}
	if _, _, err := s.RecentUserSessions(ctx, "u1", 0); err == nil {
		t.Error("limit 0 accepted")
	}
}

func TestExpiryCheckedOnRead(t *testing.T) {
	clk := testclock.New(t0)
	s, d := newTestStore(t, WithClock(clk.Now), WithSessionRetention(time.Hour),
		WithUserRevocationRetention(48*time.Hour))
	ctx := context.Background()

	sess := newSession("s1", "u1", t0)
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetUserRevokedAt(ctx, "u1", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendRevocation(ctx, Revocation{Kind: RevokeUser, Value: "u1", Until: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	clk.Set(t0.Add(24*time.Hour + time.Hour)) // the session's ttl: abs + retention
	if _, err := s.GetSession(ctx, "s1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSession past ttl = %v, want ErrNotFound", err)
	}
	if _, _, err := s.RevokeSession(ctx, "s1", "late", time.Time{}, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("RevokeSession past ttl = %v, want ErrNotFound", err)
	}
	if got, err := s.RevocationsSince(ctx, time.Time{}, clk.Now()); err != nil || len(got) != 0 {
		t.Errorf("RevocationsSince past Until = %v, %v; want none", got, err)
	}
	clk.Set(t0.Add(48 * time.Hour))
	if at, err := s.UserRevokedAt(ctx, "u1"); err != nil || !at.IsZero() {
		t.Errorf("UserRevokedAt past ttl = %v, %v; want zero", at, err)
	}
	// An expired record does not block a new, earlier revocation.
	if at, err := s.SetUserRevokedAt(ctx, "u1", t0.Add(-time.Hour)); err != nil || !at.Equal(t0.Add(-time.Hour)) {
		t.Errorf("SetUserRevokedAt over expired record = %v, %v", at, err)
	}

	// The items are still in the table: the store, not DynamoDB, hid them.
	out, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(sessionPK("s1"), sessionSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil || len(out.Item) == 0 {
		t.Errorf("raw GetItem = %v, %v; want the expired item still present", out, err)
	}
}

func TestUserRevokedAt(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if at, err := s.UserRevokedAt(ctx, "u1"); err != nil || !at.IsZero() {
		t.Fatalf("never revoked: %v, %v", at, err)
	}
	steps := []struct {
		set, want time.Time
	}{
		{t0, t0},
		{t0.Add(time.Hour), t0.Add(time.Hour)},
		{t0.Add(time.Minute), t0.Add(time.Hour)}, // older: ignored
		{t0.Add(time.Hour), t0.Add(time.Hour)},   // equal
		{t0.Add(2*time.Hour + 700*time.Millisecond), t0.Add(2 * time.Hour)},
	}
	for i, st := range steps {
		got, err := s.SetUserRevokedAt(ctx, "u1", st.set)
		if err != nil || !got.Equal(st.want) {
			t.Errorf("step %d: SetUserRevokedAt = %v, %v; want %v", i, got, err, st.want)
		}
		if got, err := s.UserRevokedAt(ctx, "u1"); err != nil || !got.Equal(st.want) {
			t.Errorf("step %d: UserRevokedAt = %v, %v; want %v", i, got, err, st.want)
		}
	}
	if at, _ := s.UserRevokedAt(ctx, "u2"); !at.IsZero() {
		t.Errorf("other user revoked at %v", at)
	}
}

func TestUserRevokedAtConcurrent(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	const n = 24
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			// Interleave old and new times so late writers often lose.
			at := t0.Add(time.Duration((i*7)%n) * time.Second)
			got, err := s.SetUserRevokedAt(ctx, "u1", at)
			if err != nil {
				t.Error(err)
				return
			}
			if got.Before(at) {
				t.Errorf("SetUserRevokedAt(%v) returned older %v", at, got)
			}
		})
	}
	close(start)
	wg.Wait()
	want := t0.Add((n - 1) * time.Second)
	if got, err := s.UserRevokedAt(ctx, "u1"); err != nil || !got.Equal(want) {
		t.Errorf("UserRevokedAt = %v, %v; want the maximum %v", got, err, want)
	}
}

func TestRevocationLog(t *testing.T) {
	s, clk := clockedStore(t)
	ctx := context.Background()

	var appended []Revocation
	for i := range 6 {
		clk.Set(t0.Add(time.Duration(i) * 100 * time.Millisecond))
		r := Revocation{Kind: RevokeSession, Value: fmt.Sprintf("s%d", i), Until: clk.Now().Add(time.Duration(i+1) * time.Minute)}
		got, err := s.AppendRevocation(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if !validRevocationID(got.ID) || !got.At.Equal(t0) {
			t.Errorf("appended %+v", got)
		}
		appended = append(appended, got)
	}
	// Caller-set At (a user revocation recorded later) keeps its value; the
	// ID still orders by append time.
	clk.Set(t0.Add(time.Second))
	back, err := s.AppendRevocation(ctx, Revocation{Kind: RevokeUser, Value: "u1", At: t0.Add(-time.Hour), Until: t0.Add(time.Hour)})
	if err != nil || !back.At.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("backdated append = %+v, %v", back, err)
	}
	appended = append(appended, back)

	values := func(rs []Revocation) string {
		var v []string
		for _, r := range rs {
			v = append(v, r.Value)
		}
		return strings.Join(v, " ")
	}
	tests := []struct {
		name       string
		since, now time.Time
		want       string
	}{
		{"all", time.Time{}, t0, "s0 s1 s2 s3 s4 s5 u1"},
		{"since inclusive", t0.Add(300 * time.Millisecond), t0, "s3 s4 s5 u1"},
		{"since between", t0.Add(301 * time.Millisecond), t0, "s4 s5 u1"},
		{"since after all", t0.Add(2 * time.Second), t0, ""},
		{"until passed", time.Time{}, t0.Add(90 * time.Second), "s1 s2 s3 s4 s5 u1"},
		// s1's Until, t0+2m0.1s, is stored rounded up to t0+2m1s.
		{"until rounded up", time.Time{}, t0.Add(2*time.Minute + 999*time.Millisecond), "s1 s2 s3 s4 s5 u1"},
		{"until equal is gone", time.Time{}, t0.Add(2*time.Minute + time.Second), "s2 s3 s4 s5 u1"},
		{"all gone", time.Time{}, t0.Add(time.Hour), ""},
	}
	for _, tt := range tests {
		got, err := s.RevocationsSince(ctx, tt.since, tt.now)
		if err != nil {
			t.Fatal(err)
		}
		if values(got) != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, values(got), tt.want)
		}
	}
	all, _ := s.RevocationsSince(ctx, time.Time{}, t0)
	for i, r := range all {
		if r != appended[i] {
			t.Errorf("entry %d = %+v, want %+v", i, r, appended[i])
		}
	}
	// IDs are the store's to assign.
	if _, err := s.AppendRevocation(ctx, appended[0]); err == nil {
		t.Error("append with a caller-set ID accepted")
	}
}

// appendJTIs appends n jti revocations (values 0 to n-1), one a millisecond
// from t0, each valid for an hour.
func appendJTIs(t *testing.T, s *Store, clk *testclock.Clock, n int) {
	t.Helper()
	for i := range n {
		clk.Set(t0.Add(time.Duration(i) * time.Millisecond))
		if _, err := s.AppendRevocation(context.Background(), Revocation{Kind: RevokeJTI, Value: fmt.Sprint(i), Until: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRevocationsPaginate(t *testing.T) {
	s, clk := clockedStore(t)
	ctx := context.Background()
	const n = 40
	appendJTIs(t, s, clk, n)
	s.pageLimit = 7
	got, err := s.RevocationsSince(ctx, time.Time{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("got %d entries over pages of 7, want %d", len(got), n)
	}
	for i, r := range got {
		if r.Value != fmt.Sprint(i) {
			t.Fatalf("entry %d = %q, out of order", i, r.Value)
		}
	}
}

// More than 1 MB of entries: DynamoDB (and dynalite) page by size.
func TestRevocationsPaginateBySize(t *testing.T) {
	clk := testclock.New(t0)
	s, d := newTestStore(t, WithClock(clk.Now), WithRevocationLayout(RevocationLayout{Replicas: 1, Shards: 1}))
	ctx := context.Background()
	const n = 600
	big := strings.Repeat("v", 2000)
	for i := range n {
		clk.Set(t0.Add(time.Duration(i) * time.Millisecond))
		if _, err := s.AppendRevocation(ctx, Revocation{Kind: RevokeJTI, Value: fmt.Sprintf("%04d%s", i, big), Until: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	// The first page alone is short of everything.
	out, err := d.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: item{":pk": attrS(revlogPK)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) >= n || len(out.LastEvaluatedKey) == 0 {
		t.Fatalf("first page holds %d of %d items; the test needs several pages", len(out.Items), n)
	}
	got, err := s.RevocationsSince(ctx, time.Time{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n || !strings.HasPrefix(got[n-1].Value, fmt.Sprintf("%04d", n-1)) {
		t.Errorf("got %d entries, want %d in order", len(got), n)
	}
}

func TestMalformedRevocationFailsPoll(t *testing.T) {
	s, d := newTestStore(t, WithClock(func() time.Time { return t0 }))
	ctx := context.Background()
	_, err := d.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item:      item{attrPK: attrS(revlogPK), attrSK: attrS(revTimeKey(t0) + "#0000000000000000"), aKind: attrS(RevokeJTI)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevocationsSince(ctx, time.Time{}, t0); err == nil || errors.Is(err, ErrUnavailable) {
		t.Errorf("RevocationsSince over a malformed entry = %v, want a malformed-item error", err)
	}
}

// Every operation must fail fast with ErrUnavailable while DynamoDB is down
// and work again as soon as it is back.
func TestUnavailableAndRecovery(t *testing.T) {
	d := testenv.Dynalite(t, testenv.Persistent())
	const timeout = 500 * time.Millisecond
	s := New(d.Client, newTable(t, d), WithTimeout(timeout))
	ctx := context.Background()
	now := time.Now()
	if err := s.CreateSession(ctx, newSession("s1", "u1", now)); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	ops := map[string]func() error{
		"CreateSession": func() error { return s.CreateSession(ctx, newSession("s2", "u1", now)) },
		"GetSession":    func() error { return second(s.GetSession(ctx, "s1")) },
		"RotateRefresh": func() error {
			return second(s.RotateRefresh(ctx, "s1", []byte("h0-s1"), []byte("h1"), now, now.Add(time.Hour), now.Add(time.Hour)))
		},
		"RevokeSession": func() error {
			_, _, err := s.RevokeSession(ctx, "s1", "x", now, "")
			return err
		},
		"ListUserSessions": func() error { return second(s.ListUserSessions(ctx, "u1")) },
		"RecentUserSessions": func() error {
			_, _, err := s.RecentUserSessions(ctx, "u1", 10)
			return err
		},
		"SetUserRevokedAt": func() error { return second(s.SetUserRevokedAt(ctx, "u1", now)) },
		"UserRevokedAt":    func() error { return second(s.UserRevokedAt(ctx, "u1")) },
		"AppendRevocation": func() error {
			return second(s.AppendRevocation(ctx, Revocation{Kind: RevokeJTI, Value: "j", Until: now.Add(time.Hour)}))
		},
		"RevocationsSince": func() error { return second(s.RevocationsSince(ctx, time.Time{}, now)) },
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s while down = %v, want ErrUnavailable", name, err)
		}
		// A bound on hanging, not a speed check: the deadline must hold.
		if el := time.Since(start); el > timeout+time.Second {
			t.Errorf("%s took %v with a %v timeout", name, el, timeout)
		}
	}

	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSession(ctx, "s1")
	if err != nil {
		t.Fatalf("GetSession after restart: %v", err)
	}
	if _, err := s.RotateRefresh(ctx, "s1", got.RefreshHash, []byte("h1"), now, now.Add(time.Hour), now.Add(time.Hour)); err != nil {
		t.Errorf("RotateRefresh after restart: %v", err)
	}
}

// A server that accepts connections and never answers: the store's deadline,
// not the HTTP client's, must end the call.
func TestDeadlineOnSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	client := dynamodb.NewFromConfig(testenv.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://" + ln.Addr().String())
	})
	const timeout = 300 * time.Millisecond
	s := New(client, "t", WithTimeout(timeout))
	start := time.Now()
	_, err = s.GetSession(context.Background(), "s1")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetSession = %v, want ErrUnavailable wrapping the deadline", err)
	}
	if el := time.Since(start); el > timeout+time.Second {
		t.Errorf("took %v with a %v timeout", el, timeout)
	}
	// The caller's own deadline applies too.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := New(client, "t", WithTimeout(time.Minute)).UserRevokedAt(ctx, "u1"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("UserRevokedAt under a short caller deadline = %v, want ErrUnavailable", err)
	}
}

func TestMissingTableIsNotUnavailable(t *testing.T) {
	d := sharedDB.Get(t)
	s := New(d.Client, "no-such-table")
	_, err := s.GetSession(context.Background(), "s1")
	if err == nil || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
		t.Errorf("GetSession on a missing table = %v, want a configuration error", err)
	}
}

func TestRevocationLayout(t *testing.T) {
	clk := testclock.New(t0)
	layout := RevocationLayout{Replicas: 3, Shards: 4}
	s, d := newTestStore(t, WithClock(clk.Now), WithRevocationLayout(layout))
	ctx := context.Background()
	const n = 40
	appendJTIs(t, s, clk, n)
	s.pageLimit = 3
	var replicas [3][]string
	for r := range layout.Replicas {
		perShard := 0
		for sh := range layout.Shards {
			q := RevocationQuery{Replica: r, Shard: sh, Now: t0}
			got := 0
			for {
				p, err := s.ReadRevocations(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if p.ForeignLayout != 0 || p.Items != len(p.Entries) || (p.Items > 0 && p.Bytes < 80*p.Items) {
					t.Fatalf("page %+v", p)
				}
				for _, e := range p.Entries {
					replicas[r] = append(replicas[r], e.Value)
				}
				got += len(p.Entries)
				if p.Next == "" {
					break
				}
				q.After = p.Next
			}
			if got == n {
				t.Errorf("replica %d: shard %d holds every entry; want them spread", r, sh)
			}
			perShard += got
		}
		if perShard != n {
			t.Errorf("replica %d holds %d entries, want %d", r, perShard, n)
		}
		slices.Sort(replicas[r])
	}
	if !slices.Equal(replicas[0], replicas[1]) || !slices.Equal(replicas[0], replicas[2]) {
		t.Error("replicas differ")
	}
	// A reader configured for another layout sees the difference.
	other := New(d.Client, s.table, WithRevocationLayout(RevocationLayout{Replicas: 3, Shards: 4}))
	other.layout = RevocationLayout{Replicas: 2, Shards: 4}
	foreign := 0
	for sh := range 4 {
		p, err := other.ReadRevocations(ctx, RevocationQuery{Shard: sh, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		foreign += p.ForeignLayout
	}
	if foreign != n {
		t.Errorf("foreign-layout entries = %d, want %d", foreign, n)
	}
	for _, q := range []RevocationQuery{{Replica: 3}, {Shard: 4}, {Replica: -1}, {After: "nope"}} {
		if _, err := s.ReadRevocations(ctx, q); err == nil {
			t.Errorf("query %+v accepted", q)
		}
	}
}

func TestRevocationLayoutFromEnv(t *testing.T) {
	env := config.FromMap(map[string]string{})
	if l := RevocationLayoutFromEnv(env); l != DefaultRevocationLayout() || env.Err() != nil {
		t.Errorf("default = %v, %v", l, env.Err())
	}
	env = config.FromMap(map[string]string{EnvRevocationReplicas: "0", EnvRevocationShards: "x"})
	RevocationLayoutFromEnv(env)
	err := fmt.Sprint(env.Err())
	if !strings.Contains(err, EnvRevocationReplicas) || !strings.Contains(err, EnvRevocationShards) {
		t.Errorf("errors = %s; want both variables named", err)
	}
	if (RevocationLayout{Replicas: 1, Shards: 0}).Validate() == nil || (RevocationLayout{Replicas: 501, Shards: 1}).Validate() == nil {
		t.Error("out-of-range layout valid")
	}
}

// slowBatches makes the first BatchWriteItem calls fail as a timed-out
// call would, leaves some requests unprocessed as throttling does, and can
// make calls take long by the store's clock.
type slowBatches struct {
	*dynamodb.Client
	mu          sync.Mutex
	fail        int
	unprocessed int
	late        int // calls that advance clk by a second
	clk         *testclock.Clock
	puts        map[string]bool
}

func (f *slowBatches) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, reqs := range in.RequestItems {
		for _, w := range reqs {
			if w.PutRequest != nil {
				f.puts[w.PutRequest.Item[attrSK].(*types.AttributeValueMemberS).Value] = true
			}
		}
	}
	if f.fail > 0 {
		f.fail--
		return nil, context.DeadlineExceeded
	}
	if f.late > 0 {
		f.late--
		f.clk.Set(f.clk.Now().Add(time.Second))
	}
	if f.unprocessed > 0 {
		f.unprocessed--
		for table, reqs := range in.RequestItems {
			out, err := f.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs[1:]}}, o...)
			if err != nil {
				return nil, err
			}
			out.UnprocessedItems = map[string][]types.WriteRequest{table: reqs[:1]}
			return out, nil
		}
	}
	return f.Client.BatchWriteItem(ctx, in, o...)
}

func TestAppendRevocationRetriesUnderNewID(t *testing.T) {
	d := sharedDB.Get(t)
	clk := testclock.New(time.Now())
	layout := RevocationLayout{Replicas: 2, Shards: 1}
	table := newTable(t, d)
	ctx := context.Background()
	// Each replica must end with exactly one copy, under the last ID.
	check := func(s *Store, value string) {
		t.Helper()
		for r := range layout.Replicas {
			p, err := s.ReadRevocations(ctx, RevocationQuery{Replica: r, Now: clk.Now()})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range p.Entries {
				if e.Value == value {
					n++
				}
			}
			if n != 1 {
				t.Errorf("replica %d holds %d copies of %s, want 1", r, n, value)
			}
		}
	}
	for _, tt := range []struct {
		name                    string
		fail, unprocessed, late int
		puts                    int
	}{
		// One call for both copies (one ID) fails; both move (two IDs);
		// one of those is left unprocessed and moves again.
		{"failed call, then throttled", 1, 1, 0, 4},
		// The write lands a second after its ID's time: both copies move
		// to fresh IDs once.
		{"late write", 0, 0, 1, 3},
		// Always late: each copy moves three times, then is accepted.
		{"always late", 0, 0, 100, 1 + 2*maxRevocationMoves},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &slowBatches{Client: d.Client, fail: tt.fail, unprocessed: tt.unprocessed, late: tt.late, clk: clk, puts: map[string]bool{}}
			s := newStore(f, table, WithRevocationLayout(layout), WithClock(clk.Now))
			if _, err := s.AppendRevocation(ctx, Revocation{Kind: RevokeUser, Value: tt.name, Until: clk.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if len(f.puts) != tt.puts {
				t.Errorf("IDs put = %d, want %d", len(f.puts), tt.puts)
			}
			check(s, tt.name)
		})
	}
	// A store that cannot write within its timeout says so.
	f := &slowBatches{Client: d.Client, fail: 1 << 30, puts: map[string]bool{}}
	s := newStore(f, table, WithRevocationLayout(layout), WithTimeout(300*time.Millisecond))
	if _, err := s.AppendRevocation(ctx, Revocation{Kind: RevokeUser, Value: "u", Until: time.Now().Add(time.Hour)}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("append while writes fail = %v, want ErrUnavailable", err)
	}
}

// AppendRevocations writes many entries in few calls.
func TestAppendRevocations(t *testing.T) {
	layout := RevocationLayout{Replicas: 2, Shards: 3}
	s, _ := newTestStore(t, WithRevocationLayout(layout))
	ctx := context.Background()
	now := time.Now()
	var rs []Revocation
	for i := range 100 {
		rs = append(rs, Revocation{Kind: RevokeSession, Value: fmt.Sprint("s", i), Until: now.Add(time.Hour)})
	}
	out, err := s.AppendRevocations(ctx, rs)
	if err != nil || len(out) != 100 || !validRevocationID(out[99].ID) {
		t.Fatalf("AppendRevocations = %d, %v", len(out), err)
	}
	got, err := s.RevocationsSince(ctx, time.Time{}, now)
	if err != nil || len(got) != 100 {
		t.Fatalf("read back %d, %v", len(got), err)
	}
	if _, err := s.AppendRevocations(ctx, []Revocation{{Kind: RevokeSession, Value: "ok", Until: now.Add(time.Hour)}, {Kind: "bad", Value: "x", Until: now.Add(time.Hour)}}); err == nil {
		t.Error("a batch with a bad entry accepted")
	}
}

// Adding replicas: writers switch to the new layout, the copy fills the new
// replicas with what was appended before.
func TestCopyRevocations(t *testing.T) {
	old, d := newTestStore(t, WithRevocationLayout(RevocationLayout{Replicas: 2, Shards: 3}))
	ctx := context.Background()
	now := time.Now()
	for i := range 30 {
		if _, err := old.AppendRevocation(ctx, Revocation{Kind: RevokeJTI, Value: fmt.Sprint("before-", i), Until: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	grown := New(d.Client, old.table, WithRevocationLayout(RevocationLayout{Replicas: 5, Shards: 3}))
	if _, err := grown.AppendRevocation(ctx, Revocation{Kind: RevokeJTI, Value: "after", Until: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	n, err := grown.CopyRevocations(ctx, 2)
	if err != nil || n != 31 {
		t.Fatalf("CopyRevocations = %d, %v; want 31", n, err)
	}
	for r := range 5 {
		count := 0
		for sh := range 3 {
			p, err := grown.ReadRevocations(ctx, RevocationQuery{Replica: r, Shard: sh, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			count += len(p.Entries)
		}
		if count != 31 {
			t.Errorf("replica %d holds %d entries, want 31", r, count)
		}
	}
	if _, err := grown.CopyRevocations(ctx, 6); err == nil {
		t.Error("copy from beyond the layout accepted")
	}
}

// SetUserRevokedAt is RevokeUser returning only the stored time, for the
// tests of the forward-only rule.
func (s *Store) SetUserRevokedAt(ctx context.Context, sub string, at time.Time) (time.Time, error) {
	st, _, err := s.RevokeUser(ctx, sub, at)
	if err != nil {
		return time.Time{}, err
	}
	return st.RevokedAt, nil
}
