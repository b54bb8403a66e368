// Package store keeps shortfuse's state in one DynamoDB table.
//
// The table has string keys pk and sk, a numeric ttl attribute and one global
// secondary index, gsi1 (gsi1pk, gsi1sk), for listing a user's sessions.
// Every write that two requests could race for is a single-item conditional
// write: the local emulator has no transactions, and none are needed.
// DynamoDB deletes expired items lazily, so every read checks expiry itself.
//
// Items (pk / sk):
//
//	SESSION#<sid> / SESSION         a session and its refresh token family;
//	                                gsi1: USER#<sub> / SESSION#<created nanos>#<sid>
//	USER#<sub>    / STATE           the user's revocation time
//	USER#<sub>    / FAMLIMIT        how many long-lived login family log entries
//	                                the user's sign-outs wrote (direct mode)
//	FAMILY#<id>   / STATE           a revoked login family (origin_jti, else jti)
//	IDTOKEN#<jti> / USED            a Cognito ID token already exchanged
//	REVLOG        / <nanos>#<hex>   one revocation log entry, ordered by append time
//
// Times are stored as whole unix seconds, rounded so that storage can only
// shorten access: a session's expiries round down, a revocation's lifetime
// (and every ttl) rounds up.
package store

import (
	"errors"
	"time"
)

// Errors returned by the store. Callers match them with errors.Is.
var (
	// ErrNotFound: the item does not exist or has expired.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a conditional write lost (a refresh token already rotated,
	// a code already used, an invite exhausted).
	ErrConflict = errors.New("store: condition failed")
	// ErrUnavailable: DynamoDB could not be reached or did not answer in time.
	// Callers answer 503 and change nothing else.
	ErrUnavailable = errors.New("store: unavailable")
)

// Session is one login exchanged at the token service. Its refresh token
// family state lives on the same item, so rotation is one conditional update.
type Session struct {
	ID        string
	Sub       string
	Username  string
	ClientID  string
	Groups    []string
	Scope     string
	OriginJTI string    // origin_jti (or jti) of the Cognito ID token exchanged
	AuthTime  time.Time // auth_time of the Cognito login
	ACR       string    // acr of the Cognito login, when it has one
	AMR       []string  // amr of the Cognito login, when it has one
	// JKT is the RFC 7638 thumbprint of the DPoP key the session's tokens
	// are bound to (RFC 9449): every refresh needs a proof made with it.
	// "" for a session of Bearer tokens. It never changes.
	JKT string

	CreatedAt     time.Time
	LastUsedAt    time.Time
	IdleExpiresAt time.Time // pushed forward by each refresh, capped by AbsExpiresAt
	AbsExpiresAt  time.Time

	// RefreshHash is SHA-256 of the current refresh token's secret;
	// PrevRefreshHashes holds the last few rotated ones, newest first, so a
	// replayed token is recognised as reuse rather than garbage.
	RefreshHash       []byte
	PrevRefreshHashes [][]byte
	RefreshGen        int64

	// AccessExpiresAt is the exp of the latest access token issued for the
	// session, set at exchange and at each refresh: a revoked session needs
	// a revocation log entry only until then (plus the verifiers' leeway).
	// Zero on sessions stored before it was recorded.
	AccessExpiresAt time.Time

	// The refresh grace state of the last rotation (see RotateRefresh and
	// UseRefreshGrace): when it happened, the nonce the current token was
	// derived with, and how many grace answers it has given.
	GraceAt    time.Time
	GraceNonce []byte
	GraceUses  int64

	RevokedAt    time.Time // zero while not revoked
	RevokeReason string
	// RevocationLog says how authorizers learnt of the revocation: the ID
	// of its log entry, LogCovered when another entry (the user's) covers
	// its tokens, or "" while no entry has been confirmed written.
	RevocationLog string

	UserAgent string
	SourceIP  string
}

// Revocation kinds in the revocation log.
const (
	RevokeSession = "session" // Value is a session id (sid claim)
	RevokeUser    = "user"    // Value is a sub; tokens with auth_time <= At are revoked
	RevokeJTI     = "jti"     // Value is a Cognito jti or origin_jti
)

// Revocation is one entry of the time-ordered revocation log that
// authorizers poll. An entry matters only while a token it affects can still
// be accepted, so it lives until Until and the live set stays small.
type Revocation struct {
	ID    string // unique, time-ordered (the sort key)
	Kind  string
	Value string
	At    time.Time
	Until time.Time
}
