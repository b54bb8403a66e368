// Command presignup is the Cognito PreSignUp trigger; see package
// github.com/shortfuse/shortfuse/triggers/presignup for the policy and its
// SHORTFUSE_SIGNUP_* settings.
package main

import (
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/triggers/presignup"
)

func main() { function.Run("presignup", presignup.Function) }
