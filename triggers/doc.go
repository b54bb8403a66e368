// Package triggers holds shortfuse's Cognito trigger functions, one package
// each: presignup (PreSignUp), custommessage (CustomMessage) and customauth
// (DefineAuthChallenge, CreateAuthChallenge, VerifyAuthChallengeResponse),
// with the message templates in templates and the triggers' shared settings
// and clients in triggerenv (the local-stack mail relay is
// internal/dev/localmail). The tests here run
// the triggers behind cognito-local, through the dev Lambda host, the way
// Cognito calls them.
package triggers
