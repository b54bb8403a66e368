package dpop

import (
	"errors"
	"strconv"
	"strings"
)

// maxURL bounds a URL NormalizeURL reads.
const maxURL = 2048

var errURL = errors.New("not an absolute http(s) URL")

// NormalizeURL returns the form of an http or https URL that htu
// comparisons use (RFC 9449 §4.3 step 9 with the syntax- and scheme-based
// normalisation of RFC 3986 §6.2.2 and §6.2.3): query and fragment dropped,
// scheme and host in lower case, the scheme's default port dropped, an empty
// path written "/", percent-encodings in upper case and those of unreserved
// characters decoded. Path case, a trailing slash and dot segments are kept
// as they are, so "/a", "/a/" and "/b/../a" are three different URLs. A URL
// with user information, another scheme, no host, a bad port or a bad
// escape is an error.
func NormalizeURL(raw string) (string, error) {
	if len(raw) > maxURL {
		return "", errURL
	}
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", errURL
	}
	scheme = strings.ToLower(scheme)
	var defPort string
	switch scheme {
	case "https":
		defPort = "443"
	case "http":
		defPort = "80"
	default:
		return "", errURL
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if strings.IndexByte(authority, '@') >= 0 {
		return "", errURL
	}
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.HasSuffix(authority, "]") {
		host, port = authority[:i], authority[i+1:]
	}
	if host == "" || !validHost(host) {
		return "", errURL
	}
	if port != "" {
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return "", errURL
		}
		port = strconv.FormatUint(p, 10)
		if port == defPort {
			port = ""
		}
	}
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(authority) + len(path) + 1)
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(strings.ToLower(host))
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	if path == "" {
		b.WriteByte('/')
	}
	if err := writePath(&b, path); err != nil {
		return "", err
	}
	return b.String(), nil
}

// validHost accepts a reg-name or an IP literal in brackets, without
// percent-encoding (a host name never needs it).
func validHost(h string) bool {
	if h[0] == '[' {
		return len(h) > 2 && h[len(h)-1] == ']' && strings.Trim(h[1:len(h)-1], "0123456789abcdefABCDEF:.") == ""
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(isAlnum(c) || strings.IndexByte("-._~!$&'()*+;=", c) >= 0) {
			return false
		}
	}
	return true
}

// writePath writes path with its percent-encoding normalised. Characters
// outside RFC 3986's pchar and "/" are refused rather than guessed at.
func writePath(b *strings.Builder, path string) error {
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '%':
			if i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2]) {
				return errURL
			}
			v := unhex(path[i+1])<<4 | unhex(path[i+2])
			if isUnreserved(v) {
				b.WriteByte(v)
			} else {
				b.WriteByte('%')
				b.WriteByte(upperHex(path[i+1]))
				b.WriteByte(upperHex(path[i+2]))
			}
			i += 2
		case isUnreserved(c) || c == '/' || strings.IndexByte("!$&'()*+,;=:@", c) >= 0:
			b.WriteByte(c)
		default:
			return errURL
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isUnreserved(c byte) bool { return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' }

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}
