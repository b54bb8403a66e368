package tokensvc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

// CognitoUsers is what the refresh-time check reads from the user pool;
// *cognitoidentityprovider.Client satisfies it.
type CognitoUsers interface {
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, optFns ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	AdminListGroupsForUser(ctx context.Context, in *cip.AdminListGroupsForUserInput, optFns ...func(*cip.Options)) (*cip.AdminListGroupsForUserOutput, error)
}

var _ CognitoUsers = (*cip.Client)(nil)

// Reasons recorded on sessions the check revokes.
const (
	ReasonCognitoUserGone      = "cognito_user_gone"      // deleted or disabled
	ReasonCognitoPasswordReset = "cognito_password_reset" // must set a new password
	ReasonCognitoGroupsChanged = "cognito_groups_changed" // removed from a group the session carries
)

// maxGroupPages bounds the group listing: 10 pages of 60 groups.
const maxGroupPages = 10

// recheck re-reads, on refresh, what Cognito says about a session's user
// (SHORTFUSE_COGNITO_RECHECK), for user pools whose changes do not reach
// shortfuse as events. It runs at most once per interval per session,
// counted from the session's creation: a refresh checks when an interval
// boundary has passed since the session was last used, which needs no
// state beyond the session's own times, whatever the number of containers.
type recheck struct {
	users   CognitoUsers
	poolID  string
	every   time.Duration
	timeout time.Duration
}

func newRecheck(users CognitoUsers, poolID string, every time.Duration) (*recheck, error) {
	if every <= 0 {
		return nil, nil
	}
	if users == nil || poolID == "" {
		return nil, errors.New("tokensvc: SHORTFUSE_COGNITO_RECHECK needs a user pool id and a Cognito client")
	}
	return &recheck{users: users, poolID: poolID, every: every, timeout: awsx.CallTimeout}, nil
}

// due reports whether a refresh of sess at now must check the user.
func (c *recheck) due(sess *store.Session, now time.Time) bool {
	if c == nil {
		return false
	}
	last := sess.LastUsedAt
	if last.Before(sess.CreatedAt) {
		last = sess.CreatedAt
	}
	return now.Sub(sess.CreatedAt)/c.every > last.Sub(sess.CreatedAt)/c.every
}

// verdict is what the check found: "" when the session may go on, else
// the reason it must end and whether the whole user is concerned.
type verdict struct {
	reason string
	user   bool
}

// check asks the user pool about the session's user. An error means
// Cognito did not answer: the refresh fails with 503 and may be retried,
// since nothing has rotated yet.
func (c *recheck) check(ctx context.Context, sess *store.Session) (verdict, error) {
	name := sess.Username
	if name == "" {
		name = sess.Sub
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u, err := c.users.AdminGetUser(cctx, &cip.AdminGetUserInput{UserPoolId: aws.String(c.poolID), Username: aws.String(name)})
	var nf *ciptypes.UserNotFoundException
	switch {
	case errors.As(err, &nf):
		return verdict{reason: ReasonCognitoUserGone, user: true}, nil
	case err != nil:
		return verdict{}, fmt.Errorf("cognito AdminGetUser: %w", err)
	case !u.Enabled:
		return verdict{reason: ReasonCognitoUserGone, user: true}, nil
	case u.UserStatus == ciptypes.UserStatusTypeResetRequired || u.UserStatus == ciptypes.UserStatusTypeForceChangePassword:
		return verdict{reason: ReasonCognitoPasswordReset, user: true}, nil
	}
	if len(sess.Groups) == 0 {
		return verdict{}, nil
	}
	current := map[string]bool{}
	var next *string
	for range maxGroupPages {
		out, err := c.users.AdminListGroupsForUser(cctx, &cip.AdminListGroupsForUserInput{
			UserPoolId: aws.String(c.poolID), Username: aws.String(name), Limit: aws.Int32(60), NextToken: next,
		})
		if errors.As(err, &nf) {
			return verdict{reason: ReasonCognitoUserGone, user: true}, nil
		}
		if err != nil {
			return verdict{}, fmt.Errorf("cognito AdminListGroupsForUser: %w", err)
		}
		for _, g := range out.Groups {
			current[aws.ToString(g.GroupName)] = true
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	// Only a removal matters: the session's tokens would grant what the
	// user lost. A group gained shows in the next login's tokens.
	if slices.ContainsFunc(sess.Groups, func(g string) bool { return !current[g] }) {
		return verdict{reason: ReasonCognitoGroupsChanged}, nil
	}
	return verdict{}, nil
}

// recheckUser runs the check for a refresh that is due one and carries out
// its verdict through the revocation path: a user deleted, disabled or
// made to reset their password is revoked (every session, every login up
// to now); a session that lost a group is revoked alone.
func (s *core) recheckUser(ctx context.Context, sess *store.Session, now time.Time, info *reqInfo) error {
	if !s.recheck.due(sess, now) {
		return nil
	}
	v, err := s.recheck.check(ctx, sess)
	if err != nil {
		s.log.Warn("cognito recheck failed", "sid", sess.ID, "error", err.Error())
		return ErrUnavailable.WithDescription("try again shortly")
	}
	if v.reason == "" {
		return nil
	}
	info.event = v.reason
	if v.user {
		// Cognito already refuses the user (deleted, disabled, password
		// reset): no sign-out call.
		if _, err := s.revoker.User(ctx, revoke.UserRequest{Sub: sess.Sub, Username: sess.Username, Reason: v.reason,
			SignOut: revoke.SignOutSkip}); err != nil {
			return err
		}
	} else if _, err := s.revoker.Session(ctx, sess.ID, v.reason); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return ErrInvalidGrant.WithDescription("session has been revoked")
}
