package tokensvc

import (
	"net/http"
)

// userInfo is the answer of GET /userinfo: who the access token speaks
// for, from its verified claims and live session.
type userInfo struct {
	Sub       string   `json:"sub"`
	Username  string   `json:"username,omitempty"`
	Groups    []string `json:"groups"`
	Scope     string   `json:"scope,omitempty"`
	SessionID string   `json:"sid"`
	ClientID  string   `json:"client_id"`
	Exp       int64    `json:"exp"` // the access token's expiry, unix seconds
}

// handleUserInfo answers the template's sample protected route: a Bearer
// access token of a live session gets its claims back, so a client (or a
// walkthrough) sees what the authorizer passed on.
func (s *Service) handleUserInfo(w http.ResponseWriter, r *http.Request, info *reqInfo) error {
	c, err := s.authenticate(r, info, false)
	if err != nil {
		return err
	}
	groups := c.claims.Groups
	if groups == nil {
		groups = []string{}
	}
	writeJSON(w, http.StatusOK, userInfo{
		Sub:       c.claims.Subject,
		Username:  c.claims.Username,
		Groups:    groups,
		Scope:     c.claims.Scope,
		SessionID: c.claims.SessionID,
		ClientID:  c.claims.ClientID,
		Exp:       c.claims.ExpiresAt.Unix(),
	})
	return nil
}
