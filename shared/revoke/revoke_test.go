package revoke

import (
	"context"
	"errors"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/shared/testenv"
)

type fakeCognito struct {
	calls []string
	err   error
	block bool
}

func (f *fakeCognito) AdminUserGlobalSignOut(ctx context.Context, in *cip.AdminUserGlobalSignOutInput, _ ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error) {
	f.calls = append(f.calls, *in.UserPoolId+"/"+*in.Username)
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &cip.AdminUserGlobalSignOutOutput{}, f.err
}

func newStore(t *testing.T) *store.Store {
	d := testenv.Dynalite(t)
	if err := store.CreateTable(context.Background(), d.Client, "revocations"); err != nil {
		t.Fatal(err)
	}
	return store.New(d.Client, "revocations")
}

func session(id, sub string, now time.Time) *store.Session {
	return &store.Session{ID: id, Sub: sub, Username: "name-" + sub, ClientID: "c", AuthTime: now.Add(-time.Minute),
		AbsExpiresAt: now.Add(time.Hour), IdleExpiresAt: now.Add(time.Hour), RefreshHash: make([]byte, 32)}
}

func TestRevoker(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	now := time.Now().Truncate(time.Second)
	for _, s := range []*store.Session{session("s1", "u1", now), session("s2", "u1", now), session("s3", "u2", now)} {
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	cog := &fakeCognito{}
	r := New(st, time.Hour, WithCognito(cog, "pool"), WithClock(func() time.Time { return now }))

	t.Run("session", func(t *testing.T) {
		s, err := r.Session(ctx, "s1", ReasonAdmin)
		if err != nil || !s.RevokedAt.Equal(now) || s.RevokeReason != ReasonAdmin {
			t.Fatalf("%+v %v", s, err)
		}
		// Idempotent: the first revocation stays on record.
		s, err = r.Session(ctx, "s1", ReasonUserSignOut)
		if err != nil || s.RevokeReason != ReasonAdmin {
			t.Fatalf("%+v %v", s, err)
		}
		if _, err := r.Session(ctx, "nope", ReasonAdmin); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing session: %v", err)
		}
		revs, err := st.RevocationsSince(ctx, now.Add(-time.Minute), now)
		if err != nil || len(revs) == 0 || revs[0].Kind != store.RevokeSession || revs[0].Value != "s1" || !revs[0].Until.Equal(now.Add(time.Hour)) {
			t.Fatalf("log %+v %v", revs, err)
		}
	})
	t.Run("user", func(t *testing.T) {
		res, err := r.User(ctx, "u1", "", ReasonAdmin, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Sessions) != 1 || res.Sessions[0] != "s2" || !res.GlobalSignOut || !res.RevokedAt.Equal(now) {
			t.Fatalf("%+v", res)
		}
		if len(cog.calls) != 1 || cog.calls[0] != "pool/name-u1" {
			t.Fatalf("cognito calls %v", cog.calls)
		}
		if at, err := st.UserRevokedAt(ctx, "u1"); err != nil || !at.Equal(now) {
			t.Fatalf("revoked at %v %v", at, err)
		}
		if s, _ := st.GetSession(ctx, "s2"); s.RevokedAt.IsZero() || s.RevokeReason != ReasonAdmin {
			t.Fatalf("s2 %+v", s)
		}
		if s, _ := st.GetSession(ctx, "s3"); !s.RevokedAt.IsZero() {
			t.Fatal("another user's session revoked")
		}
		revs, err := st.RevocationsSince(ctx, now.Add(-time.Minute), now)
		found := false
		for _, e := range revs {
			found = found || (e.Kind == store.RevokeUser && e.Value == "u1")
		}
		if err != nil || !found {
			t.Fatalf("log %+v %v", revs, err)
		}
	})
	t.Run("user without sessions signs out by sub", func(t *testing.T) {
		cog.calls = nil
		if _, err := r.User(ctx, "u9", "", ReasonAdmin, true); err != nil || cog.calls[0] != "pool/u9" {
			t.Fatalf("%v %v", err, cog.calls)
		}
	})
	t.Run("cognito failure", func(t *testing.T) {
		cog.err = errors.New("boom")
		defer func() { cog.err = nil }()
		res, err := r.User(ctx, "u2", "explicit", ReasonAdmin, true)
		if !errors.Is(err, ErrGlobalSignOut) || res.RevokedAt.IsZero() || len(res.Sessions) != 1 {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("cognito timeout", func(t *testing.T) {
		blocking := &fakeCognito{block: true}
		r := New(st, time.Hour, WithCognito(blocking, "pool"), WithTimeout(50*time.Millisecond))
		if _, err := r.User(ctx, "u3", "", ReasonAdmin, true); !errors.Is(err, ErrGlobalSignOut) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("no pool", func(t *testing.T) {
		if _, err := New(st, time.Hour).User(ctx, "u4", "", ReasonAdmin, true); !errors.Is(err, ErrNoUserPool) {
			t.Fatalf("%v", err)
		}
		if at, _ := st.UserRevokedAt(ctx, "u4"); !at.IsZero() {
			t.Fatal("refused request changed state")
		}
	})
}

func TestStoreDown(t *testing.T) {
	d := testenv.Dynalite(t)
	if err := store.CreateTable(context.Background(), d.Client, "revocations"); err != nil {
		t.Fatal(err)
	}
	st := store.New(d.Client, "t", store.WithTimeout(time.Second))
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	r := New(st, time.Hour)
	if _, err := r.Session(context.Background(), "s", ReasonAdmin); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("%v", err)
	}
	if _, err := r.User(context.Background(), "u", "", ReasonAdmin, false); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("%v", err)
	}
}
