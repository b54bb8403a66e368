// Command custommessage is the Cognito CustomMessage trigger; see package
// github.com/shortfuse/shortfuse/triggers/custommessage and, for the
// templates and SHORTFUSE_MESSAGE_* settings, package triggers/templates.
package main

import (
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/triggers/custommessage"
)

func main() { function.Run("custommessage", custommessage.Function) }
