package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/internal/dev/devgateway"
	sfconfig "github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/cors"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
)

// The local API has the deployed shape (template.yaml): one gateway in
// front of the token service, its public routes open, its bearer routes
// (/sessions, /introspect, /admin/*, /userinfo) behind the authorizer, in
// the template's http-simple shape, with the template's route table.
func init() {
	setups = append(setups, createAuthorizerTable)
	functions = append(functions, Function{Name: "authorizer", New: newAuthorizer})
	services = append(services, Service{
		Name:        "gateway",
		Port:        8090,
		New:         newGateway,
		Walkthrough: apiWalkthrough,
	})
}

// publicRoutes are the template's routes with AuthorizationType NONE.
var publicRoutes = []string{
	"POST /token", "POST /revoke", "GET /.well-known/jwks.json", "GET /.well-known/oauth-authorization-server",
}

// templateRoutes is the template's SHORTFUSE_ROUTES: any valid token may
// call a protected route; admin routes and introspection need the admin
// group.
func templateRoutes(adminGroup string) string {
	return fmt.Sprintf(`[{"route":"ANY /*"},{"route":"ANY /admin/*","groups":[%q]},{"route":"POST /introspect","groups":[%q]}]`,
		adminGroup, adminGroup)
}

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
		"SHORTFUSE_AUTHORIZER_SHAPE": string(authorizer.ShapeHTTPSimple),
		"SHORTFUSE_ROUTES":           templateRoutes(adminGroup()),
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

// adminGroup is the token service's admin group, which the route table
// requires too.
func adminGroup() string {
	if g := os.Getenv("SHORTFUSE_ADMIN_GROUP"); g != "" {
		return g
	}
	return "shortfuse-admin"
}

// newAuthorizer builds the authorizer function. The token service is not
// listening yet, so its JWK Set is fetched on the first request.
func newAuthorizer(ctx context.Context, env Env) (lambda.Handler, error) {
	return lambdaFunction(ctx, "authorizer", authorizerVars(env), authorizer.FunctionWith(authorizer.Deps{NoPrefetch: true}))
}

// gatewayCacheTTL is SHORTFUSE_GATEWAY_CACHE_TTL (seconds): the local
// gateway's emulation of API Gateway's authorizer cache, off by default.
func gatewayCacheTTL() (time.Duration, error) {
	e := sfconfig.FromOS()
	ttl := e.Duration("SHORTFUSE_GATEWAY_CACHE_TTL", 0, 0, time.Hour)
	return ttl, e.Err()
}

// corsOrigins is SHORTFUSE_CORS_ORIGINS plus the demo's origin.
func corsOrigins(env Env) ([]string, error) {
	list, err := cors.ParseOrigins(os.Getenv("SHORTFUSE_CORS_ORIGINS"))
	if err != nil {
		return nil, fmt.Errorf("SHORTFUSE_CORS_ORIGINS: %w", err)
	}
	if o := env.DemoOrigin(); o != "" {
		list = append(list, o)
	}
	return list, nil
}

// newGateway serves the API: the token service behind the local API
// Gateway stand-in, with CORS answered by the gateway as an HTTP API's
// CorsConfiguration does.
func newGateway(ctx context.Context, env Env) (http.Handler, error) {
	ttl, err := gatewayCacheTTL()
	if err != nil {
		return nil, err
	}
	origins, err := corsOrigins(env)
	if err != nil {
		return nil, err
	}
	policy, err := cors.New(origins)
	if err != nil {
		return nil, err
	}
	backend, err := newTokenService(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("token service: %w", err)
	}
	return devgateway.New(devgateway.Options{
		InvokeURL: env.LambdaInvokeURL,
		AWS:       env.AWS,
		Function:  "authorizer",
		Shape:     authorizerVars(env)["SHORTFUSE_AUTHORIZER_SHAPE"],
		Backend:   backend,
		Public:    publicRoutes,
		CORS:      policy,
		Region:    env.Region,
		CacheTTL:  ttl,
		Logger:    gatewayLog(),
	})
}

// gatewayLog is the gateway's log, at SHORTFUSE_LOG_LEVEL as the functions'.
func gatewayLog() *slog.Logger {
	return obs.New(os.Stderr, sfconfig.FromMap(map[string]string{
		sfconfig.VarLogLevel: os.Getenv(sfconfig.VarLogLevel),
	}).Common().LogLevel).With("component", "gateway")
}
