package tokensvc

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// A refresh token is "<sid>.<secret>": the session id (128 random bits) and a
// secret (256 random bits), both base64url without padding. Only SHA-256 of
// the secret is stored, so a copy of the table cannot be used to refresh.
const (
	sidBytes      = 16
	secretBytes   = 32
	sidChars      = 22 // base64url length of sidBytes
	secretChars   = 43 // base64url length of secretBytes
	refreshLength = sidChars + 1 + secretChars
)

var b64 = base64.RawURLEncoding.Strict()

// newID returns n random bytes, base64url encoded.
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b64.EncodeToString(b)
}

// newRefreshToken returns a refresh token for session sid and the hash to store.
func newRefreshToken(sid string) (token string, hash []byte) {
	secret := make([]byte, secretBytes)
	_, _ = rand.Read(secret)
	sum := sha256.Sum256(secret)
	return sid + "." + b64.EncodeToString(secret), sum[:]
}

// parseRefreshToken splits a refresh token into its session id and the hash
// of its secret. ok is false for anything that is not exactly that shape.
func parseRefreshToken(tok string) (sid string, hash []byte, ok bool) {
	if len(tok) != refreshLength || tok[sidChars] != '.' {
		return "", nil, false
	}
	sid = tok[:sidChars]
	if raw, err := b64.DecodeString(sid); err != nil || len(raw) != sidBytes {
		return "", nil, false
	}
	secret, err := b64.DecodeString(tok[sidChars+1:])
	if err != nil || len(secret) != secretBytes {
		return "", nil, false
	}
	sum := sha256.Sum256(secret)
	return sid, sum[:], true
}

// validSessionID reports whether id has the shape of a session id.
func validSessionID(id string) bool {
	if len(id) != sidChars {
		return false
	}
	raw, err := b64.DecodeString(id)
	return err == nil && len(raw) == sidBytes
}

// looksLikeJWT reports whether tok has the three dot-separated parts of a
// compact JWS.
func looksLikeJWT(tok string) bool { return strings.Count(tok, ".") == 2 }
