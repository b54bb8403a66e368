package custommessage

import (
	"context"
	"log/slog"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/triggers/domains"
	"github.com/shortfuse/shortfuse/triggers/templates"
)

// FromEnv reads the template settings from env and loads and checks the
// templates, once, at init: a template that breaks Cognito's rules is an
// error here, not when a message is due.
func FromEnv(env *config.Env, log *slog.Logger) (*Handler, error) {
	tc := templates.LoadConfig(env)
	p := Policy{Domains: domains.LoadPolicy(env), UnverifiedName: templates.LoadNameMode(env)}
	if err := env.Err(); err != nil {
		return nil, err
	}
	set, err := tc.Load()
	if err != nil {
		return nil, err
	}
	return NewWithPolicy(set, tc.AppName, p, log), nil
}

// Function is the CustomMessage trigger's constructor (see package function).
func Function(_ context.Context, in function.Input) (function.Handler, error) {
	h, err := FromEnv(in.Env, in.Log)
	if err != nil {
		return nil, err
	}
	return h.Handle, nil
}
