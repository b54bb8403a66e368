// Command createauth is the Cognito CreateAuthChallenge trigger of the
// passwordless sign-in: it mails the one-time code and magic link; see
// package github.com/shortfuse/shortfuse/triggers/customauth.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/triggers/customauth"
)

func main() {
	log := obs.Default()
	h, err := customauth.CreateFromEnv(context.Background(), config.FromOS(), log)
	if err != nil {
		log.Error("createauth: init", "error", err)
		os.Exit(1)
	}
	lambda.StartHandlerFunc(h.Handle)
}
