// Command cognitoevents is the Lambda function an EventBridge rule invokes
// with the Cognito user pool API calls CloudTrail records; see package
// github.com/shortfuse/shortfuse/cognitoevents for what each call revokes
// and its SHORTFUSE_* settings.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/cognitoevents"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/obs"
)

func main() {
	log := obs.Default()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	h, err := cognitoevents.FromEnv(ctx, config.FromOS(), log)
	cancel()
	if err != nil {
		log.Error("cognitoevents: init", "error", err.Error())
		os.Exit(1)
	}
	lambda.StartHandlerFunc(h.Handle)
}
