package tokensvc

import (
	"context"
	"errors"
	"net/http"

	"github.com/shortfuse/shortfuse/shared/store"
)

// IntrospectionResponse is the body of an RFC 7662 response. An inactive
// token yields only {"active": false}.
type IntrospectionResponse struct {
	Active    bool   `json:"active"`
	Sub       string `json:"sub,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	Scope     string `json:"scope,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Iss       string `json:"iss,omitempty"`
	Aud       string `json:"aud,omitempty"`
	JTI       string `json:"jti,omitempty"`
	SID       string `json:"sid,omitempty"`
	// Cnf is the key a DPoP-bound token is bound to (RFC 9449 §6.2).
	Cnf *confirmation `json:"cnf,omitempty"`
}

// handleIntrospect implements RFC 7662 for callers holding an access token
// of this service with the admin group (§4: the endpoint must be protected,
// or it would let anyone probe tokens).
func (s *Service) handleIntrospect(w http.ResponseWriter, r *http.Request, info *reqInfo) error {
	if _, err := s.authenticate(r, info, true); err != nil {
		return err
	}
	_, tok, err := parseTokenForm(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	resp, err := s.introspect(r.Context(), tok)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// introspect returns the token's state. Only a store outage is an error:
// the answer would otherwise be a guess.
func (s *Service) introspect(ctx context.Context, tok string) (*IntrospectionResponse, error) {
	if sid, hash, ok := parseRefreshToken(tok); ok {
		return s.introspectRefresh(ctx, sid, hash)
	}
	if !looksLikeJWT(tok) {
		return &IntrospectionResponse{}, nil
	}
	return s.introspectAccess(ctx, tok)
}

// introspectRefresh answers for a refresh token: active while it is its
// live session's current one and the refresh grant would accept it.
func (s *Service) introspectRefresh(ctx context.Context, sid string, hash []byte) (*IntrospectionResponse, error) {
	inactive := &IntrospectionResponse{}
	sess, err := s.liveSession(ctx, sid)
	if err != nil || sess == nil || sess.MatchRefresh(hash) != store.RefreshCurrent {
		return inactive, err
	}
	if _, ok := s.cfg.Clients[sess.ClientID]; !ok {
		return inactive, nil // the refresh grant refuses it: client no longer allowed
	}
	return &IntrospectionResponse{
		Active: true, Sub: sess.Sub, ClientID: sess.ClientID, Username: sess.Username,
		Scope: sess.Scope, TokenType: "refresh_token", SID: sess.ID, Iss: s.cfg.Issuer,
		Exp: sess.IdleExpiresAt.Unix(), Iat: sess.LastUsedAt.Unix(), Cnf: cnfOf(sess.JKT),
	}, nil
}

// introspectAccess answers for an access token: active while it verifies,
// has not expired and its session is live.
func (s *Service) introspectAccess(ctx context.Context, tok string) (*IntrospectionResponse, error) {
	inactive := &IntrospectionResponse{}
	now := s.now()
	claims, err := s.access.Verify(ctx, tok)
	if err != nil || claims.SessionID == "" {
		return inactive, nil
	}
	sess, err := s.liveSession(ctx, claims.SessionID)
	if err != nil || sess == nil || sess.Sub != claims.Subject || !now.Before(claims.ExpiresAt) {
		return inactive, err
	}
	resp := &IntrospectionResponse{
		Active: true, Sub: claims.Subject, ClientID: claims.ClientID, Username: claims.Username,
		Scope: claims.Scope, TokenType: "Bearer", Exp: claims.ExpiresAt.Unix(),
		Iat: claims.IssuedAt.Unix(), Iss: claims.Issuer, JTI: claims.JTI, SID: claims.SessionID,
		Cnf: cnfOf(claims.JKT),
	}
	if claims.JKT != "" {
		resp.TokenType = "DPoP"
	}
	if len(claims.Audience) > 0 {
		resp.Aud = claims.Audience[0]
	}
	return resp, nil
}

// liveSession returns the session when the liveness rule finds it live,
// nil when it is not, and an error only when the store cannot tell.
// Introspection only reads: a session of a revoked login is reported
// inactive and left for the refresh grant or Bearer check to end.
func (s *Service) liveSession(ctx context.Context, sid string) (*store.Session, error) {
	sess, err := s.sessions.GetSession(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !sess.Active(now) {
		return nil, nil
	}
	if v, err := liveness(ctx, s.sessions, sess, now); err != nil || v != store.SessionLive {
		return nil, err
	}
	return sess, nil
}
