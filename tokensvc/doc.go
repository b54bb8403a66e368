// Package tokensvc is shortfuse's token service: it exchanges Cognito ID
// tokens for short-lived RFC 9068 access tokens and rotating refresh tokens,
// and lets users and administrators list and revoke sessions.
//
// Endpoints (relative to the issuer URL):
//
//	POST   /token                              RFC 8693 token exchange, RFC 6749 refresh
//	POST   /revoke                             RFC 7009
//	POST   /introspect                         RFC 7662 (admin Bearer token)
//	GET    /sessions                           the caller's sessions (Bearer token)
//	DELETE /sessions/{id}                      end one of the caller's sessions
//	GET    /admin/users/{sub}/sessions         admin: a user's sessions
//	DELETE /admin/sessions/{id}                admin: revoke a session
//	POST   /admin/users/{sub}/revoke           admin: revoke every login of a user
//	GET    /.well-known/jwks.json              public signing keys
//	GET    /.well-known/oauth-authorization-server  RFC 8414 metadata
//
// A Service is one http.Handler; cmd/tokensvc serves it as a Lambda function
// behind an API Gateway HTTP API (Function), and the local stack as a plain
// HTTP server; both build it with Open.
// Each grant and endpoint lives in its own file, with the storage interface
// it needs declared next to it; *store.Store satisfies all of them.
package tokensvc
