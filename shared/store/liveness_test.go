package store

import (
	"testing"
	"time"
)

func TestLiveness(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	idle, abs := t0.Add(time.Hour), t0.Add(24*time.Hour)
	base := Session{CreatedAt: t0, AuthTime: t0.Add(-time.Minute), IdleExpiresAt: idle, AbsExpiresAt: abs, OriginJTI: "fam"}
	with := func(f func(*Session)) Session {
		s := base
		f(&s)
		return s
	}
	tests := []struct {
		name  string
		sess  Session
		now   time.Time
		login LoginState
		want  Liveness
	}{
		{"fresh", base, t0, LoginState{}, SessionLive},
		{"just before idle limit", base, idle.Add(-time.Nanosecond), LoginState{}, SessionLive},
		{"at idle limit", base, idle, LoginState{}, SessionIdleExpired},
		{"after idle limit", base, idle.Add(time.Second), LoginState{}, SessionIdleExpired},
		{"idle pushed to max: just before", with(func(s *Session) { s.IdleExpiresAt = abs }), abs.Add(-time.Nanosecond), LoginState{}, SessionLive},
		{"at max limit", with(func(s *Session) { s.IdleExpiresAt = abs }), abs, LoginState{}, SessionMaxExpired},
		{"both limits passed: max reported", base, abs.Add(time.Hour), LoginState{}, SessionMaxExpired},
		{"revoked", with(func(s *Session) { s.RevokedAt = t0 }), t0, LoginState{}, SessionRevoked},
		{"revoked and expired: revoked reported", with(func(s *Session) { s.RevokedAt = t0 }), abs.Add(time.Hour), LoginState{}, SessionRevoked},
		{"revoked in the future (revoker's clock ahead)", with(func(s *Session) { s.RevokedAt = t0.Add(time.Hour) }), t0, LoginState{}, SessionRevoked},
		{"created in the future (creator's clock ahead)", with(func(s *Session) { s.CreatedAt = t0.Add(2 * time.Second) }), t0, LoginState{}, SessionLive},
		{"clock behind the last refresh", with(func(s *Session) { s.LastUsedAt = t0.Add(5 * time.Second) }), t0, LoginState{}, SessionLive},
		{"user revoked after login", base, t0, LoginState{UserRevokedAt: t0}, SessionUserRevoked},
		{"user revoked at login instant", base, t0, LoginState{UserRevokedAt: base.AuthTime}, SessionUserRevoked},
		{"user revoked before login", base, t0, LoginState{UserRevokedAt: base.AuthTime.Add(-time.Nanosecond)}, SessionLive},
		{"user revocation future-dated", base, t0, LoginState{UserRevokedAt: t0.Add(time.Hour)}, SessionUserRevoked},
		{"login in the future of the revocation (IdP clock ahead)", with(func(s *Session) { s.AuthTime = t0.Add(time.Second) }), t0, LoginState{UserRevokedAt: t0}, SessionLive},
		{"no auth_time and a user revocation", with(func(s *Session) { s.AuthTime = time.Time{} }), t0, LoginState{UserRevokedAt: t0}, SessionUserRevoked},
		{"family revoked", base, t0, LoginState{FamilyRevoked: true}, SessionLoginRevoked},
		{"user and family revoked: user reported", base, t0, LoginState{UserRevokedAt: t0, FamilyRevoked: true}, SessionUserRevoked},
		{"expired and user revoked: expiry reported", base, idle, LoginState{UserRevokedAt: t0}, SessionIdleExpired},
		{"zero limits", Session{}, t0, LoginState{}, SessionMaxExpired},
	}
	for _, tt := range tests {
		got := tt.sess.Liveness(tt.now, tt.login)
		if got != tt.want {
			t.Errorf("%s: Liveness = %v, want %v", tt.name, got, tt.want)
		}
		if active := tt.sess.Active(tt.now); active != (tt.sess.Liveness(tt.now, LoginState{}) == SessionLive) {
			t.Errorf("%s: Active = %v disagrees with the rule", tt.name, active)
		}
	}
}

func TestLivenessString(t *testing.T) {
	for l, want := range map[Liveness]string{SessionLive: "live", SessionIdleExpired: "idle_expired", SessionLoginRevoked: "login_revoked", -1: "unknown", 99: "unknown"} {
		if got := l.String(); got != want {
			t.Errorf("%d: %q, want %q", l, got, want)
		}
	}
	if !SessionMaxExpired.Expired() || !SessionIdleExpired.Expired() || SessionRevoked.Expired() || SessionLive.Expired() {
		t.Error("Expired disagrees with the verdicts")
	}
}

func TestMatchRefresh(t *testing.T) {
	s := &Session{RefreshHash: []byte("cur"), PrevRefreshHashes: [][]byte{[]byte("p1"), []byte("p2"), []byte("p3")}}
	tests := []struct {
		hash string
		want RefreshMatch
	}{
		{"cur", RefreshCurrent},
		{"p1", RefreshPrevious},
		{"p2", RefreshRotated},
		{"p3", RefreshRotated},
		{"p4", RefreshUnknown},
		{"cu", RefreshUnknown},
		{"curr", RefreshUnknown},
		{"", RefreshUnknown},
	}
	for _, tt := range tests {
		got := s.MatchRefresh([]byte(tt.hash))
		if got != tt.want {
			t.Errorf("MatchRefresh(%q) = %d, want %d", tt.hash, got, tt.want)
		}
		if got.WasRotated() != (tt.want == RefreshPrevious || tt.want == RefreshRotated) {
			t.Errorf("MatchRefresh(%q).WasRotated() = %v", tt.hash, got.WasRotated())
		}
	}
	// A session without hashes (never stored so) matches nothing, not even
	// an empty hash.
	empty := &Session{}
	if m := empty.MatchRefresh(nil); m != RefreshUnknown {
		t.Errorf("empty session, nil hash: %d", m)
	}
	if m := empty.MatchRefresh([]byte{}); m != RefreshUnknown {
		t.Errorf("empty session, empty hash: %d", m)
	}
}
