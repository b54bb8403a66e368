package deploy

import "github.com/shortfuse/shortfuse/authorizer"

// Function is one Lambda function of the template and what it may do.
type Function struct {
	LogicalID string  // resource name in template.yaml
	Cmd       string  // main package: ./cmd/<Cmd>, built to bootstrap
	Trigger   string  // LambdaConfig key when Cognito invokes it, else ""
	Grants    []Grant // the function's whole IAM policy, beyond logging

	// Env lists the SHORTFUSE_ variables the function cannot work without
	// in this deployment. Some are optional to the code in general (the
	// authorizer's shape, say) but not here; CheckCode also proves that the
	// code reads every variable the template sets.
	Env []string

	// Ungranted lists AWS operations the code can call but that this
	// deployment never makes it call, so they are not granted: a key
	// source can be Secrets Manager, but the template names SSM parameters.
	Ungranted []string
}

// Grant allows Actions on each of Resources. Resources are placeholder
// strings as they appear in Template.Tree. A grant with ViaService holds
// only through that AWS service (a kms:ViaService condition).
type Grant struct {
	Actions    []string
	Resources  []string
	ViaService string
	// ByLambda marks a grant Lambda itself uses on the function's behalf
	// (an asynchronous invocation's on-failure destination), not its code.
	ByLambda bool
}

// Placeholders for the resources the functions may touch.
const (
	tableArn     = "${Table.Arn}"
	indexArn     = "${Table.Arn}/index/gsi1"
	userPoolArn  = "${UserPool.Arn}"
	eventsDLQArn = "${CognitoEventsDeadLetterQueue.Arn}"
	signingKey   = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SigningKeyParameter}"
	linkKey      = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${AuthLinkKeyParameter}"
	sesIdentity  = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SesIdentity}"
	parameterCMK = "${ParameterKmsKeyArn}"
	viaSSM       = "ssm.${AWS::Region}.${AWS::URLSuffix}"
)

// decryptParameters lets a function read a SecureString encrypted with the
// optional customer managed key, only through SSM.
var decryptParameters = Grant{Actions: []string{"kms:Decrypt"}, Resources: []string{parameterCMK}, ViaService: viaSSM}

// keysFromSSM: the key sources the template sets are "ssm:" parameters.
var keysFromSSM = []string{"secretsmanager:GetSecretValue"}

// Functions lists every function the template must define. Least
// privilege is exact: a function's policy may grant nothing outside its
// Grants and must grant everything in them (CheckIAM), and the Grants'
// actions are exactly the AWS operations the code calls (CheckCode). The
// DynamoDB resources are chosen by hand: the index only where the code
// queries it.
var Functions = []Function{
	{
		// Invites: consumed with a conditional update, read back when the
		// update is refused to say why.
		LogicalID: "PreSignUpFunction", Cmd: "presignup", Trigger: "PreSignUp",
		Env: []string{"SHORTFUSE_TABLE"},
		Grants: []Grant{
			{Actions: []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}, Resources: []string{tableArn}},
		},
	},
	{LogicalID: "CustomMessageFunction", Cmd: "custommessage", Trigger: "CustomMessage"},
	// A pure state machine over the session Cognito passes in.
	{LogicalID: "DefineAuthChallengeFunction", Cmd: "defineauth", Trigger: "DefineAuthChallenge"},
	{
		// Challenges: issued over the previous one, keeping the attempt
		// window (UpdateItem), read back on a retry (GetItem), dropped when
		// their mail could not be sent (DeleteItem, or UpdateItem to keep
		// attempts counted in the window).
		LogicalID: "CreateAuthChallengeFunction", Cmd: "createauth", Trigger: "CreateAuthChallenge",
		Env: []string{"SHORTFUSE_TABLE", "SHORTFUSE_MAIL_FROM", "SHORTFUSE_AUTH_LINK_KEY"},
		Grants: []Grant{
			{Actions: []string{"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}, Resources: []string{tableArn}},
			{Actions: []string{"ses:SendEmail"}, Resources: []string{sesIdentity}},
			{Actions: []string{"ssm:GetParameter"}, Resources: []string{linkKey}},
			decryptParameters,
		},
		Ungranted: keysFromSSM,
	},
	{
		// Challenges: an attempt and a use are conditional updates only.
		LogicalID: "VerifyAuthChallengeFunction", Cmd: "verifyauth", Trigger: "VerifyAuthChallengeResponse",
		Env: []string{"SHORTFUSE_TABLE", "SHORTFUSE_AUTH_LINK_KEY"},
		Grants: []Grant{
			{Actions: []string{"dynamodb:UpdateItem"}, Resources: []string{tableArn}},
			{Actions: []string{"ssm:GetParameter"}, Resources: []string{linkKey}},
			decryptParameters,
		},
		Ungranted: keysFromSSM,
	},
	{
		// Sessions, user revocation times and the revocation log on the
		// table; a user's sessions listed through the index.
		LogicalID: "TokenServiceFunction", Cmd: "tokensvc",
		Env: []string{
			"SHORTFUSE_TABLE", "SHORTFUSE_ISSUER", "SHORTFUSE_AUDIENCE", "SHORTFUSE_COGNITO_ISSUER",
			"SHORTFUSE_COGNITO_USER_POOL_ID", "SHORTFUSE_CLIENTS", "SHORTFUSE_SIGNING_KEY",
		},
		Grants: []Grant{
			{Actions: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}, Resources: []string{tableArn}},
			{Actions: []string{"dynamodb:Query"}, Resources: []string{indexArn}},
			{Actions: []string{"ssm:GetParameter"}, Resources: []string{signingKey}},
			{Actions: []string{"cognito-idp:AdminUserGlobalSignOut"}, Resources: []string{userPoolArn}},
			// The refresh-time re-read of the user (SHORTFUSE_COGNITO_RECHECK).
			{Actions: []string{"cognito-idp:AdminGetUser", "cognito-idp:AdminListGroupsForUser"}, Resources: []string{userPoolArn}},
			decryptParameters,
		},
		Ungranted: keysFromSSM,
	},
	{
		// One read, in both revocation modes: the revocation log (Query on
		// the table). Never the index, never a write.
		LogicalID: "AuthorizerFunction", Cmd: "authorizer",
		Env: []string{
			"SHORTFUSE_TABLE", "SHORTFUSE_ROUTES", "SHORTFUSE_AUTHORIZER_MODE", "SHORTFUSE_AUTHORIZER_SHAPE",
			// both modes, so that switching AuthorizerMode needs nothing else
			"SHORTFUSE_ISSUER", "SHORTFUSE_AUDIENCE", "SHORTFUSE_JWKS_URL", "SHORTFUSE_COGNITO_ISSUER", "SHORTFUSE_CLIENTS",
			"SHORTFUSE_DIRECT_TOKEN_USE",
		},
		Grants: []Grant{
			{Actions: []string{"dynamodb:Query"}, Resources: []string{tableArn}},
		},
	},
	{
		// Revocations for Cognito API calls: the same table writes as the
		// token service's revocations, a user's sessions through the index,
		// and two reads of the user pool to identify a user.
		LogicalID: "CognitoEventsFunction", Cmd: "cognitoevents",
		Env: []string{"SHORTFUSE_TABLE", "SHORTFUSE_COGNITO_USER_POOL_ID", "SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY"},
		Grants: []Grant{
			{Actions: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}, Resources: []string{tableArn}},
			{Actions: []string{"dynamodb:Query"}, Resources: []string{indexArn}},
			{Actions: []string{"cognito-idp:AdminGetUser", "cognito-idp:ListUsers"}, Resources: []string{userPoolArn}},
			{Actions: []string{"sqs:SendMessage"}, Resources: []string{eventsDLQArn}, ByLambda: true},
		},
		// The revocation path can sign a user out of Cognito; this function
		// never asks it to (Cognito made the change itself).
		Ungranted: []string{"cognito-idp:AdminUserGlobalSignOut"},
	},
}

// AuthorizerFunctionID is the function behind the API's Lambda authorizer.
const AuthorizerFunctionID = "AuthorizerFunction"

// PublicRoutes are the only routes that may skip the authorizer: each
// authenticates its caller itself (a Cognito ID token or a refresh token in
// the body) or serves a public document (ANY: GET and HEAD, RFC 9110;
// the token service answers other methods with 405).
var PublicRoutes = []string{
	"POST /token",
	"POST /revoke",
	"ANY /.well-known/jwks.json",
	"ANY /.well-known/oauth-authorization-server",
}

// SelfAuthenticated are the token service's Bearer routes: it verifies its
// own access token and reads the session on every call. With
// AuthorizerMode=direct (an authorizer that accepts only Cognito tokens) they
// may skip the authorizer; in exchange mode they are behind it too.
var SelfAuthenticated = []string{
	"POST /introspect",
	"GET /sessions",
	"DELETE /sessions/{id}",
	"GET /admin/users/{sub}/sessions",
	"DELETE /admin/sessions/{id}",
	"POST /admin/users/{sub}/revoke",
}

// Routes are the route keys the API must serve: the token service's
// endpoints and the sample protected route.
var Routes = []string{
	"POST /token",
	"POST /revoke",
	"POST /introspect",
	"GET /sessions",
	"DELETE /sessions/{id}",
	"GET /admin/users/{sub}/sessions",
	"DELETE /admin/sessions/{id}",
	"POST /admin/users/{sub}/revoke",
	"ANY /.well-known/jwks.json",
	"ANY /.well-known/oauth-authorization-server",
	"GET /userinfo",
}

// Forbidden are variables the template must not set: endpoint overrides
// of the local stack (in AWS they would send traffic nowhere), and an
// inline JWK Set, which would conflict with SHORTFUSE_JWKS_URL.
var Forbidden = []string{
	"SHORTFUSE_AWS_ENDPOINT", "SHORTFUSE_DYNAMODB_ENDPOINT", "SHORTFUSE_SES_ENDPOINT",
	"SHORTFUSE_COGNITO_ENDPOINT", "SHORTFUSE_HTTP_ADDR", "SHORTFUSE_JWKS",
}

// Outputs the deploy guide and clients rely on (ApiUrl only when the stack
// creates its HTTP API).
var Outputs = []string{
	"Issuer", "JwksUrl", "ApiUrl", "UserPoolId", "UserPoolClientId", "CognitoIssuer",
	"AuthorizerFunctionArn", "AuthorizerShape", "AuthorizerIdentitySource",
}

// IdentitySources are, per authorizer shape, the identity sources an
// authorizer of that kind must have: the Authorization header, and for
// simple responses, which answer for one route only, the route key, so
// that API Gateway's cache never reuses an answer for another route. The
// IAM policy shapes answer for every route of the stage (see the authorizer
// package), so the token alone keys their cache.
var IdentitySources = map[authorizer.Shape][]string{
	authorizer.ShapeRESTToken:   {"method.request.header.Authorization"},
	authorizer.ShapeRESTRequest: {"method.request.header.Authorization"},
	authorizer.ShapeHTTPIAM:     {"$request.header.Authorization"},
	authorizer.ShapeHTTPSimple:  {"$request.header.Authorization", "$context.routeKey"},
}

// Lambda settings every function shares.
const (
	Runtime      = "provided.al2023"
	Architecture = "arm64"
	Handler      = "bootstrap"
	BuildMethod  = "makefile"
)

// ForwardedHeaders are the request headers a private integration sets for
// the backend, from the authorizer's answer and the request: each must be
// written with "overwrite:", which replaces whatever value the client sent
// under that name, so the backend can trust it, and each authorizer value
// must be one the authorizer always sets, non-empty, in the stack's shape
// (authorizer.ForwardedKeys): an empty or missing value must never leave
// the client's header in place. groupsHeader is the http-simple shape's
// string form of groups.
var ForwardedHeaders = map[string]string{
	"x-shortfuse-sub":        "$context.authorizer.sub",
	"x-shortfuse-sid":        "$context.authorizer.sid",
	"x-shortfuse-username":   "$context.authorizer.username",
	"x-shortfuse-groups":     "$context.authorizer.groupsHeader",
	"x-shortfuse-scope":      "$context.authorizer.scope",
	"x-shortfuse-request-id": "$context.requestId",
}
