// Command custommessage is the Cognito CustomMessage trigger; see package
// github.com/shortfuse/shortfuse/triggers/custommessage and, for the
// templates and SHORTFUSE_MESSAGE_* settings, package triggers/templates.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/triggers/custommessage"
)

func main() {
	log := obs.Default()
	h, err := custommessage.FromEnv(config.FromOS(), log)
	if err != nil {
		log.Error("custommessage: init", "error", err)
		os.Exit(1)
	}
	lambda.StartHandlerFunc(h.Handle)
}
