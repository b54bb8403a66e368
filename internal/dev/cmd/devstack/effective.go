package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/internal/dev/devgateway"
	sfconfig "github.com/shortfuse/shortfuse/shared/config"
)

// effective is the configuration the stack actually runs with, after every
// override: the walkthrough states its expectations from it, so that they
// hold under each documented setting.
type effective struct {
	Mode       string
	Shape      string
	CacheTTL   time.Duration // the gateway's authorizer cache
	Poll       time.Duration // the authorizer's revocation poll
	Strict     bool
	MaxAge     time.Duration // direct mode: ID token age limit
	AdminGroup string
	Grace      time.Duration // refresh grace of the stack's app client
}

func effectiveConfig(env Env) (effective, error) {
	az, err := authorizer.LoadConfig(sfconfig.FromMap(authorizerVars(env)))
	if err != nil {
		return effective{}, fmt.Errorf("authorizer: %w", err)
	}
	ts, err := tokenServiceConfig(env)
	if err != nil {
		return effective{}, fmt.Errorf("token service: %w", err)
	}
	ttl, err := gatewayCacheTTL()
	if err != nil {
		return effective{}, err
	}
	return effective{
		Mode: az.Mode, Shape: string(az.Shape), CacheTTL: ttl, Poll: az.Poll, Strict: az.Strict, MaxAge: az.MaxAge,
		AdminGroup: ts.AdminGroup, Grace: ts.GraceFor(env.ClientID),
	}, nil
}

// BoundTokens reports whether the stack's gateway carries DPoP-bound tokens:
// the authorizer accepts them only in exchange mode, in a shape that sees
// the request, and while the gateway caches no answer (a cached allow would
// skip the proof).
func (e effective) BoundTokens() bool {
	return e.Mode == authorizer.ModeExchange && e.Shape != string(authorizer.ShapeRESTToken) && e.CacheTTL == 0
}

// RevocationBound is the longest a revoked token still passes the gateway:
// one poll (none in strict mode) plus the gateway's cache.
func (e effective) RevocationBound() time.Duration {
	if e.Strict {
		return e.CacheTTL
	}
	return e.Poll + e.CacheTTL
}

// sampleEvent is the authorizer event of the effective shape for a GET of
// path with a Bearer token held in shell variable tokenVar, ready to paste
// between single quotes.
func (e effective) sampleEvent(env Env, path, tokenVar string) (string, error) {
	g, err := devgateway.New(devgateway.Options{Invoker: noInvoker{}, Shape: e.Shape, Region: env.Region})
	if err != nil {
		return "", err
	}
	const mark = "TOKEN-PLACEHOLDER"
	b, err := g.SampleEvent("GET", path, "Bearer "+mark)
	if err != nil {
		return "", err
	}
	return replaceAll(string(b), mark, `'"$`+tokenVar+`"'`), nil
}

type noInvoker struct{}

func (noInvoker) Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	return nil, fmt.Errorf("not invoked")
}
