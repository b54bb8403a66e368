// Package triggerenv reads the settings the Cognito triggers share, on top of
// every function's (config.Common), and builds their AWS clients once, at
// init, the same way in AWS and in the local stack.
//
// Cognito gives a trigger 5 seconds. Each handler runs under Budget, and
// each DynamoDB call under StoreTimeout, so that even a call that has to be
// retried leaves time for a clear error instead of a Cognito timeout.
package triggerenv

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/store"
)

// Settings are the settings the triggers share.
type Settings struct {
	// Common are the settings of every function: log level, region and the
	// endpoint overrides of the local stack (SHORTFUSE_AWS_ENDPOINT,
	// SHORTFUSE_DYNAMODB_ENDPOINT, SHORTFUSE_SES_ENDPOINT).
	config.Common
	Table        string        // SHORTFUSE_TABLE (required)
	Budget       time.Duration // SHORTFUSE_TRIGGER_TIMEOUT: deadline of one invocation (default 4s)
	StoreTimeout time.Duration // SHORTFUSE_DYNAMODB_TIMEOUT: deadline of one DynamoDB call (default 1s)
}

// Defaults, well inside Cognito's 5 s.
const (
	DefaultBudget       = 4 * time.Second
	MaxBudget           = 4500 * time.Millisecond
	DefaultStoreTimeout = time.Second
)

// Load reads the shared settings; problems are recorded in env.
func Load(env *config.Env) Settings {
	s := Settings{
		Common:       env.Common(),
		Table:        env.Table(),
		Budget:       env.Duration("SHORTFUSE_TRIGGER_TIMEOUT", DefaultBudget, 500*time.Millisecond, MaxBudget),
		StoreTimeout: env.Duration("SHORTFUSE_DYNAMODB_TIMEOUT", DefaultStoreTimeout, 100*time.Millisecond, 3*time.Second),
	}
	if s.StoreTimeout >= s.Budget {
		env.Fail("SHORTFUSE_DYNAMODB_TIMEOUT", "%s must be shorter than SHORTFUSE_TRIGGER_TIMEOUT (%s)", s.StoreTimeout, s.Budget)
	}
	return s
}

// AWS loads the AWS configuration (awsx.ForFunction).
func (s Settings) AWS(ctx context.Context) (aws.Config, error) {
	return awsx.ForFunction(ctx, s.Common)
}

// Store returns the DynamoDB store, each call bounded by StoreTimeout.
func (s Settings) Store(cfg aws.Config) *store.Store {
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if ep := awsx.BaseEndpoint(s.DynamoDBEndpoint); ep != nil {
			o.BaseEndpoint = ep
		}
	})
	return store.New(client, s.Table, store.WithTimeout(s.StoreTimeout))
}

// SES returns the SES v2 client.
func (s Settings) SES(cfg aws.Config) *sesv2.Client {
	return sesv2.NewFromConfig(cfg, func(o *sesv2.Options) {
		if ep := awsx.BaseEndpoint(s.SESEndpoint); ep != nil {
			o.BaseEndpoint = ep
		}
	})
}
