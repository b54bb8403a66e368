package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/testclock"
)

func inviteID(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

func TestInviteCreateGet(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	s, _ := newTestStore(t, WithClock(clock.Now))
	inv := &Invite{ID: inviteID("A"), MaxUses: 3, Email: "a@example.com", Note: "team", ExpiresAt: clock.Now().Add(time.Hour)}
	if err := s.CreateInvite(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateInvite(ctx, inv); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	got, err := s.GetInvite(ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UsesLeft != 3 || got.MaxUses != 3 || got.Email != "a@example.com" || got.Note != "team" ||
		!got.ExpiresAt.Equal(inv.ExpiresAt) || !got.CreatedAt.Equal(clock.Now()) || len(got.UsedBy) != 0 {
		t.Fatalf("got %+v", got)
	}
	if _, err := s.GetInvite(ctx, inviteID("missing")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := s.GetInvite(ctx, "not-hex"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bad id: %v", err)
	}
	clock.Add(time.Hour + InviteRetention)
	if _, err := s.GetInvite(ctx, inv.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("past retention: %v", err)
	}
}

func TestInviteCreateValidation(t *testing.T) {
	s, _ := newTestStore(t)
	now := time.Now()
	for _, inv := range []*Invite{
		{ID: "short", MaxUses: 1, ExpiresAt: now.Add(time.Hour)},
		{ID: inviteID("x"), MaxUses: 0, ExpiresAt: now.Add(time.Hour)},
		{ID: inviteID("x"), MaxUses: MaxInviteUses + 1, ExpiresAt: now.Add(time.Hour)},
		{ID: inviteID("x"), MaxUses: 1, ExpiresAt: now.Add(-time.Second)},
	} {
		if err := s.CreateInvite(context.Background(), inv); err == nil {
			t.Errorf("CreateInvite(%+v) succeeded", inv)
		}
	}
}

func TestConsumeInvite(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	s, _ := newTestStore(t, WithClock(clock.Now))
	exp := clock.Now().Add(time.Hour)
	mk := func(code string, uses int, email string) string {
		t.Helper()
		inv := &Invite{ID: inviteID(code), MaxUses: uses, Email: email, ExpiresAt: exp}
		if err := s.CreateInvite(ctx, inv); err != nil {
			t.Fatal(err)
		}
		return inv.ID
	}
	single := mk("single", 1, "")
	multi := mk("multi", 2, "")
	bound := mk("bound", 1, "b@example.com")
	revoked := mk("revoked", 5, "")
	if _, err := s.RevokeInvite(ctx, revoked, clock.Now()); err != nil {
		t.Fatal(err)
	}
	expiring := mk("expiring", 5, "")

	seats := mk("seats", 5, "")
	use := func(email, id, seat string) InviteUse { return InviteUse{Email: email, Identity: id, Seat: seat} }
	steps := []struct {
		name, id string
		use      InviteUse
		want     error
		left     int
	}{
		{"single first", single, use("a@example.com", "id:a", "email:a@example.com"), nil, 0},
		{"single retry same identity", single, use("a@example.com", "id:a", "email:a@example.com"), nil, 0},
		{"single same seat, other identity", single, use("a@example.com", "id:A", "email:a@example.com"), ErrInviteUsedUp, 0},
		{"single second user", single, use("c@example.com", "id:c", "email:c@example.com"), ErrInviteUsedUp, 0},
		{"multi 1", multi, use("a@example.com", "id:a", "email:a@example.com"), nil, 1},
		{"multi 2", multi, use("", "id:bob", ""), nil, 0},
		{"multi 3", multi, use("d@example.com", "id:d", "email:d@example.com"), ErrInviteUsedUp, 0},
		{"seats 1", seats, use("a@example.com", "id:a", "email:a@example.com"), nil, 4},
		{"seats, same seat", seats, use("a+x@example.com", "id:a+x", "email:a@example.com"), ErrInviteUsedUp, 4},
		{"seats, retry", seats, use("a@example.com", "id:a", "email:a@example.com"), nil, 4},
		{"seats 2", seats, use("b@example.com", "id:b", "email:b@example.com"), nil, 3},
		{"bound wrong email", bound, use("x@example.com", "id:x", "email:x@example.com"), ErrInviteEmail, 0},
		{"bound no email", bound, use("", "id:x", ""), ErrInviteEmail, 0},
		{"bound right email", bound, use("b@example.com", "id:b", "email:b@example.com"), nil, 0},
		{"revoked", revoked, use("a@example.com", "id:a", "email:a@example.com"), ErrInviteRevoked, 0},
		{"unknown", inviteID("nope"), use("a@example.com", "id:a", "email:a@example.com"), ErrNotFound, 0},
	}
	for _, st := range steps {
		inv, err := s.ConsumeInvite(ctx, st.id, st.use)
		if st.want != nil {
			if !errors.Is(err, st.want) {
				t.Errorf("%s: err %v, want %v", st.name, err, st.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", st.name, err)
			continue
		}
		if inv.UsesLeft != st.left {
			t.Errorf("%s: uses left %d, want %d", st.name, inv.UsesLeft, st.left)
		}
	}
	if got, _ := s.GetInvite(ctx, multi); strings.Join(got.UsedBy, " ") != "id:a email:a@example.com id:bob" {
		t.Errorf("multi used by %v", got.UsedBy)
	}
	for _, bad := range []InviteUse{{}, {Identity: "x", Seat: "x"}, {Identity: strings.Repeat("x", 321)}} {
		if _, err := s.ConsumeInvite(ctx, seats, bad); err == nil || errors.Is(err, ErrConflict) {
			t.Errorf("use %+v: %v", bad, err)
		}
	}
	clock.Set(exp)
	if _, err := s.ConsumeInvite(ctx, expiring, use("a@example.com", "id:a", "")); !errors.Is(err, ErrInviteExpired) {
		t.Errorf("expired: %v", err)
	}
	for _, e := range []error{ErrInviteUsedUp, ErrInviteExpired, ErrInviteRevoked, ErrInviteEmail} {
		if !errors.Is(e, ErrConflict) {
			t.Errorf("%v does not wrap ErrConflict", e)
		}
	}
}

// Many sign-ups race for a single-use invite: exactly one wins.
func TestConsumeInviteRace(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	for _, uses := range []int{1, 3} {
		id := inviteID(fmt.Sprint("race", uses))
		if err := s.CreateInvite(ctx, &Invite{ID: id, MaxUses: uses, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var wins, usedUp atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Twenty identities, half of them sharing one seat.
				who := fmt.Sprintf("u%d@example.com", i)
				seat := "email:" + who
				if i%2 == 0 {
					seat = "email:same@example.com"
				}
				_, err := s.ConsumeInvite(ctx, id, InviteUse{Email: who, Identity: "id:" + who, Seat: seat})
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, ErrInviteUsedUp):
					usedUp.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != int32(uses) || usedUp.Load() != int32(20-uses) {
			t.Errorf("max %d: %d wins, %d used up", uses, wins.Load(), usedUp.Load())
		}
		inv, err := s.GetInvite(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if inv.UsesLeft != 0 || len(inv.UsedBy) != 2*uses || strings.Count(strings.Join(inv.UsedBy, " "), "same@") > 1 {
			t.Errorf("max %d: after race %+v", uses, inv)
		}
	}
}

func TestRevokeListInvites(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	s, _ := newTestStore(t, WithClock(clock.Now))
	var ids []string
	for i := range 3 {
		inv := &Invite{ID: inviteID(fmt.Sprint("list", i)), MaxUses: 1, ExpiresAt: clock.Now().Add(time.Hour)}
		if err := s.CreateInvite(ctx, inv); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inv.ID)
		clock.Add(time.Second)
	}
	first := clock.Now()
	inv, err := s.RevokeInvite(ctx, ids[1], first)
	if err != nil || !inv.RevokedAt.Equal(first) {
		t.Fatalf("revoke: %+v %v", inv, err)
	}
	clock.Add(time.Minute)
	inv, err = s.RevokeInvite(ctx, ids[1], clock.Now())
	if err != nil || !inv.RevokedAt.Equal(first) {
		t.Fatalf("second revoke changed the time: %+v %v", inv, err)
	}
	if _, err := s.RevokeInvite(ctx, inviteID("missing"), clock.Now()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke missing: %v", err)
	}
	list, err := s.ListInvites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ID != ids[2] || list[2].ID != ids[0] || list[1].RevokedAt.IsZero() {
		t.Fatalf("list %+v", list)
	}
}
