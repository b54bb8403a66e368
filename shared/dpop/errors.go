package dpop

import "fmt"

// Error codes of RFC 9449 §7.1 and §8, for the "error" member of an OAuth
// error response or of a WWW-Authenticate challenge.
const (
	CodeInvalidProof = "invalid_dpop_proof"
	CodeUseNonce     = "use_dpop_nonce"
)

// Error is one reason a proof is refused. The package's Err values are its
// only instances; callers match them with errors.Is, and Code says what the
// client is told.
type Error struct {
	Code   string // CodeInvalidProof or CodeUseNonce
	Reason string // a short description, safe to log and to return
}

func (e *Error) Error() string { return "dpop: " + e.Reason }

func invalid(reason string) *Error { return &Error{Code: CodeInvalidProof, Reason: reason} }

// Errors, one per reason a proof is refused. Every error Check returns wraps
// exactly one of them.
var (
	ErrMissing         = invalid("no DPoP proof")
	ErrMultiple        = invalid("more than one DPoP proof")
	ErrTooLarge        = invalid("DPoP proof too large")
	ErrMalformed       = invalid("DPoP proof is not a compact JWS")
	ErrType            = invalid(`DPoP proof typ is not "dpop+jwt"`)
	ErrAlgorithm       = invalid("DPoP proof algorithm not allowed")
	ErrKey             = invalid("DPoP proof key header is missing, private, unsupported or names another key")
	ErrSignature       = invalid("DPoP proof signature does not verify")
	ErrClaims          = invalid("DPoP proof lacks or mistypes a claim")
	ErrMethod          = invalid("DPoP proof htm does not match the request method")
	ErrURL             = invalid("DPoP proof htu does not match the request URL")
	ErrTooOld          = invalid("DPoP proof iat is too old")
	ErrFuture          = invalid("DPoP proof iat is in the future")
	ErrReplay          = invalid("DPoP proof jti was already used")
	ErrReplayFull      = invalid("too many DPoP proofs in the window; retry shortly")
	ErrAccessTokenHash = invalid("DPoP proof ath is missing or does not match the access token")
	ErrKeyMismatch     = invalid("DPoP proof key is not the key the token is bound to")
	ErrNonce           = &Error{Code: CodeUseNonce, Reason: "DPoP proof lacks the server's current nonce"}
)

// wrap adds detail to one of the Err values.
func wrap(e *Error, detail string) error { return fmt.Errorf("%w: %s", e, detail) }
