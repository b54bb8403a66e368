// Package jwtverify verifies compact JWS tokens signed with asymmetric keys:
// Cognito ID tokens for the token service and the authorizer's direct mode,
// and the token service's own at+jwt access tokens for the authorizer's
// exchange mode. ParseProof checks DPoP proofs (RFC 9449), JWSs signed by the
// key their jwk header carries, with the same algorithm table; package dpop
// applies the RFC's rules about the request on top.
//
// The signature is checked before any claim is read, the algorithm comes from
// the key and never from the token alone, and each failure has its own error
// so callers can log why a token was refused without logging the token.
package jwtverify

import (
	"errors"
	"fmt"
	"time"
)

// Claims are the claims shortfuse reads from either token kind. Times are
// zero when the claim is absent.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string // aud (ID tokens, access tokens)
	ClientID  string   // client_id (at+jwt and Cognito access tokens)
	TokenUse  string   // token_use (Cognito)
	JTI       string
	OriginJTI string // origin_jti (Cognito)
	SessionID string // sid (at+jwt)
	Username  string // cognito:username or username
	Email     string
	Groups    []string // cognito:groups or groups
	Scope     string
	Locale    string
	ACR       string   // acr: authentication context class (RFC 9470)
	AMR       []string // amr: authentication methods (RFC 8176)
	// JKT is cnf.jkt (RFC 9449 §6.1): the thumbprint of the key the
	// token is bound to; "" for a bearer token.
	JKT string

	ExpiresAt time.Time
	NotBefore time.Time
	IssuedAt  time.Time
	AuthTime  time.Time
}

// Errors, one per reason a token is refused. Every error returned by Verify
// wraps exactly one of them.
var (
	ErrMalformed       = errors.New("jwt: malformed token")
	ErrTooLarge        = errors.New("jwt: token too large")
	ErrAlgorithm       = errors.New("jwt: algorithm not allowed")
	ErrHeader          = errors.New("jwt: header not allowed") // jku, x5u, jwk, x5c, unknown crit, wrong typ
	ErrUnknownKey      = errors.New("jwt: unknown key id")
	ErrSignature       = errors.New("jwt: invalid signature")
	ErrIssuer          = errors.New("jwt: wrong issuer")
	ErrAudience        = errors.New("jwt: wrong audience or client")
	ErrTokenUse        = errors.New("jwt: wrong token use")
	ErrExpired         = errors.New("jwt: expired")
	ErrNotYetValid     = errors.New("jwt: not yet valid") // nbf, iat or auth_time in the future
	ErrTooOld          = errors.New("jwt: older than the allowed maximum age")
	ErrClaims          = errors.New("jwt: missing or mistyped claim")
	ErrKeysUnavailable = errors.New("jwt: signing keys unavailable")
	// ErrNoUser: a token that must name a user names none (a Cognito
	// access token from a client credentials grant).
	ErrNoUser = fmt.Errorf("%w: no username", ErrClaims)
)
