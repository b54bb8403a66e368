// Package tokenspec is shortfuse's token contract: what each kind of token
// must satisfy to be accepted, and the formats around it that several
// functions read. shared/jwtverify enforces it; the token service and the
// authorizer build their verifiers from it, so the two never disagree on
// what a token of a kind is.
//
// Token kinds ([Spec]):
//
//   - [ServiceAccessToken]: the token service's own access tokens (RFC 9068):
//     typ at+jwt, no token_use, aud the service's audience, client_id one of
//     the configured clients, signed RS256, ES256 or EdDSA.
//   - [CognitoIDToken]: Cognito ID tokens: typ absent or JWT, token_use id,
//     aud one of the configured clients, signed RS256.
//   - [CognitoAccessToken]: Cognito access tokens: typ absent or JWT,
//     token_use access, client_id one of the configured clients, no aud
//     (Cognito puts none in its access tokens), signed RS256.
//
// A kind never verifies as another: typ separates the service's tokens from
// Cognito's, token_use separates Cognito's two kinds, and aud versus
// client_id is checked per kind.
//
// Also here: the algorithm table ([AlgorithmFor]), the Authorization header
// ([ParseAuthorization], RFC 6750 and RFC 9449 §7.1), the https rule for
// every URL keys are fetched from ([CheckKeyURL]), Cognito issuers
// ([ParseIssuers]) and the SHORTFUSE_CLIENTS syntax ([ParseClients]).
package tokenspec
