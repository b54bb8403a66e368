package main

import (
	"context"
	"net/http"
)

// Service is an HTTP server run by the dev stack, such as the token service.
type Service struct {
	// Name identifies the service: flag -<name>-port, environment variable
	// SHORTFUSE_<NAME>_PORT, key in Env.ServiceURLs. "gateway" fills
	// Env.APIGatewayURL and Env.TokenServiceURL (the token service is its
	// backend), "demo" Env.DemoURL.
	Name string
	// Port is the default port.
	Port int
	// New builds the handler. env already holds every URL, this service's own
	// included, and ctx ends when the stack stops.
	New func(ctx context.Context, env Env) (http.Handler, error)
	// Walkthrough returns shell commands to try the service; may be nil.
	Walkthrough func(env Env) Section
}

// services are the HTTP services run by the dev stack.
var services = []Service{}
