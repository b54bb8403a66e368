package presignup

import (
	"context"
	"log/slog"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/triggers/triggerenv"
)

// FromEnv reads the configuration from env and builds the handler with its
// DynamoDB store, once, at init. The error lists every configuration problem.
func FromEnv(ctx context.Context, env *config.Env, log *slog.Logger) (*Handler, error) {
	common := triggerenv.Load(env)
	cfg := LoadConfig(env)
	if err := env.Err(); err != nil {
		return nil, err
	}
	awsCfg, err := common.AWS(ctx)
	if err != nil {
		return nil, err
	}
	return New(cfg, common.Store(awsCfg), common.Budget, log), nil
}

// Function is the PreSignUp trigger's constructor (see package function).
func Function(ctx context.Context, in function.Input) (function.Handler, error) {
	h, err := FromEnv(ctx, in.Env, in.Log)
	if err != nil {
		return nil, err
	}
	return h.Handle, nil
}
