package tokensvc

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// caller is the authenticated user of a Bearer-protected endpoint.
type caller struct {
	claims *jwtverify.Claims
	sess   *store.Session
}

// authenticate checks the request's access token: one of this service
// whose session is still active, sent as a Bearer token or, when it is
// DPoP-bound, with the DPoP scheme and a proof made with its key for this
// request. admin additionally requires the configured admin group.
func (s *Service) authenticate(r *http.Request, info *reqInfo, admin bool) (*caller, error) {
	h := r.Header.Get("Authorization")
	scheme, _, _ := strings.Cut(strings.TrimLeft(h, " \t"), " ")
	isDPoP := strings.EqualFold(scheme, tokenspec.SchemeDPoP)
	if !isDPoP && !strings.EqualFold(scheme, tokenspec.SchemeBearer) {
		return nil, ErrNoToken.WithDescription("a Bearer or DPoP access token is required")
	}
	invalid := func(description string) *Error {
		e := ErrInvalidToken.WithDescription("%s", description)
		e.dpop = isDPoP // answer in the scheme the client used
		return e
	}
	cred, ok := tokenspec.ParseAuthorization(h)
	if !ok || len(r.Header.Values("Authorization")) > 1 {
		return nil, invalid("malformed Authorization header")
	}
	tok := cred.Token
	info.tokenID = tokenID(tok)
	claims, err := s.access.Verify(r.Context(), tok)
	if err != nil {
		return nil, invalid("access token is invalid or expired").WithCause(err)
	}
	info.sub, info.sid, info.clientID = claims.Subject, claims.SessionID, claims.ClientID
	switch {
	case claims.JKT != "" && !isDPoP:
		e := ErrInvalidToken.WithDescription("the access token is DPoP-bound: send it with the DPoP scheme and a proof")
		e.dpop = true
		return nil, e
	case claims.JKT == "" && isDPoP:
		e := ErrInvalidToken.WithDescription("the access token is not DPoP-bound: send it as a Bearer token")
		e.dpop = true
		return nil, e
	case claims.JKT != "":
		jkt, err := s.proof(r, tok, claims.JKT, true)
		if err != nil {
			return nil, err
		}
		if jkt == "" {
			e := ErrInvalidDPoPProof.WithDescription("no DPoP proof")
			e.Status, e.dpop = http.StatusUnauthorized, true
			return nil, e
		}
	}
	sess, err := s.activeSession(r, claims)
	if err != nil {
		return nil, err
	}
	if admin && !hasGroup(claims.Groups, s.cfg.AdminGroup) {
		return nil, ErrInsufficientScope.WithDescription("requires membership of the admin group")
	}
	return &caller{claims: claims, sess: sess}, nil
}

// activeSession returns the session of verified access token claims, or
// invalid_token when it is gone, revoked or expired, or when its user or its
// login family has been revoked since it began. The last checks matter for
// a session written while its user or login was being revoked: the
// revocation lists sessions through an eventually consistent index and may
// miss it.
func (s *Service) activeSession(r *http.Request, claims *jwtverify.Claims) (*store.Session, error) {
	if claims.SessionID == "" || claims.Subject == "" {
		return nil, ErrInvalidToken.WithDescription("access token has no session")
	}
	ctx := r.Context()
	sess, err := s.sessions.GetSession(ctx, claims.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidToken.WithDescription("session has ended")
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if sess.Sub != claims.Subject || !sess.Active(now) {
		return nil, ErrInvalidToken.WithDescription("session has ended")
	}
	v, err := liveness(ctx, s.sessions, sess, now)
	if err != nil {
		return nil, err
	}
	if v != store.SessionLive {
		if err := s.endRevokedLogin(ctx, sess, v); err != nil {
			// The answer does not depend on recording it.
			s.log.WarnContext(ctx, "session of a revoked login not marked revoked", "sid", sess.ID, "error", err.Error())
		}
		return nil, ErrInvalidToken.WithDescription("session has ended")
	}
	return sess, nil
}

// hasGroup reports whether groups contains g.
func hasGroup(groups []string, g string) bool { return g != "" && slices.Contains(groups, g) }
