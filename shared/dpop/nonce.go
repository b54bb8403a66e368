package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// NonceHeader is the response header that carries a server nonce.
const NonceHeader = "DPoP-Nonce"

// DefaultNoncePeriod is how often the server nonce changes.
const DefaultNoncePeriod = 5 * time.Minute

// MinNonceKeyBytes is the least key length NewNonces accepts.
const MinNonceKeyBytes = 32

// Nonces issues and checks server nonces (RFC 9449 §8) without storing
// them: a nonce is a period number and its HMAC under a key every container
// shares, so any container accepts a nonce another one issued. A nonce is
// accepted during the period that issued it and the next one, so it lives
// between one and two periods.
type Nonces struct {
	key    []byte
	period time.Duration
	now    func() time.Time
}

// NewNonces returns Nonces keyed with key (at least MinNonceKeyBytes
// bytes, from crypto/rand or a secret store), changing every period
// (default DefaultNoncePeriod). now is the clock; nil means time.Now.
func NewNonces(key []byte, period time.Duration, now func() time.Time) (*Nonces, error) {
	if len(key) < MinNonceKeyBytes {
		return nil, errors.New("dpop: nonce key shorter than 32 bytes")
	}
	if period < 0 {
		return nil, errors.New("dpop: negative nonce period")
	}
	if period == 0 {
		period = DefaultNoncePeriod
	}
	if now == nil {
		now = time.Now
	}
	return &Nonces{key: append([]byte(nil), key...), period: period, now: now}, nil
}

const nonceBytes = 8 + 16

// Current returns the nonce of the current period.
func (n *Nonces) Current() string {
	return n.make(n.bucket())
}

func (n *Nonces) bucket() uint64 { return uint64(n.now().UnixNano() / int64(n.period)) }

func (n *Nonces) make(bucket uint64) string {
	var b [nonceBytes]byte
	binary.BigEndian.PutUint64(b[:8], bucket)
	copy(b[8:], n.mac(b[:8]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (n *Nonces) mac(bucket []byte) []byte {
	m := hmac.New(sha256.New, n.key)
	m.Write([]byte("shortfuse dpop nonce\x00"))
	m.Write(bucket)
	return m.Sum(nil)[:16]
}

// Valid reports whether s is a nonce of the current or the previous period.
func (n *Nonces) Valid(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(nonceBytes) {
		return false
	}
	var b [nonceBytes]byte
	if _, err := base64.RawURLEncoding.Strict().Decode(b[:], []byte(s)); err != nil {
		return false
	}
	if !hmac.Equal(b[8:], n.mac(b[:8])) {
		return false
	}
	got, now := binary.BigEndian.Uint64(b[:8]), n.bucket()
	return got == now || got+1 == now
}
