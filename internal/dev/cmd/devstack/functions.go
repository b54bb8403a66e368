package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

// Function is a Lambda function served by the dev Lambda host.
type Function struct {
	// Name is the function name in the Invoke path and in cognito-local's
	// TriggerFunctions, e.g. "presignup".
	Name string
	// Triggers lists the cognito-local triggers pointed at this function,
	// e.g. "PreSignUp" (see testenv.CognitoTriggers); empty if none.
	Triggers []string
	// Example is an event the function answers without error, shown in the
	// walkthrough; empty if none.
	Example string
	// New builds the handler once the stack's endpoints are known; wrap typed
	// handlers with lambda.NewHandler.
	New func(ctx context.Context, env Env) (lambda.Handler, error)
}

// functions are the project's Lambda functions run by the dev stack.
var functions = []Function{}
