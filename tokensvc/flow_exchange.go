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

// exchangeHandler implements RFC 8693 token exchange of a Cognito ID token,
// or a Cognito access token, for an access token and a refresh token,
// starting a new session. As a fosite handler it works in two steps:
// validate checks everything and stores nothing but the subject token's
// single-use claim; issue writes the session and mints the tokens.
type exchangeHandler struct {
	*core
	store ExchangeStorage
}

// exchangeRequest is an exchange that passed validation.
type exchangeRequest struct {
	claims   *jwtverify.Claims
	clientID string
	scope    string
	jkt      string // the DPoP key the tokens are bound to; "" for Bearer
	family   string // the login family: origin_jti, else jti
}

func (h *exchangeHandler) handle(r *http.Request, form url.Values, info *reqInfo) (*TokenResponse, error) {
	req, err := h.validate(r, form, info)
	if err != nil {
		return nil, err
	}
	return h.issue(r, req, info)
}

// validate checks the request's parameters, the subject token and its
// client, the DPoP proof and the login's revocation state, and claims the
// ID token's jti.
func (h *exchangeHandler) validate(r *http.Request, form url.Values, info *reqInfo) (*exchangeRequest, error) {
	subject := form.Get("subject_token")
	info.tokenID = tokenID(subject)
	scope, err := h.checkParams(form)
	if err != nil {
		return nil, err
	}
	claims, clientID, err := h.verifySubject(r.Context(), subject, form.Get("subject_token_type"), form.Get("client_id"), info)
	if err != nil {
		return nil, err
	}
	// The proof is checked once the client, and so its DPoP policy, is
	// known, and before anything is stored.
	jkt, err := h.grantProof(r, clientID)
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
	if err := h.checkLogin(r.Context(), claims, family, info); err != nil {
		return nil, err
	}
	return &exchangeRequest{claims: claims, clientID: clientID, scope: scope, jkt: jkt, family: family}, nil
}

// checkParams checks the form's parameters other than the subject token's
// content, and returns the granted scope.
func (h *exchangeHandler) checkParams(form url.Values) (string, error) {
	switch {
	case form.Get("subject_token") == "":
		return "", ErrInvalidRequest.WithDescription("subject_token is missing")
	case form.Get("subject_token_type") == "":
		return "", ErrInvalidRequest.WithDescription("subject_token_type is missing")
	case form.Get("subject_token_type") != TokenTypeIDToken && form.Get("subject_token_type") != TokenTypeAccessToken:
		return "", ErrInvalidRequest.WithDescription("subject_token_type must be %s or %s", TokenTypeIDToken, TokenTypeAccessToken)
	case form.Get("actor_token") != "" || form.Get("actor_token_type") != "":
		return "", ErrInvalidRequest.WithDescription("delegation (actor_token) is not supported")
	}
	if rt := form.Get("requested_token_type"); rt != "" && rt != TokenTypeAccessToken {
		return "", ErrInvalidRequest.WithDescription("requested_token_type must be %s", TokenTypeAccessToken)
	}
	for _, name := range []string{"audience", "resource"} {
		for _, v := range form[name] {
			if v != "" && v != h.cfg.Audience {
				return "", ErrInvalidTarget.WithDescription("%s must be %s", name, h.cfg.Audience)
			}
		}
	}
	if err := h.checkClientID(form.Get("client_id")); err != nil {
		return "", err
	}
	return parseScope(form.Get("scope"), h.cfg.Scopes)
}

// verifySubject verifies the subject token as the kind its type names (an
// ID token sent as an access token, or the reverse, is refused) and returns
// its claims and the allowed client it was issued to (aud of an ID token,
// client_id of an access token), which must be formClient when the form
// names one. A Cognito access token must name its user (username; the
// token contract's RequireUsername): one from a client credentials grant
// has none and starts no user's session.
func (h *exchangeHandler) verifySubject(ctx context.Context, subject, typ, formClient string, info *reqInfo) (*jwtverify.Claims, string, error) {
	var (
		claims *jwtverify.Claims
		err    error
	)
	if typ == TokenTypeAccessToken {
		claims, err = h.cognitoAccess.Verify(ctx, subject)
		if err != nil {
			return nil, "", subjectTokenError(err, "an access token")
		}
	} else {
		claims, err = h.idTokens.Verify(ctx, subject)
		if err != nil {
			return nil, "", subjectTokenError(err, "an ID token")
		}
	}
	info.sub = claims.Subject
	clientID := ""
	if typ == TokenTypeAccessToken {
		if _, ok := h.cfg.Clients[claims.ClientID]; ok {
			clientID = claims.ClientID
		}
	} else {
		for _, aud := range claims.Audience {
			if _, ok := h.cfg.Clients[aud]; ok {
				clientID = aud
				break
			}
		}
	}
	info.clientID = clientID
	switch {
	case clientID == "":
		return nil, "", errSubjectToken.WithDescription("subject_token was not issued to an allowed client")
	case formClient != "" && formClient != clientID:
		return nil, "", errSubjectToken.WithDescription("subject_token was issued to another client")
	case claims.Subject == "" || claims.AuthTime.IsZero():
		return nil, "", errSubjectToken.WithDescription("subject_token lacks sub or auth_time")
	}
	return claims, clientID, nil
}

// issue starts the session of a validated exchange and mints its tokens.
func (h *exchangeHandler) issue(r *http.Request, req *exchangeRequest, info *reqInfo) (*TokenResponse, error) {
	ctx := r.Context()
	now := h.now()
	sess := h.newSession(r, req, now)
	exp, err := h.accessExpiry(req.clientID, sess.IdleExpiresAt, sess.AbsExpiresAt, now)
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
	if err := h.store.CreateSession(ctx, sess); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrServer.WithCause(err) // a 128-bit id collided: a broken RNG
		}
		return nil, err
	}
	resp, err := h.tokenResponse(sess, req.scope, now, exp, refresh)
	if err != nil {
		if _, _, rerr := h.revoker.EndSession(context.WithoutCancel(ctx), sess.ID, revoke.ReasonExchangeAbort); rerr != nil {
			h.log.WarnContext(ctx, "abandoned session not marked revoked", "sid", sess.ID, "error", rerr.Error())
		}
		return nil, err
	}
	h.enforceSessionCap(ctx, sess)
	resp.IssuedTokenType = TokenTypeAccessToken
	return resp, nil
}

// newSession is the session a validated exchange starts at now, without
// its refresh hash and access token expiry.
func (h *exchangeHandler) newSession(r *http.Request, req *exchangeRequest, now time.Time) *store.Session {
	c := req.claims
	abs := now.Add(h.cfg.SessionMaxTTL)
	sess := &store.Session{
		ID:            newID(sidBytes),
		Sub:           c.Subject,
		Username:      c.Username,
		ClientID:      req.clientID,
		Groups:        c.Groups,
		Scope:         req.scope,
		OriginJTI:     req.family,
		AuthTime:      c.AuthTime,
		ACR:           c.ACR,
		AMR:           c.AMR,
		JKT:           req.jkt,
		CreatedAt:     now,
		LastUsedAt:    now,
		AbsExpiresAt:  abs,
		IdleExpiresAt: idleExpiry(now, h.cfg.SessionIdleTTL, abs),
	}
	sess.UserAgent, sess.SourceIP = clientInfo(r)
	return sess
}

// checkLogin refuses an ID token whose login is revoked: its user was
// revoked since it authenticated, or its family was (a sign-out of a
// session it started, or of its user). Unless ID tokens may be reused it also
// claims the token's jti, so a second exchange of it is refused. In direct
// mode it also refuses a user whose sign-outs reached the family limit
// with no global sign-out to fall back on (revoke.Revoker.LoginsRefused).
// The round trips run at once.
func (h *exchangeHandler) checkLogin(ctx context.Context, claims *jwtverify.Claims, family string, info *reqInfo) error {
	var (
		wg                 sync.WaitGroup
		login              store.LoginState
		loginErr           error
		claimErr, claimJTI error
		refused            time.Time
		refusedErr         error
	)
	wg.Go(func() { login, loginErr = readLogin(ctx, h.store, claims.Subject, family) })
	wg.Go(func() { refused, refusedErr = h.revoker.LoginsRefused(ctx, claims.Subject) })
	if !h.cfg.AllowIDTokenReuse {
		if claims.JTI == "" {
			claimJTI = errSubjectToken.WithDescription("subject_token lacks jti")
		} else {
			// The claim lives as long as a verifier accepts the token.
			wg.Go(func() { claimErr = h.store.ClaimIDToken(ctx, claims.JTI, claims.ExpiresAt.Add(h.cfg.Leeway)) })
		}
	}
	wg.Wait()
	switch {
	case claimJTI != nil:
		return claimJTI
	case loginErr != nil:
		return loginErr
	case refusedErr != nil:
		return refusedErr
	case login.Check(claims.AuthTime) != store.SessionLive:
		info.event = "revoked_login"
		return errSubjectToken.WithDescription("subject_token belongs to a revoked login")
	case !refused.IsZero():
		info.event = "family_limit"
		return ErrInvalidGrant.WithDescription("too many sign-outs of this user's logins: new sessions are refused until %s", refused.UTC().Format(time.RFC3339))
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
func (h *exchangeHandler) enforceSessionCap(ctx context.Context, sess *store.Session) {
	if _, err := h.revoker.SessionCap(ctx, sess.Sub, h.cfg.MaxSessionsPerUser, sess); err != nil {
		h.log.WarnContext(ctx, "session cap not enforced", "sub", sess.Sub, "error", err.Error())
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
	case errors.Is(err, jwtverify.ErrNoUser):
		d = "subject_token is not a user's access token (no username)"
	}
	return errSubjectToken.WithDescription("%s", d).WithCause(err)
}
