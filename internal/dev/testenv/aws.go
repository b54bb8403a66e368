package testenv

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region every emulator client is configured with.
const Region = "us-east-1"

// AWSConfig returns an aws.Config for talking to the emulators: static dummy
// credentials, Region, a 10 s HTTP timeout and a retryer suited to tests
// (3 attempts, short backoff, no retry quota, so a test that stops an
// emulator on purpose sees failures quickly and recovers as soon as it is
// back). It sets no endpoint: give each client its BaseEndpoint. Nothing is
// read from the environment or ~/.aws.
func AWSConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("testenv", "testenv", ""),
		HTTPClient:  awshttp.NewBuildableClient().WithTimeout(10 * time.Second),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.MaxBackoff = 200 * time.Millisecond
				o.RateLimiter = ratelimit.None
			})
		},
	}
}
