package tokensvc

import (
	"fmt"
	"net/http"
)

// Error is an OAuth 2.0 error response (RFC 6749 §5.2, RFC 6750 §3.1,
// RFC 7009 §2.2.1, RFC 8693 §2.2.2). The package's sentinels are matched
// with errors.Is, which compares the code and the status; WithDescription and
// WithCause return copies, so sentinels are never modified.
type Error struct {
	Code        string // the "error" member
	Description string // the "error_description" member; never holds a token
	Status      int    // HTTP status
	cause       error  // logged, never sent
	// noCredentials marks a request that carried no credentials at all: its
	// challenge names no error (RFC 6750 §3.1).
	noCredentials bool
	// dpop marks an error about a DPoP proof or a DPoP-bound token: its
	// challenge uses the DPoP scheme (RFC 9449 §7.1).
	dpop bool
}

// Errors returned by the service.
var (
	ErrInvalidRequest       = &Error{Code: "invalid_request", Status: http.StatusBadRequest}
	ErrInvalidClient        = &Error{Code: "invalid_client", Status: http.StatusUnauthorized}
	ErrInvalidGrant         = &Error{Code: "invalid_grant", Status: http.StatusBadRequest}
	ErrUnauthorizedClient   = &Error{Code: "unauthorized_client", Status: http.StatusBadRequest}
	ErrUnsupportedGrantType = &Error{Code: "unsupported_grant_type", Status: http.StatusBadRequest}
	ErrInvalidScope         = &Error{Code: "invalid_scope", Status: http.StatusBadRequest}
	ErrInvalidTarget        = &Error{Code: "invalid_target", Status: http.StatusBadRequest}
	ErrInvalidToken         = &Error{Code: "invalid_token", Status: http.StatusUnauthorized}
	// ErrNoToken is ErrInvalidToken for a request with no Bearer credentials
	// (no Authorization header, or another scheme).
	ErrNoToken           = &Error{Code: "invalid_token", Status: http.StatusUnauthorized, noCredentials: true}
	ErrInsufficientScope = &Error{Code: "insufficient_scope", Status: http.StatusForbidden}
	ErrTooLarge          = &Error{Code: "invalid_request", Status: http.StatusRequestEntityTooLarge, Description: "request body too large"}
	ErrNotFound          = &Error{Code: "not_found", Status: http.StatusNotFound}
	ErrMethodNotAllowed  = &Error{Code: "method_not_allowed", Status: http.StatusMethodNotAllowed}
	ErrUnavailable       = &Error{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable}
	ErrServer            = &Error{Code: "server_error", Status: http.StatusInternalServerError}
)

func (e *Error) Error() string {
	s := e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.cause != nil {
		s += " (" + e.cause.Error() + ")"
	}
	return s
}

// Is reports whether target is an *Error with the same code and status.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Status == e.Status
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// WithDescription returns a copy of e with an error_description.
func (e *Error) WithDescription(format string, args ...any) *Error {
	c := *e
	c.Description = fmt.Sprintf(format, args...)
	return &c
}

// WithCause returns a copy of e recording why it happened, for the log.
func (e *Error) WithCause(err error) *Error {
	c := *e
	c.cause = err
	return &c
}
