package tokensvc

import (
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/shortfuse/shortfuse/shared/revoke"
)

// The admin endpoints take an access token of this service whose groups
// include Config.AdminGroup, on a session that is still active.

func (s *Service) handleAdminListSessions(w http.ResponseWriter, r *http.Request, info *reqInfo) error {
	c, err := s.authenticate(r, info, true)
	if err != nil {
		return err
	}
	sub, err := subParam(r)
	if err != nil {
		return err
	}
	list, err := s.listSessions(r.Context(), sub, c.sess.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Service) handleAdminRevokeSession(w http.ResponseWriter, r *http.Request, info *reqInfo) error {
	if _, err := s.authenticate(r, info, true); err != nil {
		return err
	}
	if err := s.revokeSession(r.Context(), r.PathValue("id"), "", revoke.ReasonAdmin); err != nil {
		return err
	}
	writeNoContent(w, http.StatusNoContent)
	return nil
}

// handleAdminRevokeUser revokes every login of a user up to now. The query
// parameter global_signout (true/false) overrides
// Config.AdminGlobalSignOut for this call.
func (s *Service) handleAdminRevokeUser(w http.ResponseWriter, r *http.Request, info *reqInfo) error {
	if _, err := s.authenticate(r, info, true); err != nil {
		return err
	}
	sub, err := subParam(r)
	if err != nil {
		return err
	}
	signOut := revoke.SignOutDefault
	if v := r.URL.Query().Get("global_signout"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return ErrInvalidRequest.WithDescription("global_signout must be true or false")
		}
		signOut = revoke.SignOutSkip
		if b {
			signOut = revoke.SignOutCognito
		}
	}
	res, err := s.revoker.User(r.Context(), revoke.UserRequest{Sub: sub, Reason: revoke.ReasonAdmin, SignOut: signOut})
	switch {
	case errors.Is(err, revoke.ErrNoUserPool):
		return ErrInvalidRequest.WithDescription("global sign-out is not configured")
	case errors.Is(err, revoke.ErrGlobalSignOut):
		return ErrUnavailable.WithDescription("sessions revoked, but Cognito global sign-out failed; retry").WithCause(err)
	case err != nil:
		return err
	}
	if res.Sessions == nil {
		res.Sessions = []string{}
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// subParam returns the {sub} path parameter. A sub is a JWT string claim, so
// one that is not UTF-8 (a percent-escaped byte such as %ff) names no user
// and is refused here rather than by the store.
func subParam(r *http.Request) (string, error) {
	sub := r.PathValue("sub")
	if !utf8.ValidString(sub) {
		return "", ErrInvalidRequest.WithDescription("sub is not valid UTF-8")
	}
	return sub, nil
}
