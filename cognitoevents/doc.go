// Package cognitoevents makes changes made in Cognito reach shortfuse: a
// Lambda function, invoked by an EventBridge rule with the user pool API
// calls CloudTrail records ("AWS API Call via CloudTrail", source
// aws.cognito-idp), revokes the user's shortfuse sessions within seconds of
// the call.
//
// # What each call does
//
//	AdminDisableUser, AdminDeleteUser, DeleteUser,     revoke the user: every login up to the
//	AdminUserGlobalSignOut, GlobalSignOut,             call is refused (the user's revocation
//	AdminRemoveUserFromGroup, AdminSetUserPassword,    time, logged for authorizers) and every
//	AdminResetUserPassword, ChangePassword             live session is revoked
//	AdminRevokeUserSession, RevokeUserSession          revoke every live session of the user
//	RevokeToken                                        revoke the user's live sessions of that app client
//	anything else, or a call with errorCode set        ignored
//
// A global sign-out (AdminUserGlobalSignOut, GlobalSignOut) has ended every
// Cognito refresh token of the user, so in direct mode its revocation's log
// entries last only the direct maximum age, and a user repeating
// GlobalSignOut cannot fill the log; the other calls leave refresh tokens
// alive, and their entries last the refresh token validity.
//
// Group removal revokes because access tokens carry the groups they were
// issued with; the user signs in again and gets the current ones. A
// password set, reset or changed ends every login, as a response to a
// suspected compromise should; CloudTrail does not say which session
// changed it, so that one ends too. CloudTrail records RevokeToken's
// refresh token and AdminRevokeUserSession's session as
// HIDDEN_DUE_TO_SECURITY_REASONS, so the login they ended is unknown: the
// sessions that may derive from it are revoked, without a revocation time,
// so the user's other logins, which Cognito still honours, exchange a fresh
// ID token and carry on.
//
// # Who the user is
//
// CloudTrail replaces usernames with HIDDEN_DUE_TO_SECURITY_REASONS and
// records the user's sub in additionalEventData.sub. Without a sub, an admin
// call's username (when recorded) is resolved with AdminGetUser. Admin calls
// name their pool in requestParameters.userPoolId, and calls of other pools
// are ignored. Calls authorized with the user's own token (GlobalSignOut,
// DeleteUser, ChangePassword, RevokeUserSession, RevokeToken) do not name a
// pool: a sub with sessions in shortfuse's table is this pool's (subs are
// unique); for one without, only GlobalSignOut and ChangePassword still
// revoke (the user's revocation time), after ListUsers filtered by sub finds
// the user in the pool.
//
// # Failures, repeats and garbage
//
// Revocations are dated by the call's eventTime, so every delivery of one
// event asks the revocation path for the same change, and a repeat changes
// nothing. Malformed events, unknown operations, failed calls and users
// shortfuse cannot identify are logged and answered without error, so
// EventBridge does not retry them; a table or Cognito failure is an error,
// and EventBridge retries under the rule target's bounded retry policy, then
// sends the event to the dead-letter queue.
//
// # Settings
//
//	SHORTFUSE_TABLE                  the token service's table (required)
//	SHORTFUSE_COGNITO_USER_POOL_ID   the user pool whose calls count (required)
//	SHORTFUSE_AUTHORIZER_MODE, SHORTFUSE_DIRECT_MAX_AGE, SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY,
//	SHORTFUSE_DIRECT_FAMILY_LIMIT    how long revocations last, as the token service's (revoke.LoadPolicy)
//	SHORTFUSE_REVOCATION_REPLICAS,   where log entries are written, as the token service's
//	SHORTFUSE_REVOCATION_SHARDS      and the authorizer's
//	SHORTFUSE_LOG_LEVEL, SHORTFUSE_AWS_REGION, SHORTFUSE_AWS_ENDPOINT,
//	SHORTFUSE_DYNAMODB_ENDPOINT, SHORTFUSE_COGNITO_ENDPOINT
//	                                 the settings every function shares (config.Common)
//
// Function is the constructor cmd/cognitoevents runs (package function)
// and the local stack serves.
//
// See docs/deploy.md for what the AWS account must have enabled.
package cognitoevents
