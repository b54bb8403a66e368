package lambdahost

import (
	"bytes"
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

// ConcurrentHandler wraps a typed handler function (anything
// lambda.NewHandler accepts) as a lambda.Handler that may be invoked
// concurrently. The Lambda runtime invokes a function instance one event at
// a time, and lambda.NewHandler's handlers rely on it: they reuse one output
// buffer. Hosts that serve many invocations at once (this host, test
// drivers) give each invocation its own handler instead, as Lambda gives
// each its own instance.
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
