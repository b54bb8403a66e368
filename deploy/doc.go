// Package deploy checks the project's SAM template without AWS.
//
// Neither the SAM CLI nor an AWS account is needed: the template is parsed
// with goformation, its intrinsic functions replaced by placeholders that
// keep the references visible ("${Table.Arn}", "${UserPool}"), every
// resource is validated against goformation's bundled SAM JSON schema, and
// the wiring the system depends on is asserted: every Cognito trigger hooked
// and invokable, every non-public route behind the authorizer, throttling on
// every route, least-privilege IAM per function, and handlers that match the
// built binaries.
//
// The template is also held against the code (CheckCode): each function's
// main package is type-checked and followed to every function it can reach
// (Analyse), and the AWS operations that code calls must be exactly what its
// policy grants, the SHORTFUSE_ variables set must be ones it reads, and a
// variable several functions read must be set alike on all of them.
//
// Each problem is reported as an error that names the resource and says
// what to change. The expectations (functions, public routes, permissions)
// live in spec.go, next to the checks that enforce them.
package deploy
