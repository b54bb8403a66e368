// Command cognitoevents is the Lambda function an EventBridge rule invokes
// with the Cognito user pool API calls CloudTrail records; see package
// github.com/shortfuse/shortfuse/cognitoevents for what each call revokes
// and its SHORTFUSE_* settings.
package main

import (
	"github.com/shortfuse/shortfuse/cognitoevents"
	"github.com/shortfuse/shortfuse/shared/function"
)

func main() { function.Run("cognitoevents", cognitoevents.Function) }
