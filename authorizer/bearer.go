package authorizer

import "strings"

// BearerToken extracts the token from an Authorization header value
// ("Bearer <token>", scheme case-insensitive, RFC 6750 §2.1). It reports
// false for any other form, including a value that holds more than one
// credential: HTTP APIs join repeated headers with commas.
func BearerToken(h string) (string, bool) {
	h = strings.TrimSpace(h)
	if len(h) < 7 || !strings.EqualFold(h[:6], "bearer") || (h[6] != ' ' && h[6] != '\t') {
		return "", false
	}
	tok := strings.TrimLeft(h[7:], " \t")
	if tok == "" || strings.ContainsAny(tok, " \t,") {
		return "", false
	}
	return tok, true
}

// headerValue returns the one value of the named header in an API Gateway
// event, matching the name case-insensitively. It reports false when the
// header is absent or present more than once (in either map or in two
// casings), since a request with two credentials is ambiguous.
func headerValue(headers map[string]string, multi map[string][]string, name string) (string, bool) {
	var v string
	n := 0
	for k, x := range headers {
		if strings.EqualFold(k, name) {
			v = x
			n++
		}
	}
	for k, xs := range multi {
		if strings.EqualFold(k, name) {
			switch {
			case len(xs) > 1:
				return "", false
			case len(xs) == 1 && (n == 0 || xs[0] != v):
				v = xs[0]
				n++
			}
		}
	}
	return v, n == 1
}
