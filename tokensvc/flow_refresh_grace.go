package tokensvc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/shortfuse/shortfuse/shared/store"
)

// The refresh grace window.
//
// Rotation makes every refresh token work once, and a second use revokes
// the session. Ordinary clients present a token twice without any theft:
// a refresh answer lost on the network and retried, or two tabs refreshing
// together. So for GraceFor(client) after a rotation the immediately
// previous token, and only that one, is accepted again. Its presenter gets
// a fresh access token of the same session and the SAME current refresh
// token the first presenter got: the chain never forks, every tab ends up
// holding the one live token, and the next rotation moves them all on.
//
// The service stores only hashes, so it cannot hand out a token it merely
// remembers. Instead each rotation derives the next token's secret from
// the presented token and a fresh random nonce stored on the session:
//
//	next secret = HMAC-SHA256(key: presented token, "shortfuse refresh grace" || nonce)
//
// Only a holder of the previous token can derive it again, and only while
// the nonce is the session's current one; a copy of the table alone still
// refreshes nothing. Each grace answer is one conditional update of the
// session item (UseRefreshGrace): the previous and current hashes, the
// window, the use count and "not revoked, not expired" are all checked in
// it, so concurrent rotations, grace answers and revocations cannot
// interleave into a second live token.
//
// After the window, for any older token, after MaxGraceUses answers, or
// for a client whose window is 0, a second use is reuse, as before: the
// session is revoked.

// MaxGraceUses bounds the grace answers one rotation can give: what a
// holder of the previous token can mint inside the window is at most this
// many access tokens.
const MaxGraceUses = 32

const (
	graceNonceBytes = 32
	graceLabel      = "shortfuse refresh grace"
)

// GraceStorage is what grace answers need from the store.
type GraceStorage interface {
	UseRefreshGrace(ctx context.Context, id string, prevHash, curHash []byte, since, now, accessExpiresAt time.Time, maxUses int) (*store.Session, error)
}

// nextRefreshToken returns the token that replaces presented in session
// sid, the hash to store and the nonce it was derived with.
func nextRefreshToken(sid, presented string) (token string, hash, nonce []byte) {
	nonce = make([]byte, graceNonceBytes)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	token, hash = deriveRefreshToken(sid, presented, nonce)
	return token, hash, nonce
}

func deriveRefreshToken(sid, presented string, nonce []byte) (token string, hash []byte) {
	m := hmac.New(sha256.New, []byte(presented))
	m.Write([]byte(graceLabel))
	m.Write(nonce)
	secret := m.Sum(nil)
	sum := sha256.Sum256(secret)
	return sid + "." + b64.EncodeToString(secret), sum[:]
}

// inGrace reports whether the session's previous token (a presented one
// that MatchRefresh found to be RefreshPrevious) is inside its client's
// window.
func (h *refreshHandler) inGrace(sess *store.Session, now time.Time) bool {
	g := h.cfg.GraceFor(sess.ClientID)
	return g > 0 && len(sess.GraceNonce) == graceNonceBytes && !sess.GraceAt.IsZero() &&
		!now.After(sess.GraceAt.Add(g)) && sess.GraceUses < MaxGraceUses
}

// errGraceLost: the session moved on between the read and the grace
// answer (rotated again, revoked, expired, window or uses over).
var errGraceLost = errors.New("tokensvc: grace answer lost its race")

// graceAnswer answers a presentation of the previous token of sess (the
// validated req's) inside the window with the session's current refresh
// token and a fresh access token. errGraceLost means reuse detection
// applies.
func (h *refreshHandler) graceAnswer(ctx context.Context, sess *store.Session, req *refreshRequest, now time.Time, info *reqInfo) (*TokenResponse, error) {
	next, nextHash := deriveRefreshToken(sess.ID, req.tok, sess.GraceNonce)
	if sess.MatchRefresh(nextHash) != store.RefreshCurrent {
		return nil, errGraceLost
	}
	since := now.Add(-h.cfg.GraceFor(sess.ClientID))
	exp, err := h.accessExpiry(sess.ClientID, sess.IdleExpiresAt, sess.AbsExpiresAt, now)
	if err != nil {
		return nil, err
	}
	// Recorded with the answer, so a revocation covers its access token.
	used, err := h.store.UseRefreshGrace(ctx, sess.ID, req.hash, nextHash, since, now, maxTime(exp, sess.AccessExpiresAt), MaxGraceUses)
	if errors.Is(err, store.ErrConflict) {
		return nil, errGraceLost
	}
	if err != nil {
		return nil, err
	}
	info.event = eventRefreshGrace
	return h.tokenResponse(used, req.scope, now, exp, next)
}

// eventRefreshGrace marks a grace answer in the request log and the
// SecurityEvents metric: rare in normal use, worth watching.
const eventRefreshGrace = "refresh_grace"

// graceAfterLostRace settles a rotation of the current token that lost its
// condition: when a concurrent presenter of the same token rotated it a
// moment ago, this presenter is inside the window and gets the same
// answer. nil, nil means it is not (reuse detection applies).
func (h *refreshHandler) graceAfterLostRace(ctx context.Context, req *refreshRequest, info *reqInfo) (*TokenResponse, error) {
	sess, err := h.store.GetSession(ctx, req.sess.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		// Unknown state: answer 503 rather than count a likely retry as
		// reuse; the retry, inside the window, gets its grace answer.
		return nil, err
	}
	now := h.now()
	if sess.MatchRefresh(req.hash) != store.RefreshPrevious || !h.inGrace(sess, now) {
		return nil, nil
	}
	resp, err := h.graceAnswer(ctx, sess, req, now, info)
	if errors.Is(err, errGraceLost) {
		return nil, nil
	}
	return resp, err
}
