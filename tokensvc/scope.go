package tokensvc

import (
	"slices"
	"strings"
)

// validScopeToken reports whether s is a scope-token of RFC 6749 §3.3.
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// parseScope checks a requested scope against allowed and returns it
// normalised (single spaces, no duplicates, request order). An empty request
// yields an empty scope: clients ask for what they need.
func parseScope(requested string, allowed []string) (string, error) {
	if requested == "" {
		return "", nil
	}
	var out []string
	for _, s := range strings.Split(requested, " ") {
		if s == "" {
			continue
		}
		if !validScopeToken(s) {
			return "", ErrInvalidScope.WithDescription("scope is malformed")
		}
		if !slices.Contains(allowed, s) {
			return "", ErrInvalidScope.WithDescription("scope %s is not allowed", printable(s))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "", ErrInvalidScope.WithDescription("scope is malformed")
	}
	return strings.Join(out, " "), nil
}
