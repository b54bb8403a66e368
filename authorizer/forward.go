package authorizer

import "github.com/shortfuse/shortfuse/shared/forwarded"

// NoValue is the context value that stands for "none": a token without a
// session id, username, groups or scope. Context values a backend may
// receive as request headers are never empty, so that API Gateway always
// has a value to overwrite the client's header of the same name with
// (AWS does not document what an "overwrite:" parameter mapping does with
// an empty or missing value; see docs/deploy.md). The encoding is package
// shared/forwarded's, whose FromHeaders decodes it for Go backends.
const NoValue = forwarded.NoValue

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
