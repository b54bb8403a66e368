package tokensvc

import (
	"context"
	"errors"
	"net/http"

	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

// handleRevoke implements RFC 7009. The token itself is the credential of
// the public clients this service serves: a refresh token revokes its
// session, and so does a valid access token. Any other token gets 200 with
// nothing done, as §2.2 requires, so the endpoint reveals nothing. A
// client_id, when sent, identifies the client (§2.1): it must be configured
// and the token must have been issued to it, else nothing is revoked.
func (s *Service) handleRevoke(w http.ResponseWriter, r *http.Request, info *reqInfo) error {
	form, tok, err := parseTokenForm(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	info.tokenID = tokenID(tok)
	clientID := form.Get("client_id")
	if err := s.checkClientID(clientID); err != nil {
		return err
	}
	t, err := s.revocationTarget(r.Context(), tok, info)
	if err != nil {
		return err
	}
	if t.sid != "" && clientID != "" && clientID != t.clientID {
		// Someone else's token: refused, not silently ignored, so a client
		// that mixed up its tokens finds out (§2.1).
		return ErrUnauthorizedClient.WithDescription("token was issued to another client")
	}
	if t.jkt != "" {
		// A bound token is worth nothing without its key, and that holds
		// for ending its session too.
		got, err := s.proof(r, "", t.jkt, false)
		if err == nil && got == "" {
			err = ErrInvalidDPoPProof.WithDescription("the token is DPoP-bound: send a proof made with its key")
		}
		if err != nil {
			return err
		}
	}
	if t.sid != "" {
		info.sid = t.sid
		if _, err := s.revoker.Session(r.Context(), t.sid, revoke.ReasonRevokeToken); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	writeNoContent(w, http.StatusOK)
	return nil
}

// revocationTarget is the session a token to revoke belongs to; sid is ""
// when it belongs to none this service would end.
type revocationTarget struct {
	sid, clientID, jkt string
}

// revocationTarget finds the session of a refresh token (current or
// rotated) or of a valid access token. token_type_hint is only a hint
// (RFC 7009 §2.1): the two kinds of token have different shapes, so the
// shape decides. Only a store outage is an error.
func (s *Service) revocationTarget(ctx context.Context, tok string, info *reqInfo) (revocationTarget, error) {
	if id, hash, ok := parseRefreshToken(tok); ok {
		sess, err := s.sessions.GetSession(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return revocationTarget{}, err
		case sess.MatchRefresh(hash) != store.RefreshUnknown:
			info.sub, info.clientID = sess.Sub, sess.ClientID
			return revocationTarget{sid: sess.ID, clientID: sess.ClientID, jkt: sess.JKT}, nil
		}
	} else if looksLikeJWT(tok) {
		if claims, err := s.access.Verify(ctx, tok); err == nil && claims.SessionID != "" {
			info.sub, info.clientID = claims.Subject, claims.ClientID
			return revocationTarget{sid: claims.SessionID, clientID: claims.ClientID, jkt: claims.JKT}, nil
		}
	}
	return revocationTarget{}, nil
}
