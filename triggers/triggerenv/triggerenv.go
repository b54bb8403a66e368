// Package triggerenv reads the settings every trigger shares and builds its
// AWS clients once, at init, the same way in AWS and in the local stack.
//
// Cognito gives a trigger 5 seconds. Each handler runs under Budget, and
// each DynamoDB call under StoreTimeout, so that even a call that has to be
// retried leaves time for a clear error instead of a Cognito timeout.
package triggerenv

import (
	"bytes"
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/store"
)

// Common holds the settings shared by the triggers.
type Common struct {
	Table            string        // SHORTFUSE_TABLE (required)
	Endpoint         string        // SHORTFUSE_AWS_ENDPOINT: every AWS call goes there (local stack); "" in AWS
	DynamoDBEndpoint string        // SHORTFUSE_DYNAMODB_ENDPOINT: overrides Endpoint for DynamoDB
	SESEndpoint      string        // SHORTFUSE_SES_ENDPOINT: overrides Endpoint for SES
	Region           string        // SHORTFUSE_AWS_REGION: "" uses the SDK's default chain (AWS_REGION)
	Budget           time.Duration // SHORTFUSE_TRIGGER_TIMEOUT: deadline of one invocation (default 4s)
	StoreTimeout     time.Duration // SHORTFUSE_DYNAMODB_TIMEOUT: deadline of one DynamoDB call (default 1s)
	LogLevel         string        // SHORTFUSE_LOG_LEVEL
}

// Defaults, well inside Cognito's 5 s.
const (
	DefaultBudget       = 4 * time.Second
	MaxBudget           = 4500 * time.Millisecond
	DefaultStoreTimeout = time.Second
)

// LoadCommon reads the shared settings; problems are recorded in env.
func LoadCommon(env *config.Env) Common {
	c := Common{
		Table:        env.Required("SHORTFUSE_TABLE"),
		Endpoint:     env.URL("SHORTFUSE_AWS_ENDPOINT", ""),
		Region:       env.String("SHORTFUSE_AWS_REGION", ""),
		Budget:       env.Duration("SHORTFUSE_TRIGGER_TIMEOUT", DefaultBudget, 500*time.Millisecond, MaxBudget),
		StoreTimeout: env.Duration("SHORTFUSE_DYNAMODB_TIMEOUT", DefaultStoreTimeout, 100*time.Millisecond, 3*time.Second),
		LogLevel:     env.String("SHORTFUSE_LOG_LEVEL", "info"),
	}
	c.DynamoDBEndpoint = env.URL("SHORTFUSE_DYNAMODB_ENDPOINT", c.Endpoint)
	c.SESEndpoint = env.URL("SHORTFUSE_SES_ENDPOINT", c.Endpoint)
	if c.StoreTimeout >= c.Budget {
		env.Fail("SHORTFUSE_DYNAMODB_TIMEOUT", "%s must be shorter than SHORTFUSE_TRIGGER_TIMEOUT (%s)", c.StoreTimeout, c.Budget)
	}
	return c
}

// AWS loads the AWS configuration. With an endpoint override it uses the
// static credentials the emulators accept.
func (c Common) AWS(ctx context.Context) (aws.Config, error) {
	ep := c.Endpoint
	if ep == "" {
		ep = c.DynamoDBEndpoint
	}
	if ep == "" {
		ep = c.SESEndpoint
	}
	return awsx.Load(ctx, awsx.Options{Region: c.Region, Endpoint: ep, MaxAttempts: 3})
}

// Store returns the DynamoDB store.
func (c Common) Store(cfg aws.Config) *store.Store {
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if c.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(c.DynamoDBEndpoint)
		}
	})
	return store.New(client, c.Table, store.WithTimeout(c.StoreTimeout))
}

// SES returns the SES v2 client.
func (c Common) SES(cfg aws.Config) *sesv2.Client {
	return sesv2.NewFromConfig(cfg, func(o *sesv2.Options) {
		if c.SESEndpoint != "" {
			o.BaseEndpoint = aws.String(c.SESEndpoint)
		}
	})
}

// ConcurrentHandler wraps a typed handler function (anything
// lambda.NewHandler accepts) as a lambda.Handler that may be invoked
// concurrently. The Lambda runtime invokes a function instance one event at
// a time, and lambda.NewHandler's handlers rely on it: they reuse one output
// buffer. Hosts that serve many invocations at once (the local stack's
// Lambda host, test drivers) give each invocation its own handler instead,
// as Lambda gives each its own instance.
func ConcurrentHandler(fn any) lambda.Handler {
	return concurrent{fn}
}

type concurrent struct{ fn any }

func (c concurrent) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := lambda.NewHandler(c.fn).Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(out), nil
}
