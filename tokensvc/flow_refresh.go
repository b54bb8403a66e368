package tokensvc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

// RefreshStorage is what the refresh grant needs from the store.
type RefreshStorage interface {
	loginState
	GetSession(ctx context.Context, id string) (*store.Session, error)
	RotateRefresh(ctx context.Context, id string, oldHash, newHash []byte, now, idleExpiresAt, accessExpiresAt time.Time, opts ...store.RotateOption) (*store.Session, error)
	GraceStorage
}

// refresh implements the refresh_token grant (RFC 6749 §6) with rotation:
// every refresh token works once. Presenting a rotated one again means two
// parties hold the session's tokens, so the whole session is revoked
// (OAuth 2.0 Security BCP §4.14), except for the previous token inside the
// refresh grace window (flow_refresh_grace.go), which covers a retried
// refresh and a concurrent refresh that loses the race.
func (s *Service) refresh(r *http.Request, form url.Values, info *reqInfo) (*TokenResponse, error) {
	ctx := r.Context()
	tok := form.Get("refresh_token")
	info.tokenID = tokenID(tok)
	if tok == "" {
		return nil, ErrInvalidRequest.WithDescription("refresh_token is missing")
	}
	if err := s.checkClientID(form.Get("client_id")); err != nil {
		return nil, err
	}
	sid, hash, ok := parseRefreshToken(tok)
	if !ok {
		return nil, ErrInvalidGrant.WithDescription("refresh_token is invalid")
	}
	info.sid = sid
	sess, err := s.store.GetSession(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidGrant.WithDescription("refresh_token is invalid")
	}
	if err != nil {
		return nil, err
	}
	info.sub, info.clientID = sess.Sub, sess.ClientID
	now := s.now()
	match := sess.MatchRefresh(hash)
	grace := match == store.RefreshPrevious && s.inGrace(sess, now)
	if match != store.RefreshCurrent && !grace {
		if match.WasRotated() {
			return nil, s.reuse(ctx, sess, info)
		}
		return nil, ErrInvalidGrant.WithDescription("refresh_token is invalid")
	}
	switch v := sess.Liveness(now, store.LoginState{}); {
	case v == store.SessionRevoked:
		return nil, ErrInvalidGrant.WithDescription("session has been revoked")
	case v != store.SessionLive:
		return nil, ErrInvalidGrant.WithDescription("session has expired")
	case form.Get("client_id") != "" && form.Get("client_id") != sess.ClientID:
		return nil, ErrInvalidGrant.WithDescription("refresh_token was issued to another client")
	}
	if _, ok := s.cfg.Clients[sess.ClientID]; !ok {
		return nil, ErrInvalidGrant.WithDescription("client is no longer allowed")
	}
	// Before anything changes: a refresh token bound to a key is worth
	// nothing without a proof made with that key.
	if err := s.refreshProof(r, sess); err != nil {
		return nil, err
	}
	scope := sess.Scope
	if req := form.Get("scope"); req != "" {
		// RFC 6749 §6: a refresh may narrow the scope, never widen it.
		if scope, err = parseScope(req, strings.Fields(sess.Scope)); err != nil {
			return nil, err
		}
	}
	// Read before rotating: if this read fails nothing has changed and the
	// client may simply retry with the same token.
	if v, err := liveness(ctx, s.store, sess, now); err != nil {
		return nil, err
	} else if v != store.SessionLive {
		if err := s.endRevokedLogin(ctx, sess, v); err != nil {
			return nil, err
		}
		return nil, ErrInvalidGrant.WithDescription("session has been revoked")
	}
	// Pools without Cognito events: what Cognito says now (recheck.go).
	if err := s.recheckUser(ctx, sess, now, info); err != nil {
		return nil, err
	}

	if grace {
		resp, err := s.graceAnswer(ctx, sess, tok, hash, scope, now, info)
		if errors.Is(err, errGraceLost) {
			return nil, s.reuse(ctx, sess, info)
		}
		return resp, err
	}
	idle := idleExpiry(now, s.cfg.SessionIdleTTL, sess.AbsExpiresAt)
	exp, err := s.accessExpiry(sess.ClientID, idle, sess.AbsExpiresAt, now)
	if err != nil {
		return nil, err
	}
	next, nextHash, nonce := nextRefreshToken(sess.ID, tok)
	// The session records the latest exp of its access tokens, which only
	// moves forward (a client's lifetime may have been shortened since).
	rotated, err := s.store.RotateRefresh(ctx, sess.ID, hash, nextHash, now, idle, maxTime(exp, sess.AccessExpiresAt),
		store.WithGraceNonce(nonce))
	if err != nil {
		// A write that timed out may have landed, and the SDK's retry of
		// one that landed fails its condition. Only this request knows
		// nextHash, so finding it stored means the rotation was ours.
		if own := s.ownRotation(ctx, sess.ID, nextHash, now); own != nil {
			rotated, err = own, nil
		}
	}
	if errors.Is(err, store.ErrConflict) {
		if resp, gerr := s.graceAfterLostRace(ctx, sess.ID, tok, hash, scope, info); resp != nil || gerr != nil {
			return resp, gerr
		}
		return nil, s.reuse(ctx, sess, info)
	}
	if err != nil {
		return nil, err
	}
	access, ttl, err := s.issueAccessToken(rotated, scope, now, exp)
	if err != nil {
		return nil, err
	}
	return &TokenResponse{
		AccessToken:  access,
		TokenType:    tokenType(rotated),
		ExpiresIn:    int64(ttl / time.Second),
		RefreshToken: next,
		Scope:        scope,
	}, nil
}

// confirmTimeout bounds the read that settles an ambiguous rotation; it
// runs on a fresh context because the request's may be what expired.
const confirmTimeout = time.Second

// ownRotation returns the session if its current refresh hash is nextHash,
// that is if a rotation this request attempted at now was stored, and it
// is still live (not revoked since); nil otherwise, including when the
// session cannot be read.
func (s *Service) ownRotation(ctx context.Context, sid string, nextHash []byte, now time.Time) *store.Session {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), confirmTimeout)
	defer cancel()
	sess, err := s.store.GetSession(ctx, sid)
	if err != nil || sess.MatchRefresh(nextHash) != store.RefreshCurrent || !sess.Active(now) {
		return nil
	}
	return sess
}

// reuse revokes a session whose refresh token was used twice, and its
// login. For a session already revoked this writes nothing: the revoker
// only completes a revocation an earlier attempt left unlogged.
func (s *Service) reuse(ctx context.Context, sess *store.Session, info *reqInfo) error {
	info.event = revoke.ReasonRefreshReuse
	if _, err := s.revoker.Session(ctx, sess.ID, revoke.ReasonRefreshReuse); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !sess.RevokedAt.IsZero() {
		return ErrInvalidGrant.WithDescription("session has been revoked")
	}
	return ErrInvalidGrant.WithDescription("refresh_token was already used; the session is revoked")
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// idleExpiry is the idle limit of a session used at now, capped by its
// absolute limit.
func idleExpiry(now time.Time, idle time.Duration, abs time.Time) time.Time {
	if t := now.Add(idle); t.Before(abs) {
		return t
	}
	return abs
}
