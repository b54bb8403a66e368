package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRevokeFamily(t *testing.T) {
	s, clk := clockedStore(t)
	ctx := context.Background()

	if ok, err := s.FamilyRevoked(ctx, "fam-1"); err != nil || ok {
		t.Fatalf("fresh family revoked = %v, %v", ok, err)
	}
	until := t0.Add(30 * 24 * time.Hour)
	st, changed, err := s.RevokeFamily(ctx, "fam-1", t0, until, true)
	if err != nil || !changed || !st.RevokedAt.Equal(t0) || !st.Until.Equal(until) || st.RevocationLog != "" {
		t.Fatalf("first revoke = %+v, %v, %v", st, changed, err)
	}
	// A repeat changes nothing, even with other times.
	clk.Add(time.Minute)
	st, changed, err = s.RevokeFamily(ctx, "fam-1", clk.Now(), clk.Now().Add(time.Hour), false)
	if err != nil || changed || !st.RevokedAt.Equal(t0) || !st.Until.Equal(until) {
		t.Fatalf("repeat = %+v, %v, %v", st, changed, err)
	}
	if err := s.MarkFamilyLogged(ctx, "fam-1", "entry-1"); err != nil {
		t.Fatal(err)
	}
	if st, ok, err := s.Family(ctx, "fam-1"); err != nil || !ok || st.RevocationLog != "entry-1" {
		t.Fatalf("after mark = %+v, %v, %v", st, ok, err)
	}
	if err := s.MarkFamilyLogged(ctx, "fam-other", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("mark missing family = %v", err)
	}
	// No log needed: recorded as covered.
	if st, changed, err := s.RevokeFamily(ctx, "fam-2", t0, until, false); err != nil || !changed || st.RevocationLog != LogCovered {
		t.Fatalf("no-log revoke = %+v, %v, %v", st, changed, err)
	}
	// Past its ttl the family is forgotten, and may be revoked anew.
	clk.Set(until)
	if ok, err := s.FamilyRevoked(ctx, "fam-1"); err != nil || ok {
		t.Fatalf("expired family revoked = %v, %v", ok, err)
	}
	if _, changed, err := s.RevokeFamily(ctx, "fam-1", clk.Now(), clk.Now().Add(time.Hour), true); err != nil || !changed {
		t.Fatalf("revoke over expired = %v, %v", changed, err)
	}
	for name, err := range map[string]error{
		"empty":        second(s.FamilyRevoked(ctx, "")),
		"until before": third(s.RevokeFamily(ctx, "f", t0, t0, true)),
		"no family":    third(s.RevokeFamily(ctx, "", t0, until, true)),
	} {
		if name == "empty" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func third[A, B any](_ A, _ B, err error) error { return err }

func TestClaimIDTokenOnce(t *testing.T) {
	s, clk := clockedStore(t)
	ctx := context.Background()
	exp := t0.Add(5 * time.Minute)

	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			switch err := s.ClaimIDToken(ctx, "jti-1", exp); {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, ErrConflict):
				t.Errorf("claim: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d claims won, want 1", wins.Load())
	}
	if err := s.ClaimIDToken(ctx, "jti-2", exp); err != nil {
		t.Fatalf("another jti: %v", err)
	}
	// Once the token has expired the record may be replaced (it cannot be
	// presented any more anyway).
	clk.Set(exp)
	if err := s.ClaimIDToken(ctx, "jti-1", exp.Add(time.Minute)); err != nil {
		t.Fatalf("claim past expiry: %v", err)
	}
	if err := s.ClaimIDToken(ctx, "", exp); err == nil {
		t.Fatal("empty jti accepted")
	}
}

func TestRevokeSessionChangeAndLog(t *testing.T) {
	s, _ := clockedStore(t)
	ctx := context.Background()
	sess := newSession("s1", "u1", t0)
	sess.AccessExpiresAt = t0.Add(5 * time.Minute)
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSession(ctx, "s1")
	if err != nil || !got.AccessExpiresAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("at_exp round trip: %+v %v", got, err)
	}
	// Rotation records the new access token's expiry.
	got, err = s.RotateRefresh(ctx, "s1", []byte("h0-s1"), []byte("h1"), t0, t0.Add(time.Hour), t0.Add(7*time.Minute))
	if err != nil || !got.AccessExpiresAt.Equal(t0.Add(7*time.Minute)) {
		t.Fatalf("rotate at_exp: %+v %v", got, err)
	}
	if err := s.MarkRevocationLogged(ctx, "s1", "e1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("mark live session = %v, want ErrNotFound", err)
	}
	got, changed, err := s.RevokeSession(ctx, "s1", "logout", t0, "")
	if err != nil || !changed || got.RevocationLog != "" {
		t.Fatalf("revoke = %+v %v %v", got, changed, err)
	}
	if err := s.MarkRevocationLogged(ctx, "s1", "e1"); err != nil {
		t.Fatal(err)
	}
	got, changed, err = s.RevokeSession(ctx, "s1", "again", t0.Add(time.Minute), "")
	if err != nil || changed || got.RevocationLog != "e1" || got.RevokeReason != "logout" {
		t.Fatalf("repeat = %+v %v %v", got, changed, err)
	}
	// Covered in the same write.
	if err := s.CreateSession(ctx, newSession("s2", "u1", t0)); err != nil {
		t.Fatal(err)
	}
	if got, changed, err := s.RevokeSession(ctx, "s2", "user", t0, LogCovered); err != nil || !changed || got.RevocationLog != LogCovered {
		t.Fatalf("covered = %+v %v %v", got, changed, err)
	}
}
