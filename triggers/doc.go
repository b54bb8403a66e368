// Package triggers holds shortfuse's Cognito trigger functions, one package
// each: presignup (PreSignUp), custommessage (CustomMessage) and customauth
// (DefineAuthChallenge, CreateAuthChallenge, VerifyAuthChallengeResponse),
// with the message templates in templates, the shared init code in
// triggerenv and the local-stack mail relay in localmail. The tests here run
// the triggers behind cognito-local, through the dev Lambda host, the way
// Cognito calls them.
package triggers
