// Command verifyauth is the Cognito VerifyAuthChallengeResponse trigger of
// the passwordless sign-in; see package
// github.com/shortfuse/shortfuse/triggers/customauth.
package main

import (
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/triggers/customauth"
)

func main() { function.Run("verifyauth", customauth.VerifyFunction) }
