package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/internal/dev/lambdahost"
	sfconfig "github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/function"
)

// Function is a Lambda function served by the dev Lambda host.
type Function struct {
	// Name is the function name in the Invoke path and in cognito-local's
	// TriggerFunctions, e.g. "presignup".
	Name string
	// Triggers lists the cognito-local triggers pointed at this function,
	// e.g. "PreSignUp" (see testenv.CognitoTriggers); empty if none.
	Triggers []string
	// Example is an event the function answers without error, shown in the
	// walkthrough; empty if none.
	Example string
	// New builds the handler once the stack's endpoints are known; wrap typed
	// handlers with lambda.NewHandler.
	New func(ctx context.Context, env Env) (lambda.Handler, error)
}

// functions are the project's Lambda functions run by the dev stack.
var functions = []Function{}

// construct builds a function through its production constructor, as
// function.Run does in Lambda, from the settings in vars: its log on
// standard error tagged with the function's name, at SHORTFUSE_LOG_LEVEL
// from the environment unless vars sets one; no metrics.
func construct(ctx context.Context, name string, vars map[string]string, build function.Constructor) (function.Handler, error) {
	if _, set := vars[sfconfig.VarLogLevel]; !set {
		if v, ok := os.LookupEnv(sfconfig.VarLogLevel); ok {
			vars[sfconfig.VarLogLevel] = v
		}
	}
	h, _, err := function.New(ctx, name, sfconfig.FromMap(vars), function.Options{Log: os.Stderr, Component: true}, build)
	return h, err
}

// lambdaFunction builds a function served by the Lambda host. The host
// invokes a function concurrently, where Lambda gives each invocation its
// own instance, so each invocation gets its own handler wrapper.
func lambdaFunction(ctx context.Context, name string, vars map[string]string, build function.Constructor) (lambda.Handler, error) {
	h, err := construct(ctx, name, vars, build)
	if err != nil {
		return nil, err
	}
	return lambdahost.ConcurrentHandler(h), nil
}
