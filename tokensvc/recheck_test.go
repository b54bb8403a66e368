package tokensvc

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/store"
)

// countingUsers counts the Cognito calls of the check, and fails them while
// down is set.
type countingUsers struct {
	CognitoUsers
	calls atomic.Int32
	down  atomic.Bool
}

func (c *countingUsers) AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, o ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	c.calls.Add(1)
	if c.down.Load() {
		return nil, errors.New("throttled")
	}
	return c.CognitoUsers.AdminGetUser(ctx, in, o...)
}

func (c *countingUsers) AdminListGroupsForUser(ctx context.Context, in *cip.AdminListGroupsForUserInput, o ...func(*cip.Options)) (*cip.AdminListGroupsForUserOutput, error) {
	c.calls.Add(1)
	return c.CognitoUsers.AdminListGroupsForUser(ctx, in, o...)
}

// TestCognitoRecheck: with SHORTFUSE_COGNITO_RECHECK set, a refresh reads
// the user from cognito-local at most once per interval, and a user
// disabled, deleted or removed from a group the session carries loses it.
func TestCognitoRecheck(t *testing.T) {
	ctx := context.Background()
	cog := testenv.CognitoLocal(t, testenv.CognitoOptions{})
	users := &countingUsers{CognitoUsers: cog.Client}
	const every = 10 * time.Minute
	e := newEnv(t, envOption{
		cfg:  func(c *Config) { c.UserPoolID, c.CognitoRecheck = cog.UserPoolID, every },
		opts: []Option{WithCognitoUsers(users)},
	})
	if _, err := cog.Client.CreateGroup(ctx, &cip.CreateGroupInput{GroupName: aws.String("editors"), UserPoolId: &cog.UserPoolID}); err != nil {
		t.Fatal(err)
	}
	// user signs up in cognito-local (whose username is the sub) and gets a
	// session carrying the editors group.
	n := 0
	user := func() (string, TokenResponse) {
		n++
		sub, err := cog.SignUp(ctx, "recheck"+string(rune('a'+n))+"@example.com", "Passw0rd!long", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cog.Client.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{
			GroupName: aws.String("editors"), UserPoolId: &cog.UserPoolID, Username: &sub}); err != nil {
			t.Fatal(err)
		}
		return sub, e.login(sub, map[string]any{"cognito:groups": []string{"editors"}})
	}
	sessionOf := func(rt string) *store.Session {
		s, err := e.store.GetSession(ctx, strings.Split(rt, ".")[0])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("unchanged user: once per interval", func(t *testing.T) {
		_, tr := user()
		users.calls.Store(0)
		e.clock.Add(time.Minute)
		tr = e.tokenResponse(e.refresh(tr.RefreshToken))
		if c := users.calls.Load(); c != 0 {
			t.Fatalf("%d Cognito calls within the first interval", c)
		}
		e.clock.Add(every)
		tr = e.tokenResponse(e.refresh(tr.RefreshToken))
		if c := users.calls.Load(); c != 2 {
			t.Fatalf("%d Cognito calls after an interval, want 2 (user, groups)", c)
		}
		e.clock.Add(time.Minute)
		e.tokenResponse(e.refresh(tr.RefreshToken))
		if c := users.calls.Load(); c != 2 {
			t.Fatalf("%d Cognito calls: checked twice in one interval", c)
		}
	})
	t.Run("removed from a group", func(t *testing.T) {
		sub, tr := user()
		if _, err := cog.Client.AdminRemoveUserFromGroup(ctx, &cip.AdminRemoveUserFromGroupInput{
			GroupName: aws.String("editors"), UserPoolId: &cog.UserPoolID, Username: &sub}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(every)
		wantError(t, e.refresh(tr.RefreshToken), 400, "invalid_grant")
		if s := sessionOf(tr.RefreshToken); s.RevokedAt.IsZero() || s.RevokeReason != ReasonCognitoGroupsChanged {
			t.Fatalf("session %+v", s)
		}
		if at, _ := e.store.UserRevokedAt(ctx, sub); !at.IsZero() {
			t.Fatal("the whole user was revoked for a group change")
		}
	})
	for _, change := range []string{"disabled", "deleted"} {
		t.Run(change, func(t *testing.T) {
			sub, tr := user()
			var err error
			if change == "disabled" {
				_, err = cog.Client.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: &cog.UserPoolID, Username: &sub})
			} else {
				_, err = cog.Client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: &cog.UserPoolID, Username: &sub})
			}
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Add(every)
			wantError(t, e.refresh(tr.RefreshToken), 400, "invalid_grant")
			if s := sessionOf(tr.RefreshToken); s.RevokedAt.IsZero() || s.RevokeReason != ReasonCognitoUserGone {
				t.Fatalf("session %+v", s)
			}
			if at, _ := e.store.UserRevokedAt(ctx, sub); at.IsZero() {
				t.Fatal("user not revoked")
			}
		})
	}
	t.Run("Cognito unavailable", func(t *testing.T) {
		_, tr := user()
		e.clock.Add(every)
		users.down.Store(true)
		wantError(t, e.refresh(tr.RefreshToken), 503, "temporarily_unavailable")
		users.down.Store(false)
		// Nothing rotated: the same refresh token works once Cognito answers.
		e.tokenResponse(e.refresh(tr.RefreshToken))
	})
}

func TestCognitoRecheckConfig(t *testing.T) {
	base := map[string]string{
		"SHORTFUSE_TABLE":                "t",
		"SHORTFUSE_ISSUER":               "https://tokens.example.com",
		"SHORTFUSE_COGNITO_ISSUER":       "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x",
		"SHORTFUSE_CLIENTS":              "c1",
		"SHORTFUSE_SIGNING_KEY":          "file:/k.json",
		"SHORTFUSE_ADMIN_GLOBAL_SIGNOUT": "false",
	}
	load := func(extra map[string]string) (Config, error) {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return LoadConfig(config.FromMap(m))
	}
	if c, err := load(nil); err != nil || c.CognitoRecheck != 0 {
		t.Fatalf("default: %v %v", c.CognitoRecheck, err)
	}
	if c, err := load(map[string]string{"SHORTFUSE_COGNITO_RECHECK": "15m", "SHORTFUSE_COGNITO_USER_POOL_ID": "eu-west-1_x"}); err != nil || c.CognitoRecheck != 15*time.Minute {
		t.Fatalf("15m: %v %v", c.CognitoRecheck, err)
	}
	for _, bad := range []map[string]string{
		{"SHORTFUSE_COGNITO_RECHECK": "30s", "SHORTFUSE_COGNITO_USER_POOL_ID": "eu-west-1_x"},
		{"SHORTFUSE_COGNITO_RECHECK": "15m"},
		{"SHORTFUSE_COGNITO_RECHECK": "48h", "SHORTFUSE_COGNITO_USER_POOL_ID": "eu-west-1_x"},
	} {
		if _, err := load(bad); err == nil || !strings.Contains(err.Error(), "SHORTFUSE_COGNITO_RECHECK") {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, err := newRecheck(nil, "pool", time.Minute); err == nil {
		t.Error("a check without a Cognito client")
	}
}
