// Command defineauth is the Cognito DefineAuthChallenge trigger of the
// passwordless sign-in; see package github.com/shortfuse/shortfuse/triggers/customauth.
package main

import (
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/triggers/customauth"
)

func main() { function.Run("defineauth", customauth.DefineFunction) }
