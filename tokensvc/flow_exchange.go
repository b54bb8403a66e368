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
	loginState
	CreateSession(ctx context.Context, sess *store.Session) error
	ClaimIDToken(ctx context.Context, jti string, until time.Time) error
}

// errSubjectToken is the error for a subject token that is invalid or
// unacceptable: RFC 8693 §2.2.2 prescribes invalid_request for both.
var errSubjectToken = ErrInvalidRequest

// exchange implements RFC 8693 token exchange of a Cognito ID token, or a
// Cognito access token, for an access token and a refresh token, starting a
// new session. subject_token_type says which kind the subject token is, and
// it is verified as that kind only: an ID token sent as an access token, or
// the reverse, is refused.
func (s *Service) exchange(r *http.Request, form url.Values, info *reqInfo) (*TokenResponse, error) {
	ctx := r.Context()
	subject := form.Get("subject_token")
	info.tokenID = tokenID(subject)
	switch {
	case subject == "":
		return nil, ErrInvalidRequest.WithDescription("subject_token is missing")
	case form.Get("subject_token_type") == "":
		return nil, ErrInvalidRequest.WithDescription("subject_token_type is missing")
	case form.Get("subject_token_type") != TokenTypeIDToken && form.Get("subject_token_type") != TokenTypeAccessToken:
		return nil, ErrInvalidRequest.WithDescription("subject_token_type must be %s or %s", TokenTypeIDToken, TokenTypeAccessToken)
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

	claims, clientID, err := s.verifySubject(ctx, subject, form.Get("subject_token_type"))
	if err != nil {
		return nil, err
	}
	info.sub = claims.Subject
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

	family := claims.OriginJTI
	if family == "" {
		family = claims.JTI // a pool without token revocation: each ID token is its own login
	}
	if family == "" {
		return nil, errSubjectToken.WithDescription("subject_token lacks jti")
	}
	if err := s.checkLogin(ctx, claims, family, info); err != nil {
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
		OriginJTI:     family,
		AuthTime:      claims.AuthTime,
		ACR:           claims.ACR,
		AMR:           claims.AMR,
		JKT:           jkt,
		CreatedAt:     now,
		LastUsedAt:    now,
		AbsExpiresAt:  now.Add(s.cfg.SessionMaxTTL),
		IdleExpiresAt: idleExpiry(now, s.cfg.SessionIdleTTL, now.Add(s.cfg.SessionMaxTTL)),
	}
	sess.UserAgent, sess.SourceIP = clientInfo(r)
	exp, err := s.accessExpiry(clientID, sess.IdleExpiresAt, sess.AbsExpiresAt, now)
	if err != nil {
		return nil, err
	}
	sess.AccessExpiresAt = exp
	refresh, hash := newRefreshToken(sess.ID)
	sess.RefreshHash = hash
	info.sid = sess.ID

	// Every check ran before this write, so a refused exchange stores no
	// session. A revocation landing between the checks and this write is
	// still caught: refresh and Bearer calls read the same state again, and
	// a user revocation's log entry covers this login's auth_time.
	if err := s.store.CreateSession(ctx, sess); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrServer.WithCause(err) // a 128-bit id collided: a broken RNG
		}
		return nil, err
	}
	access, ttl, err := s.issueAccessToken(sess, scope, now, exp)
	if err != nil {
		if _, _, rerr := s.revoker.EndSession(context.WithoutCancel(ctx), sess.ID, revoke.ReasonExchangeAbort); rerr != nil {
			s.log.WarnContext(ctx, "abandoned session not marked revoked", "sid", sess.ID, "error", rerr.Error())
		}
		return nil, err
	}
	s.enforceSessionCap(ctx, sess)
	return &TokenResponse{
		AccessToken:     access,
		IssuedTokenType: TokenTypeAccessToken,
		TokenType:       tokenType(sess),
		ExpiresIn:       int64(ttl / time.Second),
		RefreshToken:    refresh,
		Scope:           scope,
	}, nil
}

// verifySubject verifies a subject token as the kind its type names and
// returns its claims and the app client it was issued to: aud of an ID
// token, client_id of an access token. A Cognito access token must name its
// user (username): one from a client credentials grant has none and starts
// no user's session.
func (s *Service) verifySubject(ctx context.Context, subject, typ string) (*jwtverify.Claims, string, error) {
	if typ == TokenTypeAccessToken {
		claims, err := s.cognitoAccess.Verify(ctx, subject)
		if err != nil {
			return nil, "", subjectTokenError(err, "an access token")
		}
		if claims.Username == "" {
			return nil, "", errSubjectToken.WithDescription("subject_token is not a user's access token (no username)")
		}
		if _, ok := s.cfg.Clients[claims.ClientID]; !ok {
			return nil, "", errSubjectToken.WithDescription("subject_token was not issued to an allowed client")
		}
		return claims, claims.ClientID, nil
	}
	claims, err := s.idTokens.Verify(ctx, subject)
	if err != nil {
		return nil, "", subjectTokenError(err, "an ID token")
	}
	for _, aud := range claims.Audience {
		if _, ok := s.cfg.Clients[aud]; ok {
			return claims, aud, nil
		}
	}
	return claims, "", nil
}

// checkLogin refuses an ID token whose login is revoked: its user was
// revoked since it authenticated, or its family was (a sign-out of a
// session it started, or of its user). Unless ID tokens may be reused it also
// claims the token's jti, so a second exchange of it is refused. The three
// round trips run at once.
func (s *Service) checkLogin(ctx context.Context, claims *jwtverify.Claims, family string, info *reqInfo) error {
	var (
		wg                 sync.WaitGroup
		login              store.LoginState
		loginErr           error
		claimErr, claimJTI error
	)
	wg.Go(func() { login, loginErr = readLogin(ctx, s.store, claims.Subject, family) })
	if !s.cfg.AllowIDTokenReuse {
		if claims.JTI == "" {
			claimJTI = errSubjectToken.WithDescription("subject_token lacks jti")
		} else {
			// The claim lives as long as a verifier accepts the token.
			wg.Go(func() { claimErr = s.store.ClaimIDToken(ctx, claims.JTI, claims.ExpiresAt.Add(s.cfg.Leeway)) })
		}
	}
	wg.Wait()
	switch {
	case claimJTI != nil:
		return claimJTI
	case loginErr != nil:
		return loginErr
	case login.Check(claims.AuthTime) != store.SessionLive:
		info.event = "revoked_login"
		return errSubjectToken.WithDescription("subject_token belongs to a revoked login")
	case errors.Is(claimErr, store.ErrConflict):
		info.event = "id_token_reuse"
		return errSubjectToken.WithDescription("subject_token has already been exchanged")
	case claimErr != nil:
		return claimErr
	}
	return nil
}

// enforceSessionCap ends the user's least recently used sessions beyond
// the cap. The new session is already handed out, so a failure here is
// logged and left to the next exchange.
func (s *Service) enforceSessionCap(ctx context.Context, sess *store.Session) {
	if _, err := s.revoker.SessionCap(ctx, sess.Sub, s.cfg.MaxSessionsPerUser, sess); err != nil {
		s.log.WarnContext(ctx, "session cap not enforced", "sub", sess.Sub, "error", err.Error())
	}
}

// subjectTokenError turns a verification failure into the response error;
// kind is what the subject token type promised. Only an outage of Cognito's
// key endpoint is the server's problem.
func subjectTokenError(err error, kind string) error {
	d := "subject_token is invalid"
	switch {
	case errors.Is(err, jwtverify.ErrKeysUnavailable):
		return ErrUnavailable.WithDescription("identity provider keys unavailable").WithCause(err)
	case errors.Is(err, jwtverify.ErrExpired):
		d = "subject_token has expired"
	case errors.Is(err, jwtverify.ErrTokenUse):
		d = "subject_token is not " + kind
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
