// Package dev is the root of the local stack and the test tooling: the
// emulator harness, test tables, the local API gateway and Lambda host, the
// mail catcher, the custom-auth driver, token and proof minting for tests, a
// settable test clock, paired timing for ratio benchmarks, packaging and the
// benchmark table. Nothing outside internal/dev imports it except tests;
// TestNoProductionDependsOnDev checks that with `go list`.
package dev
