// Package revoke carries out revocations the same way for the token service
// and the admin CLI.
//
// A revocation has two audiences. The store's session and user records stop
// the token service from refreshing or exchanging again; the revocation log
// tells authorizers to refuse access tokens already issued. A session is
// therefore revoked in the store first, which is the state of record, and
// then logged; if the log write fails the caller gets an error and retries,
// and both steps are idempotent, so a retry completes the revocation.
package revoke

import (
	"context"
	"errors"
	"fmt"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/store"
)

// Reasons recorded on revoked sessions.
const (
	ReasonUserSignOut  = "user_signout"
	ReasonAdmin        = "admin"
	ReasonUserRevoked  = "user_revoked"
	ReasonRefreshReuse = "refresh_token_reuse"
	ReasonRevokeToken  = "token_revoked"
)

// ErrGlobalSignOut means the local revocation succeeded but Cognito's
// AdminUserGlobalSignOut failed; retrying the whole revocation is safe.
var ErrGlobalSignOut = errors.New("revoke: cognito global sign-out failed")

// ErrNoUserPool means a global sign-out was asked for without a user pool.
var ErrNoUserPool = errors.New("revoke: global sign-out needs a user pool id and a cognito client")

// Store is the part of *store.Store a Revoker uses.
type Store interface {
	RevokeSession(ctx context.Context, id, reason string, at time.Time) (*store.Session, error)
	AppendRevocation(ctx context.Context, r store.Revocation) (store.Revocation, error)
	SetUserRevokedAt(ctx context.Context, sub string, at time.Time) (time.Time, error)
	ListUserSessions(ctx context.Context, sub string) ([]store.Session, error)
}

// SignOuter is the Cognito call behind a global sign-out;
// *cognitoidentityprovider.Client satisfies it.
type SignOuter interface {
	AdminUserGlobalSignOut(ctx context.Context, in *cip.AdminUserGlobalSignOutInput, optFns ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error)
}

var _ Store = (*store.Store)(nil)

// Revoker revokes sessions and users.
type Revoker struct {
	store      Store
	retention  time.Duration
	cognito    SignOuter
	userPoolID string
	timeout    time.Duration
	now        func() time.Time
}

// Option configures a Revoker.
type Option func(*Revoker)

// WithCognito enables global sign-out in the given user pool.
func WithCognito(c SignOuter, userPoolID string) Option {
	return func(r *Revoker) { r.cognito, r.userPoolID = c, userPoolID }
}

// WithTimeout bounds the Cognito call (default awsx.CallTimeout).
func WithTimeout(d time.Duration) Option { return func(r *Revoker) { r.timeout = d } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(r *Revoker) { r.now = now } }

// New returns a Revoker. retention is how long log entries live; it must be
// at least the longest access token lifetime, since an entry only has to
// outlive the tokens it refuses.
func New(s Store, retention time.Duration, opts ...Option) *Revoker {
	r := &Revoker{store: s, retention: retention, timeout: awsx.CallTimeout, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Session revokes one session and logs it for authorizers. It returns the
// session as stored (with its first RevokedAt when it was already revoked)
// and store.ErrNotFound when there is no such session.
func (r *Revoker) Session(ctx context.Context, id, reason string) (*store.Session, error) {
	at := r.now()
	sess, err := r.store.RevokeSession(ctx, id, reason, at)
	if err != nil {
		return nil, err
	}
	if _, err := r.store.AppendRevocation(ctx, store.Revocation{
		Kind: store.RevokeSession, Value: id, At: at, Until: at.Add(r.retention),
	}); err != nil {
		return sess, fmt.Errorf("revoke: log session revocation: %w", err)
	}
	return sess, nil
}

// UserResult describes a user revocation.
type UserResult struct {
	Sub           string    `json:"sub"`
	RevokedAt     time.Time `json:"revoked_at"`
	Sessions      []string  `json:"sessions_revoked"` // ids of sessions that were live
	GlobalSignOut bool      `json:"global_signout"`   // Cognito's sign-out was done
}

// User revokes every login of sub up to now: it records the user's
// revocation time (which refuses every token and ID token with an earlier
// auth_time), logs it for authorizers, revokes each live session and, when
// globalSignOut is set, signs the user out of Cognito as well, so that
// Cognito refresh tokens stop working too.
//
// username is the Cognito user name for the sign-out; when empty, the name
// recorded on the user's sessions is used, and failing that the sub.
func (r *Revoker) User(ctx context.Context, sub, username, reason string, globalSignOut bool) (UserResult, error) {
	res := UserResult{Sub: sub}
	if globalSignOut && (r.cognito == nil || r.userPoolID == "") {
		return res, ErrNoUserPool
	}
	at, err := r.store.SetUserRevokedAt(ctx, sub, r.now())
	if err != nil {
		return res, err
	}
	res.RevokedAt = at
	if _, err := r.store.AppendRevocation(ctx, store.Revocation{
		Kind: store.RevokeUser, Value: sub, At: at, Until: at.Add(r.retention),
	}); err != nil {
		return res, fmt.Errorf("revoke: log user revocation: %w", err)
	}
	sessions, err := r.store.ListUserSessions(ctx, sub)
	if err != nil {
		return res, err
	}
	now := r.now()
	for _, s := range sessions {
		if username == "" && s.Username != "" {
			username = s.Username
		}
		if !s.RevokedAt.IsZero() {
			continue
		}
		// The user entry logged above already refuses these sessions' access
		// tokens (their auth_time is not after at), so the sessions are only
		// marked revoked here, without a log entry each.
		if _, err := r.store.RevokeSession(ctx, s.ID, reason, now); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return res, err
		}
		if s.Active(now) {
			res.Sessions = append(res.Sessions, s.ID)
		}
	}
	if globalSignOut {
		if username == "" {
			username = sub
		}
		cctx, cancel := context.WithTimeout(ctx, r.timeout)
		defer cancel()
		if _, err := r.cognito.AdminUserGlobalSignOut(cctx, &cip.AdminUserGlobalSignOutInput{
			UserPoolId: &r.userPoolID, Username: &username,
		}); err != nil {
			return res, fmt.Errorf("%w: %w", ErrGlobalSignOut, err)
		}
		res.GlobalSignOut = true
	}
	return res, nil
}
