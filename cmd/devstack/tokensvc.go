package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	sfconfig "github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/tokensvc"
)

func init() {
	services = append(services, Service{
		Name:        "tokensvc",
		Port:        8080,
		New:         newTokenService,
		Walkthrough: tokenServiceWalkthrough,
	})
}

// tokenServiceTunables may be set in the environment to change the local
// token service; everything else follows from the stack.
var tokenServiceTunables = []string{
	"SHORTFUSE_ACCESS_TOKEN_TTL", "SHORTFUSE_CLIENTS", "SHORTFUSE_SESSION_IDLE_TTL", "SHORTFUSE_SESSION_MAX_TTL",
	"SHORTFUSE_SIGNING_KEY", "SHORTFUSE_SIGNING_KID", "SHORTFUSE_ADMIN_GROUP", "SHORTFUSE_REVOCATION_RETENTION",
	"SHORTFUSE_MAX_BODY_BYTES", "SHORTFUSE_SCOPES", "SHORTFUSE_LEEWAY", "SHORTFUSE_ALLOW_ID_TOKEN_REUSE",
	"SHORTFUSE_MAX_SESSIONS_PER_USER", "SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY",
	"SHORTFUSE_AUTHORIZER_MODE", "SHORTFUSE_DIRECT_MAX_AGE",
}

// newTokenService serves the token service against the stack's emulators.
// Without SHORTFUSE_SIGNING_KEY it signs with a fresh ES256 key, so tokens
// from an earlier run of the stack no longer verify.
func newTokenService(ctx context.Context, env Env) (http.Handler, error) {
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
	cfg, err := tokensvc.LoadConfig(sfconfig.FromMap(vars))
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
	return tokensvc.New(cfg, store.New(db, cfg.Table), ks,
		tokensvc.WithCognitoKeys(cognitoKeys),
		tokensvc.WithLogger(obs.NewLogger(os.Stderr, os.Getenv("SHORTFUSE_LOG_LEVEL"))))
}

func tokenServiceWalkthrough(env Env) Section {
	u := env.TokenServiceURL
	field := func(name, src string) string {
		return fmt.Sprintf(`export %s=$(node -p 'JSON.parse(process.argv[1]).%s' "$%s")`, strings.ToUpper(name), name, src)
	}
	return Section{
		Title: "Token service (exchange, refresh, sessions, revoke)",
		Commands: strings.Join([]string{
			"# Exchange the Cognito ID token (from step 1) for a session (RFC 8693):",
			fmt.Sprintf(`TOKENS=$(curl -sS %s/token -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \`, u),
			`  -d subject_token_type=urn:ietf:params:oauth:token-type:id_token --data-urlencode "subject_token=$ID_TOKEN" -d scope=read); echo "$TOKENS"`,
			field("access_token", "TOKENS"),
			field("refresh_token", "TOKENS"),
			"# Refresh: the refresh token rotates; using the old one again revokes the session.",
			fmt.Sprintf(`TOKENS=$(curl -sS %s/token -d grant_type=refresh_token --data-urlencode "refresh_token=$REFRESH_TOKEN"); echo "$TOKENS"`, u),
			field("access_token", "TOKENS"),
			field("refresh_token", "TOKENS"),
			"# Your sessions:",
			fmt.Sprintf(`curl -sS -w '\n' %s/sessions -H "Authorization: Bearer $ACCESS_TOKEN"`, u),
			"# Sign out (RFC 7009); the access token stops working here at once:",
			fmt.Sprintf(`curl -sS -i %s/revoke --data-urlencode "token=$REFRESH_TOKEN"`, u),
			fmt.Sprintf(`curl -sS -w '\n' %s/sessions -H "Authorization: Bearer $ACCESS_TOKEN"`, u),
			"# Keys and metadata:",
			fmt.Sprintf(`curl -sS -w '\n' %s/.well-known/jwks.json`, u),
			fmt.Sprintf(`curl -sS -w '\n' %s/.well-known/oauth-authorization-server`, u),
			"# Admin endpoints need a token whose groups include shortfuse-admin: add the user to that",
			"# group in cognito-local (CreateGroup, AdminAddUserToGroup), sign in and exchange again, then e.g.",
			fmt.Sprintf(`# curl -sS %s/introspect -H "Authorization: Bearer $ACCESS_TOKEN" --data-urlencode "token=$ACCESS_TOKEN"`, u),
			fmt.Sprintf("# The CLI works on the same table: go run ./cmd/shortfuse sessions list --endpoint %s --table %s --user <sub>", env.DynamoEndpoint, env.Table),
		}, "\n"),
	}
}
