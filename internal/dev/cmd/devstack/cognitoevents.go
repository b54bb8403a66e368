package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/cognitoevents"
)

// The Cognito events function, served by the Lambda host: cognito-local
// records no CloudTrail events, so the walkthrough invokes it with one, as
// EventBridge would after an admin signs the user out in Cognito.
func init() {
	functions = append(functions, Function{Name: "cognitoevents", New: newCognitoEvents})
	extraSections = append(extraSections, cognitoEventsSection)
}

func newCognitoEvents(ctx context.Context, env Env) (lambda.Handler, error) {
	vars := map[string]string{
		"SHORTFUSE_TABLE":                env.Table,
		"SHORTFUSE_COGNITO_USER_POOL_ID": env.UserPoolID,
		"SHORTFUSE_DYNAMODB_ENDPOINT":    env.DynamoEndpoint,
		"SHORTFUSE_COGNITO_ENDPOINT":     env.CognitoEndpoint,
	}
	if v, ok := os.LookupEnv("SHORTFUSE_REVOCATION_RETENTION"); ok {
		vars["SHORTFUSE_REVOCATION_RETENTION"] = v
	}
	return lambdaFunction(ctx, "cognitoevents", vars, cognitoevents.Function)
}

func cognitoEventsSection(env Env) Section {
	now := `'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'`
	event := `{"version":"0","id":"dev-event","detail-type":"` + cognitoevents.DetailType + `","source":"` + cognitoevents.Source +
		`","time":"` + now + `","region":"` + env.Region + `","detail":{"eventSource":"` + cognitoevents.EventSource +
		`","eventName":"AdminUserGlobalSignOut","eventID":"dev-'"$SUB"'","eventTime":"` + now +
		`","requestParameters":{"userPoolId":"` + env.UserPoolID + `","username":"HIDDEN_DUE_TO_SECURITY_REASONS"},"additionalEventData":{"sub":"'"$SUB"'"}}}`
	return Section{
		Title: "Cognito-side changes (cognitoevents, invoked as EventBridge would)",
		Commands: strings.Join([]string{
			"# A fresh sign-in and a session of its own:",
			fmt.Sprintf(`CE_ID=$(curl -sS %s -H 'Content-Type: application/x-amz-json-1.1' -H 'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth' \`, env.CognitoEndpoint),
			fmt.Sprintf(`  -d '{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"%s","AuthParameters":{"USERNAME":"%s","PASSWORD":"%s"}}' | node -p 'JSON.parse(require("fs").readFileSync(0)).AuthenticationResult.IdToken')`, env.ClientID, demoUser, demoPassword),
			fmt.Sprintf(`CE_REFRESH=$(curl -sS %s/token -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \`, env.TokenServiceURL),
			`  -d subject_token_type=urn:ietf:params:oauth:token-type:id_token --data-urlencode "subject_token=$CE_ID" | node -p 'JSON.parse(require("fs").readFileSync(0)).refresh_token')`,
			`export SUB=$(node -p 'JSON.parse(Buffer.from(process.argv[1].split(".")[1],"base64url")).sub' "$CE_ID")`,
			"# An admin signs the user out in Cognito; CloudTrail's record of the call reaches the function:",
			fmt.Sprintf("curl -sS -w '\\n' %s/2015-03-31/functions/cognitoevents/invocations -d '%s'", env.LambdaInvokeURL, event),
			"# Every session of the user is revoked, so the refresh token no longer works:",
			fmt.Sprintf(`curl -sS -w '\n' %s/token -d grant_type=refresh_token --data-urlencode "refresh_token=$CE_REFRESH"`, env.TokenServiceURL),
			"# The same event again changes nothing (EventBridge delivers at least once). A fixture of",
			"# every call is in cognitoevents/testdata (put in this pool id and the sub).",
		}, "\n"),
	}
}
