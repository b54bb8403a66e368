// Command authorizer is the API Gateway Lambda authorizer: it reads its
// configuration from SHORTFUSE_* variables (see package authorizer), loads
// the revocation log, and serves the configured event shape.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/obs"
)

func main() {
	log := obs.Default()
	cfg, err := authorizer.LoadConfig(config.FromOS())
	if err != nil {
		log.Error("configuration", "error", err.Error())
		os.Exit(1)
	}
	a, err := authorizer.Open(context.Background(), cfg, authorizer.Deps{Logger: log, Metrics: obs.NewCounter(os.Stdout, "authorizer")})
	if err != nil {
		log.Error("init", "error", err.Error())
		os.Exit(1)
	}
	h, err := a.Handler(cfg.Shape)
	if err != nil {
		log.Error("init", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
