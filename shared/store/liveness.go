package store

import (
	"crypto/subtle"
	"time"
)

// Liveness is the verdict of the session-liveness rule (Session.Liveness):
// SessionLive, or why the session can no longer be used.
type Liveness int

// Verdicts of Session.Liveness, in the order the rule tests them.
const (
	SessionLive         Liveness = iota
	SessionRevoked               // the session itself was revoked
	SessionMaxExpired            // its absolute limit has passed
	SessionIdleExpired           // its idle limit has passed
	SessionUserRevoked           // its user was revoked at or after its login
	SessionLoginRevoked          // its login family was revoked
)

var livenessNames = [...]string{"live", "revoked", "max_expired", "idle_expired", "user_revoked", "login_revoked"}

func (l Liveness) String() string {
	if l < 0 || int(l) >= len(livenessNames) {
		return "unknown"
	}
	return livenessNames[l]
}

// Expired reports whether the verdict is one of the session's time limits.
func (l Liveness) Expired() bool { return l == SessionMaxExpired || l == SessionIdleExpired }

// LoginState is what the revocation records say about a session's login:
// its user's revocation time (UserRevokedAt) and whether its login family
// (OriginJTI, FamilyRevoked) is revoked. The zero value says nothing is
// revoked, so Liveness with it judges the session item alone.
type LoginState struct {
	UserRevokedAt time.Time
	FamilyRevoked bool
}

// Liveness is the one rule for whether a session can still be used at now:
// not revoked, before both its absolute and its idle limit (a limit is
// passed at the instant it names), and its login not revoked by login,
// the records read from UserRevokedAt and FamilyRevoked. It is pure:
// what follows from a verdict (ending the session, a log line, a metric)
// is each caller's decision. CreatedAt is not consulted, so a session
// stamped by a container whose clock runs ahead is live here.
func (s *Session) Liveness(now time.Time, login LoginState) Liveness {
	switch {
	case !s.RevokedAt.IsZero():
		return SessionRevoked
	case !now.Before(s.AbsExpiresAt):
		return SessionMaxExpired
	case !now.Before(s.IdleExpiresAt):
		return SessionIdleExpired
	}
	return login.Check(s.AuthTime)
}

// Check is the login part of the liveness rule, for a login that
// authenticated at authTime (a session's, or an ID token's before any
// session exists): SessionUserRevoked when its user was revoked at or
// after it, SessionLoginRevoked when its family was revoked, else
// SessionLive.
func (l LoginState) Check(authTime time.Time) Liveness {
	switch {
	case RevokedLogin(l.UserRevokedAt, authTime):
		return SessionUserRevoked
	case l.FamilyRevoked:
		return SessionLoginRevoked
	}
	return SessionLive
}

// Active reports whether the session item alone allows use at now: the
// liveness rule without the revocation records.
func (s *Session) Active(now time.Time) bool {
	return s.Liveness(now, LoginState{}) == SessionLive
}

// RefreshMatch says which of a session's refresh tokens a presented one is.
type RefreshMatch int

// Results of Session.MatchRefresh.
const (
	RefreshUnknown  RefreshMatch = iota // none of the session's
	RefreshCurrent                      // the current token
	RefreshPrevious                     // the token rotated out last (PrevRefreshHashes[0])
	RefreshRotated                      // an older rotated token
)

// WasRotated reports whether the token was the session's once and has been
// rotated out: presented again, the sign of a stolen refresh token.
func (m RefreshMatch) WasRotated() bool { return m == RefreshPrevious || m == RefreshRotated }

// MatchRefresh is the one refresh-hash check: it compares hash, SHA-256 of
// a presented refresh token's secret, with the session's current and every
// rotated hash, each in constant time and all of them whatever matches, so
// the time taken says nothing of which matched. An empty hash matches
// nothing.
func (s *Session) MatchRefresh(hash []byte) RefreshMatch {
	if len(hash) == 0 {
		return RefreshUnknown
	}
	current := subtle.ConstantTimeCompare(hash, s.RefreshHash)
	previous, older := 0, 0
	for i, p := range s.PrevRefreshHashes {
		eq := subtle.ConstantTimeCompare(hash, p)
		if i == 0 {
			previous |= eq
		} else {
			older |= eq
		}
	}
	switch {
	case current == 1:
		return RefreshCurrent
	case previous == 1:
		return RefreshPrevious
	case older == 1:
		return RefreshRotated
	}
	return RefreshUnknown
}
