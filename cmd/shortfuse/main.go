// Command shortfuse administers a shortfuse deployment: it lists and revokes
// sessions, revokes users and generates signing keys.
//
// It talks to DynamoDB (and Cognito, for a global sign-out) with the AWS
// default credential chain; --endpoint and --table point it at the local
// stack. Exit status: 0 success, 1 runtime error, 2 usage error.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
