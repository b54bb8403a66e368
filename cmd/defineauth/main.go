// Command defineauth is the Cognito DefineAuthChallenge trigger of the
// passwordless sign-in; see package github.com/shortfuse/shortfuse/triggers/customauth.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/triggers/customauth"
)

func main() {
	log := obs.Default()
	h, err := customauth.DefineFromEnv(config.FromOS())
	if err != nil {
		log.Error("defineauth: init", "error", err)
		os.Exit(1)
	}
	lambda.StartHandlerFunc(h.Handle)
}
