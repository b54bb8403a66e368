package tokensvc

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

// Whether a session can be used is one rule, store.Session.Liveness. Each
// caller applies it in two steps, the session item first and then, only
// for a session that passes, the revocation records of its login, so a
// dead session costs no further reads. What a verdict leads to is the
// caller's: the refresh grant ends the session and answers 503 when that
// fails; the Bearer check ends it and logs a failure; introspection only
// reads.

// loginState is the revocation state every grant and Bearer check reads.
type loginState interface {
	UserRevokedAt(ctx context.Context, sub string) (time.Time, error)
	FamilyRevoked(ctx context.Context, family string) (bool, error)
}

// readLogin reads the revocation records of a login of sub in family (""
// for none), both at once.
func readLogin(ctx context.Context, st loginState, sub, family string) (store.LoginState, error) {
	var (
		wg              sync.WaitGroup
		login           store.LoginState
		userErr, famErr error
	)
	wg.Go(func() { login.UserRevokedAt, userErr = st.UserRevokedAt(ctx, sub) })
	if family != "" {
		wg.Go(func() { login.FamilyRevoked, famErr = st.FamilyRevoked(ctx, family) })
	}
	wg.Wait()
	if err := errors.Join(userErr, famErr); err != nil {
		return store.LoginState{}, err
	}
	return login, nil
}

// liveness applies the whole rule to sess, whose item already passed it
// at now, reading its login's revocation records.
func liveness(ctx context.Context, st loginState, sess *store.Session, now time.Time) (store.Liveness, error) {
	login, err := readLogin(ctx, st, sess.Sub, sess.OriginJTI)
	if err != nil {
		return store.SessionLive, err
	}
	return sess.Liveness(now, login), nil
}

// endRevokedLogin ends a session that a user or login revocation covers
// but that is not itself marked revoked (it was written while the
// revocation listed the user's sessions). Ending it is what tells
// authorizers. Other verdicts need nothing.
func (s *core) endRevokedLogin(ctx context.Context, sess *store.Session, v store.Liveness) error {
	reason := revoke.ReasonUserRevoked
	switch v {
	case store.SessionUserRevoked:
	case store.SessionLoginRevoked:
		reason = revoke.ReasonLoginRevoked
	default:
		return nil
	}
	if _, _, err := s.revoker.EndSession(ctx, sess.ID, reason); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
