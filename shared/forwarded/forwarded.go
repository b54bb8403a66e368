// Package forwarded is the encoding of the caller's identity that the
// authorizer puts in its context and API Gateway forwards to a private
// backend as x-shortfuse-* request headers, and its decoding for backends
// written in Go.
//
// Every value is non-empty, so that an "overwrite:" parameter mapping always
// has a value to replace the client's header with: NoValue ("-") stands for
// none (no groups, no scope, no session id, no username). Otherwise a value,
// and each member of the groups (comma-separated) and scope (space-separated)
// lists, is percent-encoded (%XX, upper-case hex) where it holds '%', ',',
// a space, a control byte or a byte outside ASCII, and a value that is
// exactly "-" is sent as "%2D". So a group named "a,b" is never read as two
// groups, a group named "-" never as none, and every header is printable
// ASCII.
package forwarded

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// NoValue stands for "none".
const NoValue = "-"

// The headers a backend receives (see docs/deploy.md).
const (
	HeaderSub       = "X-Shortfuse-Sub"
	HeaderSessionID = "X-Shortfuse-Sid"
	HeaderUsername  = "X-Shortfuse-Username"
	HeaderGroups    = "X-Shortfuse-Groups"
	HeaderScope     = "X-Shortfuse-Scope"
	HeaderRequestID = "X-Shortfuse-Request-Id"
)

// Value encodes one value: NoValue when empty, else percent-encoded as the
// package documentation says.
func Value(v string) string {
	if v == "" {
		return NoValue
	}
	if v == NoValue {
		return "%2D"
	}
	return escape(v)
}

// Groups encodes a list of groups, comma-separated; empty names are
// dropped; NoValue when none is left.
func Groups(groups []string) string { return list(groups, ",") }

// Scope encodes a space-separated scope: its tokens one space apart, each
// encoded; NoValue when it has none. Only the space separates tokens (RFC
// 6749 §3.3), as for the authorizer's routes: any other white space is
// part of a token, and encoded.
func Scope(scope string) string { return list(strings.Split(scope, " "), " ") }

func list(items []string, sep string) string {
	var b strings.Builder
	for _, it := range items {
		if it == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		if it == NoValue {
			b.WriteString("%2D")
			continue
		}
		b.WriteString(escape(it))
	}
	if b.Len() == 0 {
		return NoValue
	}
	return b.String()
}

const upperHex = "0123456789ABCDEF"

func escape(v string) string {
	n := 0
	for i := 0; i < len(v); i++ {
		if needsEscape(v[i]) {
			n++
		}
	}
	if n == 0 {
		return v
	}
	out := make([]byte, 0, len(v)+2*n)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if needsEscape(c) {
			out = append(out, '%', upperHex[c>>4], upperHex[c&15])
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

// needsEscape: '%' (the escape itself), ',' (the groups separator), and
// anything outside printable ASCII, space included (the scope separator).
func needsEscape(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '%' || c == ','
}

// ErrMalformed reports a header that is not in this encoding.
var ErrMalformed = errors.New("forwarded: malformed identity header")

// DecodeValue decodes one value: "" (and ok) for NoValue.
func DecodeValue(s string) (string, error) {
	if s == NoValue {
		return "", nil
	}
	return unescape(s)
}

// DecodeList decodes a list encoded with sep (',' for groups, ' ' for
// scope): nil for NoValue.
func DecodeList(s string, sep byte) ([]string, error) {
	if s == NoValue {
		return nil, nil
	}
	parts := strings.Split(s, string(sep))
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		v, err := unescape(p)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// unescape decodes a non-empty member: printable ASCII other than space,
// ',' and a bare '%', with %XX escapes.
func unescape(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty value", ErrMalformed)
	}
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return "", fmt.Errorf("%w: truncated escape", ErrMalformed)
			}
			hi, lo := unhex(s[i+1]), unhex(s[i+2])
			if hi < 0 || lo < 0 {
				return "", fmt.Errorf("%w: bad escape", ErrMalformed)
			}
			if out == nil {
				out = append(make([]byte, 0, len(s)), s[:i]...)
			}
			out = append(out, byte(hi<<4|lo))
			i += 2
		case needsEscape(c):
			return "", fmt.Errorf("%w: byte %#x unescaped", ErrMalformed, c)
		default:
			if out != nil {
				out = append(out, c)
			}
		}
	}
	if out == nil {
		return s, nil
	}
	return string(out), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	}
	return -1
}

// Identity is the caller as the authorizer saw it.
type Identity struct {
	Sub       string
	SessionID string // "" when the token has none (a Cognito token in direct mode)
	Username  string
	Groups    []string
	Scope     []string
	RequestID string // API Gateway's request id, as in its access log
}

// FromHeaders reads the identity headers of a request that came through
// the private integration. Each must be present exactly once and well
// formed; anything else is an error, never a partial identity. The headers
// can be trusted only on requests that reached the backend through the VPC
// link (see docs/deploy.md).
func FromHeaders(h http.Header) (Identity, error) {
	var id Identity
	one := func(name string) (string, error) {
		v := h.Values(name)
		if len(v) != 1 || v[0] == "" {
			return "", fmt.Errorf("%w: %s must appear once, non-empty (got %d values)", ErrMalformed, name, len(v))
		}
		return v[0], nil
	}
	var err error
	var raw string
	if raw, err = one(HeaderSub); err != nil {
		return Identity{}, err
	}
	if id.Sub, err = DecodeValue(raw); err != nil || id.Sub == "" {
		return Identity{}, fmt.Errorf("%w: %s", ErrMalformed, HeaderSub)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{HeaderSessionID, &id.SessionID}, {HeaderUsername, &id.Username}} {
		if raw, err = one(f.name); err != nil {
			return Identity{}, err
		}
		if *f.dst, err = DecodeValue(raw); err != nil {
			return Identity{}, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if raw, err = one(HeaderGroups); err != nil {
		return Identity{}, err
	}
	if id.Groups, err = DecodeList(raw, ','); err != nil {
		return Identity{}, fmt.Errorf("%s: %w", HeaderGroups, err)
	}
	if raw, err = one(HeaderScope); err != nil {
		return Identity{}, err
	}
	if id.Scope, err = DecodeList(raw, ' '); err != nil {
		return Identity{}, fmt.Errorf("%s: %w", HeaderScope, err)
	}
	if id.RequestID, err = one(HeaderRequestID); err != nil {
		return Identity{}, err
	}
	return id, nil
}
