// Package authorizer is shortfuse's API Gateway Lambda authorizer: it admits
// a bearer token only while it is valid, unrevoked and allowed on the route.
//
// # Decision
//
// Decide verifies the token with shared/jwtverify (or finds it in a cache of
// verified tokens keyed by the exact token string, bounded in size, valid
// until exp and verified again after at most five minutes, the age at which
// a fetched key set is refetched, so that a key dropped from the set stops
// working in cached tokens too), checks it against the in-memory revocation
// set of shared/revset, and checks the route table. Revocation and routes
// are checked on every request, cached token or not. The outcomes are:
//
//   - Allow: the request proceeds.
//   - Deny (403): a valid token that may not call the route.
//   - Unauthorized (401): no bearer token, or one that is malformed, badly
//     signed, of the wrong kind, expired, too old, or revoked, or a
//     DPoP-bound token without a valid proof.
//   - Unavailable (500): the revocation state is older than the grace or the
//     signing keys cannot be fetched. The authorizer fails closed; API
//     Gateway does not cache a function error, so service resumes as soon as
//     the state is current again.
//
// # Modes
//
// What each token kind must satisfy is shared/tokenspec's contract, the one
// the token service verifies with; the Authorization header is read by
// tokenspec.ParseAuthorization (RFC 6750 b64token, Bearer or DPoP scheme).
//
// In exchange mode only the token service's at+jwt access tokens are
// accepted; in direct mode only Cognito tokens younger than
// SHORTFUSE_DIRECT_MAX_AGE (after iat), of the kinds SHORTFUSE_DIRECT_TOKEN_USE
// names: ID tokens (token_use id, aud one of SHORTFUSE_CLIENTS; the default)
// and/or access tokens (token_use access, client_id one of SHORTFUSE_CLIENTS,
// no aud, a username: a client credentials token names no user and is
// refused; their scope claim feeds the routes' scopes). Both have typ absent
// or JWT. One kind is never accepted as another, nor in the other mode.
//
// # Keys
//
// In exchange mode the signing keys come from an inline JWK Set
// (SHORTFUSE_JWKS) or from a URL (SHORTFUSE_JWKS_URL); in direct mode from
// SHORTFUSE_COGNITO_JWKS_URL, the pool's JWK Set by default. Direct mode may
// trust several pools (SHORTFUSE_COGNITO_ISSUER as a comma list, in
// Cognito's original https://cognito-idp.<region>.amazonaws.com/<pool> or
// multi-Region https://issuer-cognito-idp.<region>.amazonaws.com/<pool>
// form): each has its own key set, the token's iss picks it, and a token
// naming an issuer not listed is refused before any key is looked up, so a
// key of one pool never verifies a token naming another. A URL must be
// https, or http on a loopback host (shared/tokenspec's rule, the token
// service's too); it is fetched at init and cached. The cached set is fetched again when a token
// names an unknown kid (at most once per minute) and once it is five
// minutes old, so a key the issuer stops publishing stops verifying within
// five minutes; while the URL cannot be read the last good set is kept.
//
// # Shapes
//
// Handler serves one of four API Gateway formats (SHORTFUSE_AUTHORIZER_SHAPE):
// rest-token and rest-request (REST API, IAM policy), http-iam (HTTP API
// payload 1.0, IAM policy) and http-simple (HTTP API payload 2.0, simple
// response). The context holds sub, username, sid, groups and scope: strings
// in the IAM shapes (groups comma-separated), groups as a list in
// http-simple; groupsHeader holds the string in every shape. Every string a private
// integration may forward as a header (ForwardedKeys) is non-empty: NoValue
// ("-") stands for none, and values are percent-encoded where they hold
// '%', ',', spaces or bytes outside printable ASCII (a literal "-" is
// "%2D"), so an "overwrite:" mapping always has a value to replace the
// client's header with and a backend can split lists unambiguously.
//
// # Routes and API Gateway's cache
//
// SHORTFUSE_ROUTES is a JSON array of {"route": "METHOD /path", "groups":
// [...], "scopes": [...]} (or file:PATH). A token may call a route when it is
// in one of its groups and holds all of its scopes; a request proceeds when
// some route matches it and the token satisfies every route that matches it.
// In patterns * matches any characters, "/" included, as in IAM; ANY expands
// to each method.
//
// The IAM policy returned depends only on the token and the API and stage:
// it allows exactly the routes the token satisfies and explicitly denies the
// ones it does not satisfy that overlap them. API Gateway caches it by token
// and evaluates it for every later request of the stage, so cached answers
// stay right across routes. A simple response (http-simple) answers for one
// route only: with caching on, include $context.routeKey in the authorizer's
// identity sources, or turn the cache off.
//
// # DPoP-bound tokens
//
// A token with a cnf.jkt claim is bound to a client's key (RFC 9449). The
// rest-request, http-iam and http-simple shapes accept it only as
// "Authorization: DPoP <token>" with exactly one DPoP header holding a proof
// (shared/dpop) that is signed by the bound key, names this request's method
// and URL (htm, htu), carries the token's hash (ath), is at most
// SHORTFUSE_DPOP_MAX_AGE old and has not been seen by this container. The
// proof is checked on every request, the token cached or not. A bound token
// sent as Bearer, a DPoP scheme with an unbound token and any bound token
// on the rest-token shape (whose event holds no method, URL or proof) are
// refused with 401 and the reason logged.
//
// The URL is rebuilt as the client addressed it: X-Forwarded-Proto (https
// when absent), the Host API Gateway received and the path as addressed
// (REST: requestContext.path; HTTP APIs: the raw path), or, when clients
// address the API elsewhere (custom domain with a base path, CDN),
// SHORTFUSE_PUBLIC_BASE_URL followed by the path within the API. Query and
// fragment are ignored, as RFC 9449 says.
//
// Replays: a proof's jti is remembered per container, in a bounded cache
// (SHORTFUSE_DPOP_REPLAY_CACHE, arithmetic in shared/dpop), so a replay to
// the same container is refused; one that reaches another container within
// the proof's window is accepted there, for the same method, URL and token
// only. API Gateway's cache comes first: with caching on, the identity
// sources must include the DPoP header (method.request.header.DPoP,
// $request.header.DPoP), and even then an identical replay within the TTL
// is answered from the cache; set the TTL to 0 where that matters. So that
// a cached answer never serves another route, the policy for a bound token
// names this request's method ARN only.
//
// A Lambda authorizer cannot add a header to API Gateway's 401, so the
// WWW-Authenticate challenge each refusal would carry (DPoP
// error="invalid_dpop_proof", "use_dpop_nonce" or "invalid_token", see
// Authorizer.Challenge) is logged with the refusal ("challenge") rather
// than sent.
//
// # Step-up rules (RFC 9470)
//
// A route may also ask more of the sign-in behind the token: "max_age"
// (seconds since its auth_time), "acr" (one of these authentication context
// classes) and "amr" (all of these authentication methods, e.g. ["mfa"]);
// the token service copies acr, amr and auth_time from the Cognito login
// into its access tokens, and Cognito ID tokens carry them in direct mode.
// They are checked on every request, cached token or not. A valid token
// whose sign-in is too old or too weak for the route is refused with
// ErrStepUp (a StepUpError naming max_age and acr_values), as a Deny: API
// Gateway answers 403, and the authorizer cannot add the RFC 9470
// WWW-Authenticate challenge to API Gateway's answers, so it logs it
// ("challenge": Bearer error="insufficient_user_authentication",
// max_age=..., acr_values="...") and, in the IAM policy shapes, puts it in the
// context as "error" and "wwwAuthenticate", where a REST API gateway
// response for ACCESS_DENIED can pass it on ($context.authorizer.wwwAuthenticate).
// The policy leaves out the routes the sign-in no longer meets; a cached
// policy can keep allowing a max_age route for up to the cache TTL after the
// sign-in got too old, so set the TTL to 0, or count it in max_age.
//
// # Revocation bound
//
// Each warm authorizer polls the revocation log every SHORTFUSE_REVOCATION_POLL
// (default 1 s), so a revocation is enforced by the authorizer within about
// one poll plus one read of the log. API Gateway's authorizer cache adds its
// TTL on top: a policy cached just before the revocation keeps being used
// until it expires. The end-to-end bound is therefore
//
//	poll + read latency + authorizer result TTL
//
// With the API Gateway default TTL of 300 s the bound is five minutes; set
// the TTL to 0 (no caching) for a bound of about one second, or to a few
// seconds to keep most of the cache's benefit. SHORTFUSE_REVOCATION_STRICT
// reads the log consistently on every request instead of polling, which
// removes the poll from the bound (not the TTL).
//
// When the log cannot be read, decisions continue on the last good read for
// at most SHORTFUSE_REVOCATION_GRACE (default 10 s); after that every request
// is refused until a read succeeds. A Lambda container thawed after a pause
// refreshes before its first decision, so a stale snapshot is never used.
//
// # Configuration
//
// LoadConfig reads SHORTFUSE_AUTHORIZER_MODE, SHORTFUSE_AUTHORIZER_SHAPE,
// SHORTFUSE_ISSUER, SHORTFUSE_AUDIENCE, SHORTFUSE_CLIENTS, SHORTFUSE_JWKS or
// SHORTFUSE_JWKS_URL (exchange mode), SHORTFUSE_COGNITO_ISSUER and
// SHORTFUSE_COGNITO_JWKS_URL (direct mode), SHORTFUSE_DIRECT_MAX_AGE,
// SHORTFUSE_DIRECT_TOKEN_USE,
// SHORTFUSE_REVOCATION_POLL, SHORTFUSE_REVOCATION_GRACE,
// SHORTFUSE_REVOCATION_STRICT, SHORTFUSE_ROUTES, SHORTFUSE_TOKEN_CACHE_SIZE,
// SHORTFUSE_DPOP_MAX_AGE, SHORTFUSE_DPOP_REPLAY_CACHE,
// SHORTFUSE_PUBLIC_BASE_URL and SHORTFUSE_TABLE, plus the settings every
// function shares (config.Common: SHORTFUSE_LOG_LEVEL, SHORTFUSE_AWS_REGION,
// the endpoint overrides), and reports every mistake at once, naming the
// variable. Function is the constructor cmd/authorizer runs (package
// function) and the local stack serves.
package authorizer
