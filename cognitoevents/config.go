package cognitoevents

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

// Config is the function's configuration, read once at init.
type Config struct {
	Table      string // SHORTFUSE_TABLE: the token service's table
	UserPoolID string // SHORTFUSE_COGNITO_USER_POOL_ID: the only pool whose calls count
	// Revocation is how long revocations last, read as every revocation
	// writer reads it (revoke.LoadPolicy).
	Revocation revoke.Policy
	// RevocationLayout is where log entries are written
	// (SHORTFUSE_REVOCATION_REPLICAS, SHORTFUSE_REVOCATION_SHARDS, as the
	// token service's and the authorizer's).
	RevocationLayout store.RevocationLayout

	DynamoDBEndpoint string // SHORTFUSE_DYNAMODB_ENDPOINT (local stack)
	CognitoEndpoint  string // SHORTFUSE_COGNITO_ENDPOINT (local stack)
}

// LoadConfig reads the configuration and reports every problem at once,
// each naming its variable.
func LoadConfig(env *config.Env) (Config, error) {
	var c Config
	c.Table = env.Required("SHORTFUSE_TABLE")
	c.UserPoolID = env.Required("SHORTFUSE_COGNITO_USER_POOL_ID")
	if c.UserPoolID != "" && !plain(c.UserPoolID, 55) {
		env.Fail("SHORTFUSE_COGNITO_USER_POOL_ID", "%q is not a user pool id", c.UserPoolID)
	}
	c.Revocation = revoke.LoadPolicy(env)
	c.RevocationLayout = store.RevocationLayoutFromEnv(env)
	c.DynamoDBEndpoint = env.URL("SHORTFUSE_DYNAMODB_ENDPOINT", "")
	c.CognitoEndpoint = env.URL("SHORTFUSE_COGNITO_ENDPOINT", "")
	return c, env.Err()
}

// FromEnv reads the configuration and builds the handler with real AWS
// clients; each call is bounded by awsx.CallTimeout.
func FromEnv(ctx context.Context, env *config.Env, log *slog.Logger) (*Handler, error) {
	cfg, err := LoadConfig(env)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsx.Load(ctx, awsx.Options{Endpoint: cfg.DynamoDBEndpoint})
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(awsCfg)
	cog := cip.NewFromConfig(awsCfg, func(o *cip.Options) {
		if cfg.CognitoEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.CognitoEndpoint)
		}
	})
	return New(cfg, store.New(db, cfg.Table, store.WithTimeout(awsx.CallTimeout),
		store.WithRevocationLayout(cfg.RevocationLayout)), cog, log)
}
