package authorizer

import (
	"context"

	"github.com/shortfuse/shortfuse/shared/function"
)

// Function is the authorizer's constructor (see package function): it reads
// the configuration, opens the authorizer and returns the handler of the
// configured event shape.
func Function(ctx context.Context, in function.Input) (function.Handler, error) {
	return FunctionWith(Deps{})(ctx, in)
}

// FunctionWith is Function with some collaborators given instead of built
// (the local stack passes its DynamoDB client and fetches the JWK Set on
// first use). Logger and Metrics default to the Input's.
func FunctionWith(deps Deps) function.Constructor {
	return func(ctx context.Context, in function.Input) (function.Handler, error) {
		cfg, err := LoadConfig(in.Env)
		if err != nil {
			return nil, err
		}
		if deps.Logger == nil {
			deps.Logger = in.Log
		}
		if deps.Metrics == nil {
			deps.Metrics = in.Metrics
		}
		a, err := Open(ctx, cfg, deps)
		if err != nil {
			return nil, err
		}
		return a.Handler(cfg.Shape)
	}
}
