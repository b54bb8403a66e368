// Command presignup is the Cognito PreSignUp trigger; see package
// github.com/shortfuse/shortfuse/triggers/presignup for the policy and its
// SHORTFUSE_SIGNUP_* settings.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/triggers/presignup"
)

func main() {
	log := obs.Default()
	h, err := presignup.FromEnv(context.Background(), config.FromOS(), log)
	if err != nil {
		log.Error("presignup: init", "error", err)
		os.Exit(1)
	}
	lambda.StartHandlerFunc(h.Handle)
}
