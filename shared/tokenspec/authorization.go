package tokenspec

import "strings"

// Authorization schemes a credential may use.
const (
	SchemeBearer = "Bearer" // RFC 6750 §2.1
	SchemeDPoP   = "DPoP"   // RFC 9449 §7.1
)

// MaxCredentialBytes bounds the token of an Authorization header; every
// token kind is far smaller (the verifier's own bound is 8 KiB).
const MaxCredentialBytes = 16 << 10

// Credential is a parsed Authorization header value.
type Credential struct {
	Scheme string // SchemeBearer or SchemeDPoP, whatever the casing sent
	Token  string
}

// ParseAuthorization reads an Authorization header value holding one Bearer
// (RFC 6750 §2.1) or DPoP (RFC 9449 §7.1) credential:
//
//	credentials = scheme 1*SP b64token
//	b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// The scheme is matched case-insensitively; spaces and tabs around the
// whole value are ignored, as HTTP ignores them around a field value (RFC
// 9110 §5.5). Anything else is refused: another scheme, a tab or nothing
// between scheme and token, a token with characters outside b64token
// (among them the comma with which API Gateway joins repeated headers, so
// two credentials are never read as one) or longer than MaxCredentialBytes.
func ParseAuthorization(h string) (Credential, bool) {
	h = strings.Trim(h, " \t")
	sp := strings.IndexByte(h, ' ')
	if sp <= 0 {
		return Credential{}, false
	}
	var scheme string
	switch s := h[:sp]; {
	case strings.EqualFold(s, SchemeBearer):
		scheme = SchemeBearer
	case strings.EqualFold(s, SchemeDPoP):
		scheme = SchemeDPoP
	default:
		return Credential{}, false
	}
	tok := strings.TrimLeft(h[sp+1:], " ")
	if !validB64Token(tok) {
		return Credential{}, false
	}
	return Credential{Scheme: scheme, Token: tok}, true
}

// BearerToken is ParseAuthorization for a header that must use the Bearer
// scheme.
func BearerToken(h string) (string, bool) {
	c, ok := ParseAuthorization(h)
	if !ok || c.Scheme != SchemeBearer {
		return "", false
	}
	return c.Token, true
}

// validB64Token applies RFC 6750's b64token (RFC 9110's token68) and the
// length bound.
func validB64Token(tok string) bool {
	if tok == "" || len(tok) > MaxCredentialBytes {
		return false
	}
	end := len(tok)
	for end > 0 && tok[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		if !b64tokenChar[tok[i]] {
			return false
		}
	}
	return true
}

// b64tokenChar holds the characters of a b64token before its padding:
// ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/". A table keeps the
// per-request scan of a token short.
var b64tokenChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
	}
	return t
}()
