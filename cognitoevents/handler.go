package cognitoevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

// UserReader is the Cognito calls the handler makes: AdminGetUser to learn
// a user's sub from a username, ListUsers (filtered by sub) to learn
// whether a sub is a user of the pool; *cognitoidentityprovider.Client
// satisfies it.
type UserReader interface {
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, optFns ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	ListUsers(ctx context.Context, in *cip.ListUsersInput, optFns ...func(*cip.Options)) (*cip.ListUsersOutput, error)
}

var _ UserReader = (*cip.Client)(nil)

// Result is what the handler did with one event; it is also the function's
// response, so an operator invoking it by hand sees the outcome.
type Result struct {
	EventID  string   `json:"event_id,omitempty"`
	Event    string   `json:"event,omitempty"`
	Action   Action   `json:"action"`
	Reason   string   `json:"reason,omitempty"` // why an event was ignored
	Sub      string   `json:"sub,omitempty"`
	Sessions []string `json:"sessions_revoked,omitempty"`
}

// Handler turns Cognito API calls into revocations.
type Handler struct {
	cfg     Config
	store   revoke.Store
	revoker *revoke.Revoker
	cognito UserReader
	log     *slog.Logger
	now     func() time.Time
}

// Option configures a Handler.
type Option func(*Handler)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New returns a Handler. st is the token service's table; cognito reads the
// user pool cfg.UserPoolID.
func New(cfg Config, st revoke.Store, cognito UserReader, log *slog.Logger, opts ...Option) (*Handler, error) {
	if cfg.UserPoolID == "" {
		return nil, errors.New("cognitoevents: a user pool id is required")
	}
	if st == nil || cognito == nil || log == nil {
		return nil, errors.New("cognitoevents: store, cognito client and logger are required")
	}
	h := &Handler{cfg: cfg, store: st, cognito: cognito, log: log, now: time.Now}
	for _, o := range opts {
		o(h)
	}
	if h.cfg.Revocation.AccessTokenTTL == 0 {
		h.cfg.Revocation.AccessTokenTTL = revoke.MaxAccessTokenTTL
	}
	var err error
	if h.revoker, err = revoke.New(st, h.cfg.Revocation, revoke.WithClock(h.now), revoke.WithLogger(log)); err != nil {
		return nil, fmt.Errorf("cognitoevents: %w", err)
	}
	return h, nil
}

// Handle processes one EventBridge event. Events that are malformed, not
// for this user pool, failed calls, unknown operations or about users
// shortfuse cannot identify are logged and answered without error, so
// EventBridge does not retry them. An error means a transient failure (the
// table or Cognito did not answer): EventBridge retries the event under the
// rule target's retry policy, and every step is idempotent, so a retry or a
// duplicate delivery revokes nothing twice.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Result, error) {
	call, err := Parse(raw)
	if err != nil {
		h.log.Warn("cognito event ignored", "reason", "malformed", "error", err.Error(), "bytes", len(raw))
		return Result{Action: Ignore, Reason: "malformed"}, nil
	}
	res := Result{EventID: call.EventID, Event: call.Name}
	d := Decide(call, h.cfg.UserPoolID)
	if d.Action == Ignore {
		return h.ignored(res, d.Reason), nil
	}
	sub, err := h.subOf(ctx, call)
	if err != nil {
		return h.failed(res, err)
	}
	if sub == "" {
		return h.ignored(res, "user_not_found"), nil
	}
	res.Sub = sub
	sessions, err := h.store.ListUserSessions(ctx, sub)
	if err != nil {
		return h.failed(res, err)
	}
	if !d.rule.admin && len(sessions) == 0 {
		// The call does not name its user pool. Subs are unique across
		// pools, so a user with sessions here is this pool's. Without
		// sessions there is nothing to revoke, except a user's revocation
		// time, and only for a user the pool still has.
		if d.rule.deletes || d.Action != RevokeUser {
			return h.ignored(res, "no_sessions"), nil
		}
		ok, err := h.exists(ctx, sub)
		if err != nil {
			return h.failed(res, err)
		}
		if !ok {
			return h.ignored(res, "other_user_pool"), nil
		}
	}

	now := h.now()
	at := call.Time
	if at.After(now) {
		at = now
	}
	// A user revocation is dated by the Cognito call, so every delivery of
	// one event asks for the same change and the repeats write nothing.
	rev := h.revoker
	reason := "cognito:" + call.Name
	res.Action = d.Action
	switch d.Action {
	case RevokeUser:
		// Cognito is not called: the event is Cognito's own doing. After
		// a global sign-out its refresh tokens are dead, so in direct mode
		// the entries last only the direct maximum age (a user repeating
		// GlobalSignOut cannot grow the log for long); after any other
		// call they are taken to live on, and the entry lasts the refresh
		// token validity.
		signOut := revoke.SignOutSkip
		if d.rule.signedOut {
			signOut = revoke.SignOutDone
		}
		ur, err := rev.User(ctx, revoke.UserRequest{Sub: sub, Username: call.Username, Reason: reason,
			SignOut: signOut, At: at})
		if err != nil {
			return h.failed(res, err)
		}
		res.Sessions = ur.Sessions
	case RevokeSessions, RevokeClientSessions:
		for _, s := range sessions {
			if !s.Active(now) {
				continue
			}
			if d.Action == RevokeClientSessions && s.ClientID != call.ClientID {
				continue
			}
			if _, err := rev.Session(ctx, s.ID, reason); errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return h.failed(res, err)
			}
			res.Sessions = append(res.Sessions, s.ID)
		}
	}
	h.log.Info("cognito event applied", "event_id", res.EventID, "event", res.Event, "action", string(res.Action),
		"sub", sub, "sessions_revoked", len(res.Sessions), "call_time", call.Time.UTC().Format(time.RFC3339))
	return res, nil
}

func (h *Handler) ignored(res Result, reason string) Result {
	res.Action, res.Reason = Ignore, reason
	h.log.Info("cognito event ignored", "event_id", res.EventID, "event", res.Event, "reason", reason)
	return res
}

func (h *Handler) failed(res Result, err error) (Result, error) {
	h.log.Error("cognito event failed; EventBridge retries it", "event_id", res.EventID, "event", res.Event,
		"sub", res.Sub, "error", err.Error())
	return res, fmt.Errorf("cognitoevents: %s %s: %w", res.Event, res.EventID, err)
}

// subOf returns the sub of the call's user: the one CloudTrail recorded,
// else the pool's answer for the username; "" when the pool has no such
// user.
func (h *Handler) subOf(ctx context.Context, c Call) (string, error) {
	if c.Sub != "" {
		return c.Sub, nil
	}
	out, err := h.getUser(ctx, c.Username)
	if err != nil || out == nil {
		return "", err
	}
	for _, a := range out.UserAttributes {
		if aws.ToString(a.Name) == "sub" {
			if v := aws.ToString(a.Value); validSub(v) {
				return v, nil
			}
		}
	}
	return "", errors.New("user pool answered without a valid sub")
}

// exists reports whether sub is a user of the pool. A sub is not a
// username in every pool, so it is looked up with a filter; validSub keeps
// the filter's quoting intact.
func (h *Handler) exists(ctx context.Context, sub string) (bool, error) {
	if !validSub(sub) {
		return false, nil
	}
	cctx, cancel := context.WithTimeout(ctx, awsx.CallTimeout)
	defer cancel()
	out, err := h.cognito.ListUsers(cctx, &cip.ListUsersInput{
		UserPoolId: aws.String(h.cfg.UserPoolID), Filter: aws.String(`sub = "` + sub + `"`),
		Limit: aws.Int32(1), AttributesToGet: []string{"sub"},
	})
	if err != nil {
		return false, fmt.Errorf("cognito ListUsers: %w", err)
	}
	return len(out.Users) > 0, nil
}

// getUser reads a user by username; nil without error when there is no
// such user.
func (h *Handler) getUser(ctx context.Context, username string) (*cip.AdminGetUserOutput, error) {
	cctx, cancel := context.WithTimeout(ctx, awsx.CallTimeout)
	defer cancel()
	out, err := h.cognito.AdminGetUser(cctx, &cip.AdminGetUserInput{
		UserPoolId: aws.String(h.cfg.UserPoolID), Username: aws.String(username),
	})
	var nf *ciptypes.UserNotFoundException
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cognito AdminGetUser: %w", err)
	}
	return out, nil
}
