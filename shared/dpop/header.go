package dpop

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// Header is the request header that carries a proof.
const Header = "DPoP"

// ProofFromHeader returns the one proof among the values of the DPoP
// header. Zero values, or an empty one, is ErrMissing; several values, or
// one holding a comma (how HTTP APIs join repeated headers), is ErrMultiple:
// RFC 9449 §4.3 allows exactly one.
func ProofFromHeader(values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", ErrMissing
	case 1:
	default:
		return "", ErrMultiple
	}
	v := strings.TrimSpace(values[0])
	switch {
	case v == "":
		return "", ErrMissing
	case strings.IndexByte(v, ',') >= 0:
		return "", ErrMultiple
	}
	return v, nil
}

// AccessTokenHash is the ath of a proof sent with accessToken: base64url
// SHA-256 of its ASCII bytes (RFC 9449 §4.2).
func AccessTokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Challenge is a WWW-Authenticate value for a refusal of a DPoP request
// (RFC 9449 §7.1): the scheme, the allowed algorithms and, when err is not
// nil, its error code and description. code may be "" for a request that
// carried no credential at all.
func Challenge(algs []string, code, description string) string {
	var b strings.Builder
	b.WriteString(`DPoP algs="`)
	b.WriteString(strings.Join(algs, " "))
	b.WriteByte('"')
	if code != "" {
		b.WriteString(`, error="`)
		b.WriteString(code)
		b.WriteByte('"')
		if description != "" {
			b.WriteString(`, error_description="`)
			b.WriteString(quoteSafe(description))
			b.WriteByte('"')
		}
	}
	return b.String()
}

// quoteSafe keeps only characters RFC 6749 allows in error_description
// (%x20-21 / %x23-5B / %x5D-7E): no quote or backslash to escape.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

func subtleEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
