package cognitoevents

import "slices"

// Action is what shortfuse does about a Cognito API call.
type Action string

const (
	// Ignore: nothing to revoke.
	Ignore Action = "ignore"
	// RevokeUser: every login of the user up to the call is revoked (the
	// user's revocation time, logged for authorizers) and every live session
	// of the user is revoked.
	RevokeUser Action = "revoke_user"
	// RevokeSessions: every live session of the user is revoked; the user's
	// revocation time is left alone, so logins Cognito still honours can
	// exchange a fresh ID token.
	RevokeSessions Action = "revoke_sessions"
	// RevokeClientSessions: like RevokeSessions, for the sessions of the
	// call's app client only.
	RevokeClientSessions Action = "revoke_client_sessions"
)

// rule says what one operation means. Admin operations are authorized with
// IAM and name the user pool; the others are authorized with the user's own
// access token (or, for RevokeToken, a refresh token and an app client id)
// and do not name it.
type rule struct {
	action Action
	admin  bool
	// deletes: the user no longer exists after the call, so the user pool
	// cannot be asked who they were.
	deletes bool
	// signedOut: the call signed the user out of Cognito, ending every
	// refresh token, so the revocation lasts as after a global sign-out.
	signedOut bool
}

// rules is the decision table documented in the package comment and in
// docs/deploy.md. Names not listed are ignored.
var rules = map[string]rule{
	"AdminDisableUser":         {action: RevokeUser, admin: true},
	"AdminDeleteUser":          {action: RevokeUser, admin: true, deletes: true},
	"DeleteUser":               {action: RevokeUser, deletes: true},
	"AdminRemoveUserFromGroup": {action: RevokeUser, admin: true},
	"AdminUserGlobalSignOut":   {action: RevokeUser, admin: true, signedOut: true},
	"GlobalSignOut":            {action: RevokeUser, signedOut: true},
	"AdminSetUserPassword":     {action: RevokeUser, admin: true},
	"AdminResetUserPassword":   {action: RevokeUser, admin: true},
	"ChangePassword":           {action: RevokeUser},
	"AdminRevokeUserSession":   {action: RevokeSessions, admin: true},
	"RevokeUserSession":        {action: RevokeSessions},
	"RevokeToken":              {action: RevokeClientSessions},
}

// EventNames lists the operations the function acts on, sorted: the
// EventBridge rule's eventName filter.
func EventNames() []string {
	names := make([]string, 0, len(rules))
	for n := range rules {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// NamesPool reports whether CloudTrail records the user pool of the
// operation (requestParameters.userPoolId): the admin operations do, those
// authorized with a user's token do not.
func NamesPool(eventName string) bool { return rules[eventName].admin }

// Decision is the outcome of Decide before any lookup: the action, and for
// Ignore why.
type Decision struct {
	Action Action
	Reason string
	rule   rule
}

// Decide applies the decision table to a call, for the user pool poolID.
// It needs no I/O: identifying the user (Call.Sub, else a lookup by
// username) is left to the handler.
func Decide(c Call, poolID string) Decision {
	r, ok := rules[c.Name]
	switch {
	case !ok:
		return Decision{Action: Ignore, Reason: "unknown_event"}
	case c.ErrorCode != "":
		return Decision{Action: Ignore, Reason: "call_failed"}
	case c.UserPoolID != "" && c.UserPoolID != poolID:
		return Decision{Action: Ignore, Reason: "other_user_pool"}
	case r.admin && c.UserPoolID == "":
		return Decision{Action: Ignore, Reason: "no_user_pool"}
	case r.action == RevokeClientSessions && c.ClientID == "":
		return Decision{Action: Ignore, Reason: "no_client_id"}
	case c.Sub == "" && c.Username == "":
		return Decision{Action: Ignore, Reason: "no_user"}
	case c.Sub == "" && !r.admin:
		// A username without a pool cannot be looked up safely.
		return Decision{Action: Ignore, Reason: "no_user"}
	}
	return Decision{Action: r.action, rule: r}
}
