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
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" && o.Endpoint != "" {
		cfg.Region = DefaultLocalRegion
	}
	return cfg, nil
}
