package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCountFamilyEntry(t *testing.T) {
	s, clk := clockedStore(t)
	ctx := context.Background()
	const limit = 3
	life := 2 * time.Hour

	if c, err := s.FamilyCount(ctx, "u1"); err != nil || c.N != 0 || !c.Until.IsZero() {
		t.Fatalf("fresh count = %+v, %v", c, err)
	}
	var last time.Time
	for i := 1; i <= limit; i++ {
		last = clk.Now().Add(life)
		c, ok, err := s.CountFamilyEntry(ctx, "u1", limit, last, false)
		if err != nil || !ok || c.N != i || !c.Until.Equal(last) {
			t.Fatalf("count %d = %+v, %v, %v", i, c, ok, err)
		}
		clk.Add(time.Minute)
	}
	// Full: refused, unchanged.
	if c, ok, err := s.CountFamilyEntry(ctx, "u1", limit, clk.Now().Add(life), false); err != nil || ok || c.N != limit || !c.Until.Equal(last) {
		t.Fatalf("past limit = %+v, %v, %v", c, ok, err)
	}
	// An earlier expiry (a writer whose clock runs behind) never shortens the counter.
	if c, ok, err := s.CountFamilyEntry(ctx, "u1", limit, last.Add(-time.Hour), true); err != nil || !ok || c.N != limit+1 || !c.Until.Equal(last) {
		t.Fatalf("forced = %+v, %v, %v", c, ok, err)
	}
	// Other users are apart.
	if c, ok, err := s.CountFamilyEntry(ctx, "u2", limit, clk.Now().Add(life), false); err != nil || !ok || c.N != 1 {
		t.Fatalf("other user = %+v, %v, %v", c, ok, err)
	}
	// Only once every counted entry has expired does the count restart.
	clk.Set(last.Add(-time.Second))
	if c, err := s.FamilyCount(ctx, "u1"); err != nil || c.N != limit+1 {
		t.Fatalf("before expiry = %+v, %v", c, err)
	}
	clk.Set(last)
	if c, err := s.FamilyCount(ctx, "u1"); err != nil || c.N != 0 {
		t.Fatalf("after expiry = %+v, %v", c, err)
	}
	next := clk.Now().Add(life)
	if c, ok, err := s.CountFamilyEntry(ctx, "u1", limit, next, false); err != nil || !ok || c.N != 1 || !c.Until.Equal(next) {
		t.Fatalf("new window = %+v, %v, %v", c, ok, err)
	}
	for name, err := range map[string]error{
		"no sub":   third(s.CountFamilyEntry(ctx, "", limit, next, false)),
		"no limit": third(s.CountFamilyEntry(ctx, "u1", 0, next, false)),
		"count":    second(s.FamilyCount(ctx, "")),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Concurrent counts never pass the limit, whatever their order.
func TestCountFamilyEntryRace(t *testing.T) {
	s, _ := clockedStore(t)
	ctx := context.Background()
	const limit, writers = 5, 20
	// One entry already counted, so the others race on an open counter.
	if _, ok, err := s.CountFamilyEntry(ctx, "u", limit, t0.Add(time.Hour), false); err != nil || !ok {
		t.Fatal(ok, err)
	}
	var wg sync.WaitGroup
	var counted atomic.Int64
	for i := range writers {
		wg.Go(func() {
			_, ok, err := s.CountFamilyEntry(ctx, "u", limit, t0.Add(time.Hour+time.Duration(i)*time.Second), false)
			if err != nil {
				t.Error(err)
			}
			if ok {
				counted.Add(1)
			}
		})
	}
	wg.Wait()
	c, err := s.FamilyCount(ctx, "u")
	if err != nil || counted.Load() != limit-1 || c.N != limit {
		t.Fatalf("counted %d, stored %+v, %v", counted.Load(), c, err)
	}
}
