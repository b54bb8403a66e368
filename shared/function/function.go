// Package function starts a shortfuse Lambda function, the same way for
// every function: each cmd/<function>/main.go is one call to Run with the
// function's constructor, and the local stack and the tests build the same
// handler through New.
//
// Start-up reads the common settings (config.Common: log level, region,
// endpoints) once, builds the logger from them, then calls the
// constructor, which reads the function's own settings from the same Env,
// builds its clients and returns the handler. Every configuration problem
// of one cold start is reported together, each naming its variable; any
// error is logged (key "error") and the process exits with status 1, so
// Lambda reports a failed init instead of running half-configured.
package function

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/obs"
)

// Handler is a Lambda handler: a function of a shape lambda.Start accepts
// (func(context.Context, Event) (Response, error), say) or a
// lambda.Handler.
type Handler = any

// Input is what a constructor is given.
type Input struct {
	// Name is the function's name ("tokensvc"), its metrics' Function
	// dimension.
	Name string
	// Env holds the settings. The constructor reads all of its own from it,
	// and returns Env.Err() before any I/O, so that one cold start lists
	// every problem; Env.Common() is already read.
	Env *config.Env
	// Log is the function's logger, at SHORTFUSE_LOG_LEVEL.
	Log *slog.Logger
	// Metrics counts events as EMF records; nil counts nothing.
	Metrics *obs.Counter
}

// Constructor reads a function's configuration from in.Env and returns its
// handler. It is called once, at init.
type Constructor func(ctx context.Context, in Input) (Handler, error)

// Server is implemented by a handler that can also be served as a plain
// HTTP server outside Lambda. It is an interface, not an *http.Server, so
// that the functions that never serve HTTP do not carry a server.
type Server interface {
	// ListenAddr is the address to listen on; "" runs in Lambda.
	ListenAddr() string
	// ListenAndServe serves until the server fails.
	ListenAndServe() error
}

// Options say where New writes.
type Options struct {
	// Log receives the JSON log lines (default os.Stdout, as in Lambda).
	Log io.Writer
	// Metrics receives EMF records; nil records none.
	Metrics io.Writer
	// Component adds the attribute component=<name> to every log line, for
	// hosts that run several functions in one log (the local stack).
	Component bool
}

// New reads the common settings from env, makes the logger and calls
// build: Run's start-up without the exit. It returns the logger too, for
// the caller to report an error with.
func New(ctx context.Context, name string, env *config.Env, o Options, build Constructor) (Handler, *slog.Logger, error) {
	if o.Log == nil {
		o.Log = os.Stdout
	}
	log := obs.New(o.Log, env.Common().LogLevel)
	if o.Component {
		log = log.With("component", name)
	}
	in := Input{Name: name, Env: env, Log: log}
	if o.Metrics != nil {
		in.Metrics = obs.NewCounter(o.Metrics, name)
	}
	h, err := build(ctx, in)
	if err == nil {
		// A constructor that forgot to check still does not start with a
		// bad setting.
		err = env.Err()
	}
	if err == nil && h == nil {
		err = errors.New("no handler")
	}
	if err != nil {
		return nil, log, err
	}
	return h, log, nil
}

// Run starts the named function from the process environment and hands
// its handler to the Lambda runtime; it does not return. Outside Lambda
// (no AWS_LAMBDA_RUNTIME_API), a handler that is a Server with an address
// is served as a plain HTTP server instead.
func Run(name string, build Constructor) {
	h, log, err := New(context.Background(), name, config.FromOS(), Options{Metrics: os.Stdout}, build)
	if err != nil {
		log.Error("start-up failed", "function", name, "error", err.Error())
		os.Exit(1)
	}
	if s, ok := h.(Server); ok && s.ListenAddr() != "" && os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		log.Info("listening", "function", name, "addr", s.ListenAddr())
		if err := s.ListenAndServe(); err != nil {
			log.Error("server failed", "function", name, "error", err.Error())
			os.Exit(1)
		}
		return
	}
	lambda.Start(h)
}
