package authorizer

import (
	"strings"
)

// NoValue is the context value that stands for "none": a token without a
// session id, username, groups or scope. Context values a backend may
// receive as request headers are never empty, so that API Gateway always
// has a value to overwrite the client's header of the same name with
// (AWS does not document what an "overwrite:" parameter mapping does with
// an empty or missing value; see docs/deploy.md).
const NoValue = "-"

// ForwardedKeys returns the context keys that the shape's answer always
// holds as non-empty strings of printable ASCII, for every allowed or denied
// token: the keys a private integration may map to request headers.
// groupsHeader is the groups string in every shape; in the IAM policy
// shapes groups is the same string, while in http-simple groups is a list
// (whose rendering in a parameter mapping is not documented).
func ForwardedKeys(shape Shape) []string {
	if shape == ShapeHTTPSimple {
		return []string{"sub", "username", "sid", "groupsHeader", "scope"}
	}
	return []string{"sub", "username", "sid", "groups", "groupsHeader", "scope"}
}

// forwardValue encodes one value for the context: percent-encoded (RFC 3986
// %XX, upper case) where it holds '%', ',', a byte outside printable ASCII
// or is exactly NoValue; NoValue when empty.
func forwardValue(v string) string {
	if v == "" {
		return NoValue
	}
	if v == NoValue {
		return "%2D"
	}
	return escapeField(v)
}

// forwardList encodes a list: each member as forwardValue, joined by sep
// (',' for groups, ' ' for scope tokens); empty members are dropped;
// NoValue when nothing is left.
func forwardList(items []string, sep string) string {
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
		b.WriteString(escapeField(it))
	}
	if b.Len() == 0 {
		return NoValue
	}
	return b.String()
}

// forwardScope encodes a space-separated scope: its tokens, one space
// apart, each as forwardValue.
func forwardScope(scope string) string {
	return forwardList(strings.Fields(scope), " ")
}

const upperHex = "0123456789ABCDEF"

func escapeField(v string) string {
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
// anything outside printable ASCII, space included (the scope separator;
// header values keep no control or non-ASCII bytes either).
func needsEscape(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '%' || c == ','
}
