package cognitoevents

import (
	"context"
	"log/slog"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/function"
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

	// Common are the settings every function shares (log level, region,
	// endpoints; SHORTFUSE_DYNAMODB_ENDPOINT and SHORTFUSE_COGNITO_ENDPOINT
	// in the local stack).
	Common config.Common
}

// LoadConfig reads the configuration and reports every problem at once,
// each naming its variable.
func LoadConfig(env *config.Env) (Config, error) {
	var c Config
	c.Common = env.Common()
	c.Table = env.Table()
	c.UserPoolID = env.Required("SHORTFUSE_COGNITO_USER_POOL_ID")
	if c.UserPoolID != "" && !plain(c.UserPoolID, 55) {
		env.Fail("SHORTFUSE_COGNITO_USER_POOL_ID", "%q is not a user pool id", c.UserPoolID)
	}
	c.Revocation = revoke.LoadPolicy(env)
	c.RevocationLayout = store.RevocationLayoutFromEnv(env)
	return c, env.Err()
}

// InitTimeout bounds the start-up.
const InitTimeout = 10 * time.Second

// Function is the function's constructor (see package function).
func Function(ctx context.Context, in function.Input) (function.Handler, error) {
	h, err := FromEnv(ctx, in.Env, in.Log)
	if err != nil {
		return nil, err
	}
	return h.Handle, nil
}

// FromEnv reads the configuration and builds the handler with real AWS
// clients; each call is bounded by awsx.CallTimeout.
func FromEnv(ctx context.Context, env *config.Env, log *slog.Logger) (*Handler, error) {
	cfg, err := LoadConfig(env)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, InitTimeout)
	defer cancel()
	awsCfg, err := awsx.ForFunction(ctx, cfg.Common)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if ep := awsx.BaseEndpoint(cfg.Common.DynamoDBEndpoint); ep != nil {
			o.BaseEndpoint = ep
		}
	})
	cog := cip.NewFromConfig(awsCfg, func(o *cip.Options) {
		if ep := awsx.BaseEndpoint(cfg.Common.CognitoEndpoint); ep != nil {
			o.BaseEndpoint = ep
		}
	})
	return New(cfg, store.New(db, cfg.Table, store.WithTimeout(awsx.CallTimeout),
		store.WithRevocationLayout(cfg.RevocationLayout)), cog, log)
}
