package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	sfconfig "github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/tokensvc"
)

// tokenServiceTunables may be set in the environment to change the local
// token service; everything else follows from the stack.
var tokenServiceTunables = []string{
	"SHORTFUSE_ACCESS_TOKEN_TTL", "SHORTFUSE_CLIENTS", "SHORTFUSE_SESSION_IDLE_TTL", "SHORTFUSE_SESSION_MAX_TTL",
	"SHORTFUSE_SIGNING_KEY", "SHORTFUSE_SIGNING_KID", "SHORTFUSE_ADMIN_GROUP", "SHORTFUSE_REVOCATION_RETENTION",
	"SHORTFUSE_MAX_BODY_BYTES", "SHORTFUSE_SCOPES", "SHORTFUSE_LEEWAY", "SHORTFUSE_REFRESH_GRACE", "SHORTFUSE_ALLOW_ID_TOKEN_REUSE",
	"SHORTFUSE_MAX_SESSIONS_PER_USER", "SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY",
	"SHORTFUSE_AUTHORIZER_MODE", "SHORTFUSE_DIRECT_MAX_AGE",
}

// tokenServiceConfig is the token service's configuration on the stack.
func tokenServiceConfig(env Env) (tokensvc.Config, error) {
	vars := map[string]string{
		"SHORTFUSE_TABLE":                env.Table,
		"SHORTFUSE_AWS_ENDPOINT":         env.DynamoEndpoint,
		"SHORTFUSE_ISSUER":               env.TokenServiceURL,
		"SHORTFUSE_COGNITO_ISSUER":       env.Issuer,
		"SHORTFUSE_COGNITO_JWKS_URL":     env.JWKSURL,
		"SHORTFUSE_COGNITO_USER_POOL_ID": env.UserPoolID,
		"SHORTFUSE_CLIENTS":              env.ClientID,
		"SHORTFUSE_SCOPES":               "read,write",
		"SHORTFUSE_SIGNING_KEY":          "generated",
		// cognito-local has no AdminUserGlobalSignOut (see below).
		"SHORTFUSE_ADMIN_GLOBAL_SIGNOUT": "false",
	}
	for _, k := range tokenServiceTunables {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	return tokensvc.LoadConfig(sfconfig.FromMap(vars))
}

// newTokenService builds the token service against the stack's emulators;
// the gateway serves it, so its issuer is the gateway's URL, as in the
// template, and CORS is the gateway's job, as deployed. Without
// SHORTFUSE_SIGNING_KEY it signs with a fresh ES256 key, so tokens from an
// earlier run of the stack no longer verify.
func newTokenService(ctx context.Context, env Env) (http.Handler, error) {
	cfg, err := tokenServiceConfig(env)
	if err != nil {
		return nil, err
	}
	var ks *keys.Set
	if cfg.SigningKey == "generated" {
		k, err := keys.Generate(keys.ES256)
		if err != nil {
			return nil, err
		}
		if ks, err = keys.NewSet("", k); err != nil {
			return nil, err
		}
	} else if ks, err = keys.Load(ctx, cfg.SigningKey, cfg.SigningKID, keys.Fetchers{}); err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(env.DynamoEndpoint) })
	if err := store.CreateTable(ctx, db, cfg.Table); err != nil {
		return nil, err
	}
	cognitoKeys := jwtverify.NewRemoteJWKS(cfg.CognitoJWKSURL, jwtverify.RemoteOptions{})
	if err := cognitoKeys.Prefetch(ctx); err != nil {
		return nil, fmt.Errorf("cognito-local JWKS: %w", err)
	}
	// cognito-local's AdminUserGlobalSignOut is missing, so global sign-out
	// is not wired here: ?global_signout=true answers invalid_request.
	return tokensvc.New(cfg, store.New(db, cfg.Table, store.WithRevocationLayout(cfg.RevocationLayout)), ks,
		tokensvc.WithCognitoKeys(cognitoKeys),
		tokensvc.WithLogger(obs.NewLogger(os.Stderr, os.Getenv("SHORTFUSE_LOG_LEVEL"))))
}
