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
// it needs declared next to it; *store.Store satisfies all of them. A grant
// is a handler holding only its own storage (exchangeHandler holds
// ExchangeStorage, refreshHandler RefreshStorage) and works as fosite's do,
// in two steps: validate parses the request and checks the token, client,
// scope, DPoP proof and login into a typed request, and issue writes the
// session and mints the tokens. Service composes the handlers with the
// endpoints, which hold SessionStorage; none holds the whole Storage, which
// only New and the revocation path see. Whether a session can be used is
// one rule, store.Session.Liveness; which refresh token was presented is
// one constant-time check, store.Session.MatchRefresh.
package tokensvc
