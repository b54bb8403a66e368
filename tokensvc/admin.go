package tokensvc

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/shortfuse/shortfuse/shared/revoke"
)

// The admin endpoints take an access token of this service whose groups
// include Config.AdminGroup, on a session that is still active.

func (s *Service) handleAdminListSessions(w http.ResponseWriter, r *http.Request, info *reqInfo) error {
	c, err := s.authenticate(r, info, true)
	if err != nil {
		return err
	}
	list, err := s.listSessions(r.Context(), r.PathValue("sub"), c.sess.ID)
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
	global := s.cfg.AdminGlobalSignOut
	if v := r.URL.Query().Get("global_signout"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return ErrInvalidRequest.WithDescription("global_signout must be true or false")
		}
		global = b
	}
	res, err := s.revoker.User(r.Context(), r.PathValue("sub"), "", revoke.ReasonAdmin, global)
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
