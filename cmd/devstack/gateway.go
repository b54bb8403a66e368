package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/authorizer"
	sfconfig "github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/devgateway"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
)

func init() {
	setups = append(setups, createAuthorizerTable)
	functions = append(functions, Function{Name: "authorizer", New: newAuthorizer})
	services = append(services, Service{
		Name:        "gateway",
		Port:        8090,
		New:         newGateway,
		Walkthrough: gatewayWalkthrough,
	})
}

// demoRoutes is the local gateway's route table unless SHORTFUSE_ROUTES is
// set: /hello for any valid token, /admin/* for the admin group, orders by
// scope.
const demoRoutes = `[
	{"route": "GET /hello"},
	{"route": "ANY /admin/*", "groups": ["shortfuse-admin"]},
	{"route": "GET /orders", "scopes": ["read"]},
	{"route": "POST /orders", "scopes": ["write"]}
]`

// authorizerTunables may be set in the environment to change the local
// authorizer; everything else follows from the stack.
var authorizerTunables = []string{
	"SHORTFUSE_AUTHORIZER_MODE", "SHORTFUSE_AUTHORIZER_SHAPE", "SHORTFUSE_ROUTES", "SHORTFUSE_DIRECT_MAX_AGE",
	"SHORTFUSE_REVOCATION_POLL", "SHORTFUSE_REVOCATION_GRACE", "SHORTFUSE_REVOCATION_STRICT", "SHORTFUSE_TOKEN_CACHE_SIZE",
	"SHORTFUSE_DPOP_MAX_AGE", "SHORTFUSE_DPOP_REPLAY_CACHE", "SHORTFUSE_GATEWAY_CACHE_TTL",
}

func dynamoClient(env Env) *dynamodb.Client {
	return dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(env.DynamoEndpoint) })
}

// createAuthorizerTable makes sure the revocation log's table exists before
// the authorizer loads it.
func createAuthorizerTable(ctx context.Context, env Env) error {
	return store.CreateTable(ctx, dynamoClient(env), env.Table)
}

// authorizerVars is the authorizer's configuration on the stack: exchange
// mode against the local token service, or direct mode against
// cognito-local.
func authorizerVars(env Env) map[string]string {
	vars := map[string]string{
		"SHORTFUSE_AUTHORIZER_MODE":  authorizer.ModeExchange,
		"SHORTFUSE_AUTHORIZER_SHAPE": string(authorizer.ShapeRESTToken),
		"SHORTFUSE_ROUTES":           demoRoutes,
		"SHORTFUSE_TABLE":            env.Table,
		"SHORTFUSE_AWS_ENDPOINT":     env.DynamoEndpoint,
		"SHORTFUSE_CLIENTS":          env.ClientID,
	}
	if env.APIGatewayURL != "" {
		// Clients address the local gateway without the stage in the
		// path, as behind a custom domain: DPoP proofs name this URL.
		vars["SHORTFUSE_PUBLIC_BASE_URL"] = env.APIGatewayURL
	}
	for _, k := range authorizerTunables {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	if vars["SHORTFUSE_AUTHORIZER_MODE"] == authorizer.ModeDirect {
		vars["SHORTFUSE_COGNITO_ISSUER"] = env.Issuer
		vars["SHORTFUSE_COGNITO_JWKS_URL"] = env.JWKSURL
	} else {
		vars["SHORTFUSE_ISSUER"] = env.TokenServiceURL
		vars["SHORTFUSE_AUDIENCE"] = env.TokenServiceURL
		vars["SHORTFUSE_JWKS_URL"] = env.TokenServiceURL + "/.well-known/jwks.json"
	}
	return vars
}

// newAuthorizer builds the authorizer function. The token service is not
// listening yet, so its JWK Set is fetched on the first request.
func newAuthorizer(ctx context.Context, env Env) (lambda.Handler, error) {
	cfg, err := authorizer.LoadConfig(sfconfig.FromMap(authorizerVars(env)))
	if err != nil {
		return nil, err
	}
	a, err := authorizer.Open(ctx, cfg, authorizer.Deps{
		DynamoDB:   dynamoClient(env),
		NoPrefetch: true,
		Logger:     obs.NewLogger(os.Stderr, os.Getenv("SHORTFUSE_LOG_LEVEL")).With("component", "authorizer"),
	})
	if err != nil {
		return nil, err
	}
	return a.Handler(cfg.Shape)
}

// newGateway serves the local API Gateway stand-in in front of the demo
// backend. SHORTFUSE_GATEWAY_CACHE_TTL (seconds) turns on its emulation of
// API Gateway's authorizer cache.
func newGateway(ctx context.Context, env Env) (http.Handler, error) {
	e := sfconfig.FromOS()
	ttl := e.Duration("SHORTFUSE_GATEWAY_CACHE_TTL", 0, 0, time.Hour)
	if err := e.Err(); err != nil {
		return nil, err
	}
	return devgateway.New(devgateway.Options{
		InvokeURL: env.LambdaInvokeURL,
		AWS:       env.AWS,
		Function:  "authorizer",
		Shape:     authorizerVars(env)["SHORTFUSE_AUTHORIZER_SHAPE"],
		Region:    env.Region,
		CacheTTL:  ttl,
		Logger:    obs.NewLogger(os.Stderr, os.Getenv("SHORTFUSE_LOG_LEVEL")).With("component", "gateway"),
	})
}

func gatewayWalkthrough(env Env) Section {
	gw, ts := env.APIGatewayURL, env.TokenServiceURL
	return Section{
		Title: "API gateway + authorizer (a call, a revocation, the call refused)",
		Commands: strings.Join([]string{
			"# Exchange the Cognito ID token (from the sign-in step) for a session of your own:",
			fmt.Sprintf(`GW=$(curl -sS %s/token -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \`, ts),
			`  -d subject_token_type=urn:ietf:params:oauth:token-type:id_token --data-urlencode "subject_token=$ID_TOKEN" -d scope=read)`,
			`export GW_ACCESS=$(node -p 'JSON.parse(process.argv[1]).access_token' "$GW")`,
			`export GW_REFRESH=$(node -p 'JSON.parse(process.argv[1]).refresh_token' "$GW")`,
			"# 1. The call succeeds; /hello echoes the context the authorizer passed on:",
			fmt.Sprintf(`curl -sS -i -w '\n' %s/hello -H "Authorization: Bearer $GW_ACCESS"`, gw),
			"# A route the token may not call (needs the shortfuse-admin group) is refused with 403,",
			"# and a call without a token with 401:",
			fmt.Sprintf(`curl -sS -i -w '\n' %s/admin/users -H "Authorization: Bearer $GW_ACCESS"`, gw),
			fmt.Sprintf(`curl -sS -i -w '\n' %s/hello`, gw),
			"# 2. Revoke the session (sign out, RFC 7009):",
			fmt.Sprintf(`curl -sS -i %s/revoke --data-urlencode "token=$GW_REFRESH"`, ts),
			"# 3. Within one revocation poll (1 s) the same call is refused with 401:",
			fmt.Sprintf(`sleep 1.5; curl -sS -i -w '\n' %s/hello -H "Authorization: Bearer $GW_ACCESS"`, gw),
			"# The authorizer itself, through the Lambda Invoke API, with a REST TOKEN event:",
			fmt.Sprintf(`curl -sS -w '\n' %s/2015-03-31/functions/authorizer/invocations \`, env.LambdaInvokeURL),
			`  -d '{"type":"TOKEN","authorizationToken":"Bearer '"$GW_ACCESS"'","methodArn":"arn:aws:execute-api:` + env.Region + `:000000000000:devapi/dev/GET/hello"}'`,
		}, "\n"),
	}
}
