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

// refreshHandler implements the refresh_token grant (RFC 6749 §6) with
// rotation: every refresh token works once. Presenting a rotated one again
// means two parties hold the session's tokens, so the whole session is
// revoked (OAuth 2.0 Security BCP §4.14), except for the previous token
// inside the refresh grace window (flow_refresh_grace.go), which covers a
// retried refresh and a concurrent refresh that loses the race. As a
// fosite handler it works in two steps: validate reads and checks, and
// changes nothing unless it finds reuse or a revoked login (it then ends
// the session); issue rotates the token, or gives a grace answer, and
// mints the access token.
type refreshHandler struct {
	*core
	store RefreshStorage
}

// refreshRequest is a refresh that passed validation.
type refreshRequest struct {
	sess  *store.Session // as read before any change
	tok   string         // the presented refresh token
	hash  []byte         // of its secret
	scope string         // granted: the session's, or narrowed
	grace bool           // tok is the previous token, inside the window
	now   time.Time
}

func (h *refreshHandler) handle(r *http.Request, form url.Values, info *reqInfo) (*TokenResponse, error) {
	req, err := h.validate(r, form, info)
	if err != nil {
		return nil, err
	}
	return h.issue(r.Context(), req, info)
}

// validate finds the presented token's session and checks the token, the
// session, the client, the DPoP proof, the scope and the login.
func (h *refreshHandler) validate(r *http.Request, form url.Values, info *reqInfo) (*refreshRequest, error) {
	req, err := h.presented(r.Context(), form, info)
	if err != nil {
		return nil, err
	}
	if err := h.checkSession(r, form, req); err != nil {
		return nil, err
	}
	if err := h.checkLogin(r.Context(), req.sess, req.now, info); err != nil {
		return nil, err
	}
	return req, nil
}

// presented reads the session of the presented refresh token and matches
// the token against it: the current token, or the previous one inside the
// grace window. Any other token of the session is reuse.
func (h *refreshHandler) presented(ctx context.Context, form url.Values, info *reqInfo) (*refreshRequest, error) {
	tok := form.Get("refresh_token")
	info.tokenID = tokenID(tok)
	if tok == "" {
		return nil, ErrInvalidRequest.WithDescription("refresh_token is missing")
	}
	if err := h.checkClientID(form.Get("client_id")); err != nil {
		return nil, err
	}
	invalid := ErrInvalidGrant.WithDescription("refresh_token is invalid")
	sid, hash, ok := parseRefreshToken(tok)
	if !ok {
		return nil, invalid
	}
	info.sid = sid
	sess, err := h.store.GetSession(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	info.sub, info.clientID = sess.Sub, sess.ClientID
	req := &refreshRequest{sess: sess, tok: tok, hash: hash, now: h.now()}
	match := sess.MatchRefresh(hash)
	req.grace = match == store.RefreshPrevious && h.inGrace(sess, req.now)
	switch {
	case match == store.RefreshCurrent, req.grace:
		return req, nil
	case match.WasRotated():
		return nil, h.reuse(ctx, sess, info)
	}
	return nil, invalid
}

// checkSession checks the session item, its client, the DPoP proof and
// the requested scope, which it grants in req.
func (h *refreshHandler) checkSession(r *http.Request, form url.Values, req *refreshRequest) error {
	sess := req.sess
	switch v := sess.Liveness(req.now, store.LoginState{}); {
	case v == store.SessionRevoked:
		return ErrInvalidGrant.WithDescription("session has been revoked")
	case v != store.SessionLive:
		return ErrInvalidGrant.WithDescription("session has expired")
	case form.Get("client_id") != "" && form.Get("client_id") != sess.ClientID:
		return ErrInvalidGrant.WithDescription("refresh_token was issued to another client")
	}
	if _, ok := h.cfg.Clients[sess.ClientID]; !ok {
		return ErrInvalidGrant.WithDescription("client is no longer allowed")
	}
	// Before anything changes: a refresh token bound to a key is worth
	// nothing without a proof made with that key.
	if err := h.refreshProof(r, sess); err != nil {
		return err
	}
	req.scope = sess.Scope
	if want := form.Get("scope"); want != "" {
		// RFC 6749 §6: a refresh may narrow the scope, never widen it.
		var err error
		if req.scope, err = parseScope(want, strings.Fields(sess.Scope)); err != nil {
			return err
		}
	}
	return nil
}

// checkLogin applies the liveness rule with the login's revocation
// records, ending the session of a revoked login, and then what Cognito
// says now (recheck.go). It reads before rotating: if a read fails nothing
// has changed and the client may simply retry with the same token.
func (h *refreshHandler) checkLogin(ctx context.Context, sess *store.Session, now time.Time, info *reqInfo) error {
	v, err := liveness(ctx, h.store, sess, now)
	if err != nil {
		return err
	}
	if v != store.SessionLive {
		if err := h.endRevokedLogin(ctx, sess, v); err != nil {
			return err
		}
		return ErrInvalidGrant.WithDescription("session has been revoked")
	}
	return h.recheckUser(ctx, sess, now, info)
}

// issue answers a validated refresh: a grace answer for the previous
// token, else a rotation.
func (h *refreshHandler) issue(ctx context.Context, req *refreshRequest, info *reqInfo) (*TokenResponse, error) {
	if !req.grace {
		return h.rotate(ctx, req, info)
	}
	resp, err := h.graceAnswer(ctx, req.sess, req, req.now, info)
	if errors.Is(err, errGraceLost) {
		return nil, h.reuse(ctx, req.sess, info)
	}
	return resp, err
}

// rotate replaces the current refresh token with a new one, pushes the
// idle limit forward and mints an access token.
func (h *refreshHandler) rotate(ctx context.Context, req *refreshRequest, info *reqInfo) (*TokenResponse, error) {
	sess, now := req.sess, req.now
	idle := idleExpiry(now, h.cfg.SessionIdleTTL, sess.AbsExpiresAt)
	exp, err := h.accessExpiry(sess.ClientID, idle, sess.AbsExpiresAt, now)
	if err != nil {
		return nil, err
	}
	next, nextHash, nonce := nextRefreshToken(sess.ID, req.tok)
	// The session records the latest exp of its access tokens, which only
	// moves forward (a client's lifetime may have been shortened since).
	rotated, err := h.store.RotateRefresh(ctx, sess.ID, req.hash, nextHash, now, idle, maxTime(exp, sess.AccessExpiresAt),
		store.WithGraceNonce(nonce))
	if err != nil {
		// A write that timed out may have landed, and the SDK's retry of
		// one that landed fails its condition. Only this request knows
		// nextHash, so finding it stored means the rotation was ours.
		if own := h.ownRotation(ctx, sess.ID, nextHash, now); own != nil {
			rotated, err = own, nil
		}
	}
	if errors.Is(err, store.ErrConflict) {
		return h.lostRotation(ctx, req, info)
	}
	if err != nil {
		return nil, err
	}
	return h.tokenResponse(rotated, req.scope, now, exp, next)
}

// lostRotation answers a rotation whose condition failed: a grace answer
// when a concurrent presenter of the same token won a moment ago, else
// reuse.
func (h *refreshHandler) lostRotation(ctx context.Context, req *refreshRequest, info *reqInfo) (*TokenResponse, error) {
	if resp, err := h.graceAfterLostRace(ctx, req, info); resp != nil || err != nil {
		return resp, err
	}
	return nil, h.reuse(ctx, req.sess, info)
}

// confirmTimeout bounds the read that settles an ambiguous rotation; it
// runs on a fresh context because the request's may be what expired.
const confirmTimeout = time.Second

// ownRotation returns the session if its current refresh hash is nextHash,
// that is if a rotation this request attempted at now was stored, and it
// is still live (not revoked since); nil otherwise, including when the
// session cannot be read.
func (h *refreshHandler) ownRotation(ctx context.Context, sid string, nextHash []byte, now time.Time) *store.Session {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), confirmTimeout)
	defer cancel()
	sess, err := h.store.GetSession(ctx, sid)
	if err != nil || sess.MatchRefresh(nextHash) != store.RefreshCurrent || !sess.Active(now) {
		return nil
	}
	return sess
}

// reuse revokes a session whose refresh token was used twice, and its
// login. For a session already revoked this writes nothing: the revoker
// only completes a revocation an earlier attempt left unlogged.
func (h *refreshHandler) reuse(ctx context.Context, sess *store.Session, info *reqInfo) error {
	info.event = revoke.ReasonRefreshReuse
	if _, err := h.revoker.Session(ctx, sess.ID, revoke.ReasonRefreshReuse); err != nil && !errors.Is(err, store.ErrNotFound) {
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
