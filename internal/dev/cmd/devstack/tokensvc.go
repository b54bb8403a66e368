package main

import (
	"context"
	"net/http"
	"os"

	sfconfig "github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/tokensvc"
)

// tokenServiceTunables may be set in the environment to change the local
// token service; everything else follows from the stack.
var tokenServiceTunables = []string{
	"SHORTFUSE_ACCESS_TOKEN_TTL", "SHORTFUSE_CLIENTS", "SHORTFUSE_SESSION_IDLE_TTL", "SHORTFUSE_SESSION_MAX_TTL",
	"SHORTFUSE_SIGNING_KEY", "SHORTFUSE_SIGNING_KID", "SHORTFUSE_ADMIN_GROUP", "SHORTFUSE_REVOCATION_RETENTION",
	"SHORTFUSE_MAX_BODY_BYTES", "SHORTFUSE_SCOPES", "SHORTFUSE_LEEWAY", "SHORTFUSE_REFRESH_GRACE", "SHORTFUSE_ALLOW_ID_TOKEN_REUSE",
	"SHORTFUSE_MAX_SESSIONS_PER_USER", "SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY",
	"SHORTFUSE_AUTHORIZER_MODE", "SHORTFUSE_DIRECT_MAX_AGE", "SHORTFUSE_DIRECT_FAMILY_LIMIT",
}

// tokenServiceVars is the token service's configuration on the stack.
func tokenServiceVars(env Env) map[string]string {
	vars := map[string]string{
		"SHORTFUSE_TABLE":            env.Table,
		"SHORTFUSE_AWS_ENDPOINT":     env.DynamoEndpoint,
		"SHORTFUSE_ISSUER":           env.TokenServiceURL,
		"SHORTFUSE_COGNITO_ISSUER":   env.Issuer,
		"SHORTFUSE_COGNITO_JWKS_URL": env.JWKSURL,
		"SHORTFUSE_CLIENTS":          env.ClientID,
		"SHORTFUSE_SCOPES":           "read,write",
		// Replaced by a key generated for the run (newTokenService) unless
		// the environment names one.
		"SHORTFUSE_SIGNING_KEY": "generated",
		// cognito-local has no AdminUserGlobalSignOut: no user pool, so no
		// Cognito client is wired and ?global_signout=true answers
		// invalid_request.
		"SHORTFUSE_ADMIN_GLOBAL_SIGNOUT": "false",
	}
	for _, k := range tokenServiceTunables {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	return vars
}

// tokenServiceConfig is the token service's configuration on the stack.
func tokenServiceConfig(env Env) (tokensvc.Config, error) {
	return tokensvc.LoadConfig(sfconfig.FromMap(tokenServiceVars(env)))
}

// newTokenService builds the token service against the stack's emulators
// with its production constructor (tokensvc.Open); the gateway serves it,
// so its issuer is the gateway's URL, as in the template, and CORS is the
// gateway's job, as deployed. Without SHORTFUSE_SIGNING_KEY it signs with a
// fresh ES256 key, so tokens from an earlier run of the stack no longer
// verify. The table exists already (createAuthorizerTable).
func newTokenService(ctx context.Context, env Env) (http.Handler, error) {
	vars := tokenServiceVars(env)
	deps := tokensvc.Deps{RequireCognitoKeys: true}
	if vars["SHORTFUSE_SIGNING_KEY"] == "generated" {
		k, err := keys.Generate(keys.ES256)
		if err != nil {
			return nil, err
		}
		if deps.Keys, err = keys.NewSet("", k); err != nil {
			return nil, err
		}
	}
	var svc *tokensvc.Service
	_, err := construct(ctx, "tokensvc", vars, func(ctx context.Context, in function.Input) (function.Handler, error) {
		s, _, err := tokensvc.Open(ctx, in, deps)
		svc = s
		return s, err
	})
	if err != nil {
		return nil, err
	}
	return svc, nil
}
