// Command createauth is the Cognito CreateAuthChallenge trigger of the
// passwordless sign-in: it mails the one-time code and magic link; see
// package github.com/shortfuse/shortfuse/triggers/customauth.
package main

import (
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/triggers/customauth"
)

func main() { function.Run("createauth", customauth.CreateFunction) }
