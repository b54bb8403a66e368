package tokensvc

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

// SessionStorage is what the session endpoints and the Bearer check use.
type SessionStorage interface {
	loginState
	GetSession(ctx context.Context, id string) (*store.Session, error)
	RecentUserSessions(ctx context.Context, sub string, limit int) ([]store.Session, bool, error)
}

// SessionView is a session as the API shows it: never its refresh hashes.
type SessionView struct {
	ID            string     `json:"id"`
	Sub           string     `json:"sub"`
	Username      string     `json:"username,omitempty"`
	ClientID      string     `json:"client_id"`
	Scope         string     `json:"scope,omitempty"`
	Groups        []string   `json:"groups,omitempty"`
	Active        bool       `json:"active"`
	Current       bool       `json:"current,omitempty"` // the session of the caller's token
	AuthTime      time.Time  `json:"auth_time"`
	CreatedAt     time.Time  `json:"created_at"`
	LastUsedAt    time.Time  `json:"last_used_at"`
	IdleExpiresAt time.Time  `json:"idle_expires_at"`
	AbsExpiresAt  time.Time  `json:"abs_expires_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokeReason  string     `json:"revoke_reason,omitempty"`
	UserAgent     string     `json:"user_agent,omitempty"`
	SourceIP      string     `json:"source_ip,omitempty"`
}

// SessionList is the body of the session listing endpoints.
type SessionList struct {
	Sessions []SessionView `json:"sessions"`
	// Truncated says that older sessions exist beyond the MaxListedSessions
	// newest listed.
	Truncated bool `json:"truncated,omitempty"`
}

// MaxListedSessions bounds a session listing: a user may open any number of
// sessions, and a response must stay small.
const MaxListedSessions = 100

// View returns the public view of sess at now.
func View(sess *store.Session, now time.Time) SessionView {
	v := SessionView{
		ID: sess.ID, Sub: sess.Sub, Username: sess.Username, ClientID: sess.ClientID,
		Scope: sess.Scope, Groups: sess.Groups, Active: sess.Active(now),
		AuthTime: sess.AuthTime.UTC(), CreatedAt: sess.CreatedAt.UTC(), LastUsedAt: sess.LastUsedAt.UTC(),
		IdleExpiresAt: sess.IdleExpiresAt.UTC(), AbsExpiresAt: sess.AbsExpiresAt.UTC(),
		RevokeReason: sess.RevokeReason, UserAgent: sess.UserAgent, SourceIP: sess.SourceIP,
	}
	if !sess.RevokedAt.IsZero() {
		t := sess.RevokedAt.UTC()
		v.RevokedAt = &t
	}
	return v
}

func (s *Service) listSessions(ctx context.Context, sub, currentSID string) (*SessionList, error) {
	list, more, err := s.sessions.RecentUserSessions(ctx, sub, s.listLimit)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := &SessionList{Sessions: make([]SessionView, 0, len(list)), Truncated: more}
	for i := range list {
		v := View(&list[i], now)
		v.Current = list[i].ID == currentSID
		out.Sessions = append(out.Sessions, v)
	}
	return out, nil
}

// handleListSessions lists the caller's own sessions, revoked and expired
// ones included (until the store forgets them), each marked active or not.
func (s *Service) handleListSessions(w http.ResponseWriter, r *http.Request, info *reqInfo) error {
	c, err := s.authenticate(r, info, false)
	if err != nil {
		return err
	}
	list, err := s.listSessions(r.Context(), c.claims.Subject, c.sess.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// handleDeleteSession ends one of the caller's sessions. Someone else's
// session is answered exactly like a missing one.
func (s *Service) handleDeleteSession(w http.ResponseWriter, r *http.Request, info *reqInfo) error {
	c, err := s.authenticate(r, info, false)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := s.revokeSession(r.Context(), id, c.claims.Subject, revoke.ReasonUserSignOut); err != nil {
		return err
	}
	writeNoContent(w, http.StatusNoContent)
	return nil
}

// revokeSession revokes session id, which must belong to owner unless owner
// is empty (admin).
func (s *Service) revokeSession(ctx context.Context, id, owner, reason string) error {
	notFound := ErrNotFound.WithDescription("no such session")
	if !validSessionID(id) {
		return notFound
	}
	sess, err := s.sessions.GetSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	if owner != "" && sess.Sub != owner {
		return notFound
	}
	if _, err := s.revoker.Session(ctx, id, reason); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound
		}
		return err
	}
	return nil
}
