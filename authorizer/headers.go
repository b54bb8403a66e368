package authorizer

import "strings"

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
