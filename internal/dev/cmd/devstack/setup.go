package main

import "context"

// setups run once the emulators are up, before functions and services are
// built; for example, creating the DynamoDB table.
var setups = []func(ctx context.Context, env Env) error{}
