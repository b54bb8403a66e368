// Command tokensvc runs the token service as an AWS Lambda function behind an
// API Gateway HTTP API (payload format 2.0).
//
// Configuration, AWS clients, the signing keys and Cognito's public keys are
// loaded once, at init (tokensvc.Function); a configuration error stops the
// cold start with every problem listed. Outside Lambda, with
// SHORTFUSE_HTTP_ADDR set (for example ":8080"), the same handler is served
// as a plain HTTP server.
package main

import (
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/tokensvc"
)

func main() { function.Run("tokensvc", tokensvc.Function) }
