// Package testenv starts the local AWS stand-ins (dynalite, cognito-local and
// aws-ses-v2-local) for tests and for the development stack.
//
// Each emulator runs as a Node.js child process listening on 127.0.0.1, in a
// process group of its own, and is reached through the real AWS SDK clients
// with an endpoint override, the same code path as in AWS. Stop kills the whole
// group and waits for it; on Linux the child also receives SIGKILL when the
// process that started it dies, so a test binary killed by -timeout leaves no
// emulator behind.
//
// Test helpers (Dynalite, CognitoLocal, SESLocal) take a testing.TB, fail the
// test when the emulator cannot start and stop it in t.Cleanup. The Start*
// functions do the same for TestMain and long-running programs; the caller
// stops what it started. SharedDynalite is one dynalite for a whole test
// binary, started by the first test that needs it and stopped from TestMain.
//
// The emulators are npm packages pinned in the repository's package.json. When
// node_modules is missing the helpers fail with a message asking to run
// `npm ci`; they never skip.
package testenv
