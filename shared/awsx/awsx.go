// Package awsx builds AWS SDK configuration the same way for AWS and for the
// local stack: the only difference is an endpoint override.
package awsx

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"

	"github.com/shortfuse/shortfuse/shared/config"
)

// CallTimeout is the default deadline for one AWS call, retries included.
// It is well inside Cognito's 5 s trigger budget and API Gateway's 29 s limit.
const CallTimeout = 2 * time.Second

// Options select where AWS calls go.
type Options struct {
	// Region empty: the SDK's default chain (AWS_REGION, AWS_DEFAULT_REGION,
	// the shared config file), then DefaultLocalRegion with an Endpoint.
	Region   string
	Endpoint string // non-empty: every client talks to this URL (local stack)
	// MaxAttempts bounds retries; 0 keeps the SDK default.
	MaxAttempts int
	// CallTimeout, when positive, is the deadline of every call made with
	// the configuration, retries included (a shorter deadline on the
	// caller's context still wins).
	CallTimeout time.Duration
}

// DefaultLocalRegion is the region used with an endpoint override when
// nothing names one: the emulators need some region, and this is theirs.
const DefaultLocalRegion = "us-east-1"

// Load returns an aws.Config. With an endpoint override it uses static dummy
// credentials, which the local emulators accept; against AWS it uses the
// default credential chain. The region is the one configured (Options.Region,
// else AWS_REGION and the rest of the SDK's chain) with or without an
// endpoint: an emulator that keeps pools per region (moto) must be asked in
// the pool's region.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	if o.MaxAttempts > 0 {
		opts = append(opts, awsconfig.WithRetryer(func() aws.Retryer {
			return retry.AddWithMaxAttempts(retry.NewStandard(), o.MaxAttempts)
		}))
	}
	if o.Endpoint != "" {
		opts = append(opts,
			awsconfig.WithBaseEndpoint(o.Endpoint),
			awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
		)
	}
	if o.CallTimeout > 0 {
		opts = append(opts, awsconfig.WithAPIOptions([]func(*middleware.Stack) error{callTimeout(o.CallTimeout)}))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" && o.Endpoint != "" {
		cfg.Region = DefaultLocalRegion
	}
	return cfg, nil
}

// ForFunction returns the configuration of a function's AWS clients from
// its common settings: the region, the static credentials of the emulators
// when an endpoint is overridden, three attempts and CallTimeout on every
// call. Clients of a service with its own endpoint override set it with
// their BaseEndpoint option (see config.Common).
func ForFunction(ctx context.Context, c config.Common) (aws.Config, error) {
	return Load(ctx, Options{Region: c.Region, Endpoint: c.AnyEndpoint(), MaxAttempts: 3, CallTimeout: CallTimeout})
}

// BaseEndpoint returns url for a client's BaseEndpoint option, nil for "":
// then the client keeps the configuration's.
func BaseEndpoint(url string) *string {
	if url == "" {
		return nil
	}
	return aws.String(url)
}

// callTimeout bounds each operation, retries included: the initialize step
// runs once per call, before the retry loop.
func callTimeout(d time.Duration) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("ShortfuseCallTimeout",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}
