package store

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestUseRefreshGrace(t *testing.T) {
	s, _ := sessionStore(t)
	ctx := context.Background()
	h0, h1, nonce := []byte("h0-s1"), []byte("h1"), bytes.Repeat([]byte{7}, 32)
	rot := t0.Add(time.Minute)
	got, err := s.RotateRefresh(ctx, "s1", h0, h1, rot, rot.Add(time.Hour), rot.Add(time.Hour), WithGraceNonce(nonce))
	if err != nil {
		t.Fatal(err)
	}
	if !got.GraceAt.Equal(rot) || !bytes.Equal(got.GraceNonce, nonce) || got.GraceUses != 0 {
		t.Fatalf("grace state after rotation: %v %x %d", got.GraceAt, got.GraceNonce, got.GraceUses)
	}
	now := rot.Add(10 * time.Second)
	since := now.Add(-30 * time.Second)
	for name, err := range map[string]error{
		"wrong previous":  second(s.UseRefreshGrace(ctx, "s1", []byte("hx"), h1, since, now, now, 5)),
		"wrong current":   second(s.UseRefreshGrace(ctx, "s1", h0, []byte("hx"), since, now, now, 5)),
		"window over":     second(s.UseRefreshGrace(ctx, "s1", h0, h1, rot.Add(time.Second), now, now, 5)),
		"no such session": second(s.UseRefreshGrace(ctx, "nope", h0, h1, since, now, now, 5)),
	} {
		if !errors.Is(err, ErrConflict) {
			t.Errorf("%s: %v, want ErrConflict", name, err)
		}
	}
	// Concurrent grace answers all land, up to the budget.
	const n, budget = 20, 25
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = s.UseRefreshGrace(ctx, "s1", h0, h1, since, now, now, budget) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("grace answer %d: %v", i, err)
		}
	}
	for range budget - n {
		if _, err := s.UseRefreshGrace(ctx, "s1", h0, h1, since, now, now, budget); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UseRefreshGrace(ctx, "s1", h0, h1, since, now, now, budget); !errors.Is(err, ErrConflict) {
		t.Fatalf("beyond the budget: %v", err)
	}
	// A rotation without a nonce clears the state; a revoked session gives
	// no answer.
	got, err = s.RotateRefresh(ctx, "s1", h1, []byte("h2"), now, now.Add(time.Hour), now.Add(time.Hour))
	if err != nil || got.GraceNonce != nil || !got.GraceAt.IsZero() || got.GraceUses != 0 {
		t.Fatalf("plain rotation kept grace state: %+v %v", got, err)
	}
	if _, err := s.RotateRefresh(ctx, "s1", []byte("h2"), []byte("h3"), now, now.Add(time.Hour), now.Add(time.Hour), WithGraceNonce(nonce)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RevokeSession(ctx, "s1", "test", now, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseRefreshGrace(ctx, "s1", []byte("h2"), []byte("h3"), since, now, now, budget); !errors.Is(err, ErrConflict) {
		t.Fatalf("revoked session: %v", err)
	}
}
