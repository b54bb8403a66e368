// Package deploy checks the project's SAM template without AWS.
//
// Neither the SAM CLI nor an AWS account is needed: the template is parsed
// with goformation, its intrinsic functions replaced by placeholders that
// keep the references visible ("${Table.Arn}", "${UserPool}"), every
// resource is validated against goformation's bundled SAM JSON schema, and
// the wiring the system depends on is asserted: every Cognito trigger hooked
// and invokable, every non-public route behind the authorizer, throttling on
// every route, least-privilege IAM per function, handlers that match the
// built binaries, and the environment each function's code requires.
//
// Each problem is reported as an error that names the resource and says
// what to change. The expectations (functions, public routes, permissions)
// live in spec.go, next to the checks that enforce them.
package deploy
