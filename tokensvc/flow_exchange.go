package tokensvc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

// ExchangeStorage is what the token exchange grant needs from the store.
type ExchangeStorage interface {
	CreateSession(ctx context.Context, sess *store.Session) error
	UserRevokedAt(ctx context.Context, sub string) (time.Time, error)
	RevokeSession(ctx context.Context, id, reason string, at time.Time) (*store.Session, error)
}

// errSubjectToken is the error for a subject token that is invalid or
// unacceptable: RFC 8693 §2.2.2 prescribes invalid_request for both.
var errSubjectToken = ErrInvalidRequest

// exchange implements RFC 8693 token exchange of a Cognito ID token for an
// access token and a refresh token, starting a new session.
func (s *Service) exchange(r *http.Request, form url.Values, info *reqInfo) (*TokenResponse, error) {
	ctx := r.Context()
	subject := form.Get("subject_token")
	info.tokenID = tokenID(subject)
	switch {
	case subject == "":
		return nil, ErrInvalidRequest.WithDescription("subject_token is missing")
	case form.Get("subject_token_type") == "":
		return nil, ErrInvalidRequest.WithDescription("subject_token_type is missing")
	case form.Get("subject_token_type") != TokenTypeIDToken:
		return nil, ErrInvalidRequest.WithDescription("subject_token_type must be %s", TokenTypeIDToken)
	case form.Get("actor_token") != "" || form.Get("actor_token_type") != "":
		return nil, ErrInvalidRequest.WithDescription("delegation (actor_token) is not supported")
	}
	if rt := form.Get("requested_token_type"); rt != "" && rt != TokenTypeAccessToken {
		return nil, ErrInvalidRequest.WithDescription("requested_token_type must be %s", TokenTypeAccessToken)
	}
	for _, name := range []string{"audience", "resource"} {
		for _, v := range form[name] {
			if v != "" && v != s.cfg.Audience {
				return nil, ErrInvalidTarget.WithDescription("%s must be %s", name, s.cfg.Audience)
			}
		}
	}
	if err := s.checkClientID(form.Get("client_id")); err != nil {
		return nil, err
	}
	scope, err := parseScope(form.Get("scope"), s.cfg.Scopes)
	if err != nil {
		return nil, err
	}

	claims, err := s.idTokens.Verify(ctx, subject)
	if err != nil {
		return nil, subjectTokenError(err)
	}
	info.sub = claims.Subject
	clientID := ""
	for _, aud := range claims.Audience {
		if _, ok := s.cfg.Clients[aud]; ok {
			clientID = aud
			break
		}
	}
	info.clientID = clientID
	switch {
	case clientID == "":
		return nil, errSubjectToken.WithDescription("subject_token was not issued to an allowed client")
	case form.Get("client_id") != "" && form.Get("client_id") != clientID:
		return nil, errSubjectToken.WithDescription("subject_token was issued to another client")
	case claims.Subject == "" || claims.AuthTime.IsZero():
		return nil, errSubjectToken.WithDescription("subject_token lacks sub or auth_time")
	}
	// The proof is checked once the client, and so its DPoP policy, is
	// known, and before anything is stored.
	jkt, err := s.grantProof(r, clientID)
	if err != nil {
		return nil, err
	}

	now := s.now()
	sess := &store.Session{
		ID:            newID(sidBytes),
		Sub:           claims.Subject,
		Username:      claims.Username,
		ClientID:      clientID,
		Groups:        claims.Groups,
		Scope:         scope,
		OriginJTI:     claims.OriginJTI,
		AuthTime:      claims.AuthTime,
		ACR:           claims.ACR,
		AMR:           claims.AMR,
		JKT:           jkt,
		CreatedAt:     now,
		LastUsedAt:    now,
		AbsExpiresAt:  now.Add(s.cfg.SessionMaxTTL),
		IdleExpiresAt: idleExpiry(now, s.cfg.SessionIdleTTL, now.Add(s.cfg.SessionMaxTTL)),
	}
	if sess.OriginJTI == "" {
		sess.OriginJTI = claims.JTI
	}
	sess.UserAgent, sess.SourceIP = clientInfo(r)
	refresh, hash := newRefreshToken(sess.ID)
	sess.RefreshHash = hash
	info.sid = sess.ID

	// The user's revocation time is read while the session is written, so
	// an exchange costs one round trip instead of two. If the user turns out
	// to be revoked, or the read fails, the session just written is marked
	// revoked before anyone has seen its tokens: it can never be used, and
	// it stays listed as revoked, which is the honest record of the attempt.
	var (
		wg        sync.WaitGroup
		revokedAt time.Time
		readErr   error
	)
	wg.Go(func() { revokedAt, readErr = s.store.UserRevokedAt(ctx, sess.Sub) })
	writeErr := s.store.CreateSession(ctx, sess)
	wg.Wait()
	if writeErr != nil {
		if errors.Is(writeErr, store.ErrConflict) {
			return nil, ErrServer.WithCause(writeErr) // a 128-bit id collided: a broken RNG
		}
		return nil, writeErr
	}
	abort := func(reason string) {
		if _, err := s.store.RevokeSession(context.WithoutCancel(ctx), sess.ID, reason, now); err != nil {
			s.log.WarnContext(ctx, "abandoned session not marked revoked", "sid", sess.ID, "error", err.Error())
		}
	}
	if readErr != nil {
		abort("exchange_aborted")
		return nil, readErr
	}
	if store.RevokedLogin(revokedAt, claims.AuthTime) {
		abort(revoke.ReasonUserRevoked)
		info.event = "revoked_login"
		return nil, errSubjectToken.WithDescription("subject_token belongs to a revoked login")
	}

	access, ttl, err := s.issueAccessToken(sess, scope, now)
	if err != nil {
		abort("exchange_aborted")
		return nil, err
	}
	return &TokenResponse{
		AccessToken:     access,
		IssuedTokenType: TokenTypeAccessToken,
		TokenType:       tokenType(sess),
		ExpiresIn:       int64(ttl / time.Second),
		RefreshToken:    refresh,
		Scope:           scope,
	}, nil
}

// subjectTokenError turns a verification failure into the response error.
// Only an outage of Cognito's key endpoint is the server's problem.
func subjectTokenError(err error) error {
	d := "subject_token is invalid"
	switch {
	case errors.Is(err, jwtverify.ErrKeysUnavailable):
		return ErrUnavailable.WithDescription("identity provider keys unavailable").WithCause(err)
	case errors.Is(err, jwtverify.ErrExpired):
		d = "subject_token has expired"
	case errors.Is(err, jwtverify.ErrTokenUse):
		d = "subject_token is not an ID token"
	case errors.Is(err, jwtverify.ErrAudience):
		d = "subject_token was not issued to an allowed client"
	case errors.Is(err, jwtverify.ErrIssuer):
		d = "subject_token was issued by another issuer"
	case errors.Is(err, jwtverify.ErrNotYetValid):
		d = "subject_token is not valid yet"
	case errors.Is(err, jwtverify.ErrTooLarge):
		d = "subject_token is too large"
	}
	return errSubjectToken.WithDescription("%s", d).WithCause(err)
}
