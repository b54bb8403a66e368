// Command authorizer is the API Gateway Lambda authorizer: it reads its
// configuration from SHORTFUSE_* variables (see package authorizer), loads
// the revocation log, and serves the configured event shape.
package main

import (
	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/shared/function"
)

func main() { function.Run("authorizer", authorizer.Function) }
