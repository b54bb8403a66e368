package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// Signature algorithms, as written in the JOSE "alg" header: tokenspec's
// table, which the verifier uses too.
const (
	RS256 = tokenspec.RS256
	ES256 = tokenspec.ES256
	EdDSA = tokenspec.EdDSA
)

// minRSABits is the smallest RSA modulus accepted, generated or loaded.
const minRSABits = tokenspec.MinRSABits

// Key is one signing key: a public key and, when Private reports true, the
// matching private key.
type Key struct {
	KID string // RFC 7638 JWK thumbprint, base64url SHA-256
	Alg string // RS256, ES256 or EdDSA

	pub    crypto.PublicKey
	signer crypto.Signer // nil for a public-only key

	headers sync.Map // typ -> encoded JWS header followed by "."
}

// Generate returns a new private key for alg: RSA 2048 for RS256, P-256 for
// ES256, Ed25519 for EdDSA.
func Generate(alg string) (*Key, error) {
	var signer crypto.Signer
	var err error
	switch alg {
	case RS256:
		signer, err = rsa.GenerateKey(rand.Reader, minRSABits)
	case ES256:
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("keys: unsupported algorithm %q (want RS256, ES256 or EdDSA)", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: generate %s: %w", alg, err)
	}
	k, err := newKey(signer.Public(), signer, alg)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return k, nil
}

// Public returns the public key: *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// Private reports whether k holds a private key and so can sign.
func (k *Key) Private() bool { return k.signer != nil }

// PublicOnly returns k without its private key, for publishing a retired
// key until the tokens it signed have expired.
func (k *Key) PublicOnly() *Key {
	return &Key{KID: k.KID, Alg: k.Alg, pub: k.pub}
}

// newKey checks that pub (and signer, when not nil) suit alg, derives alg
// when empty, and computes the kid. Its errors have no package prefix.
func newKey(pub crypto.PublicKey, signer crypto.Signer, alg string) (*Key, error) {
	want, err := algFor(pub)
	if err != nil {
		return nil, err
	}
	if alg == "" {
		alg = want
	}
	if alg != want {
		return nil, fmt.Errorf("algorithm %q does not match the key (%s)", alg, want)
	}
	if signer != nil {
		if err := selfTest(signer, pub, alg); err != nil {
			return nil, err
		}
	}
	kid, err := thumbprint(pub)
	if err != nil {
		return nil, err
	}
	return &Key{KID: kid, Alg: alg, pub: pub, signer: signer}, nil
}

// algFor returns the one algorithm used with pub (tokenspec's table) and
// rejects keys that are too weak or of an unsupported type or curve.
func algFor(pub crypto.PublicKey) (string, error) { return tokenspec.AlgorithmFor(pub) }

// selfTest signs and verifies a fixed message, which catches a private key
// whose stored public half does not match it (possible in a hand-edited JWK).
func selfTest(signer crypto.Signer, pub crypto.PublicKey, alg string) error {
	if rk, ok := signer.(*rsa.PrivateKey); ok {
		if err := rk.Validate(); err != nil {
			return fmt.Errorf("invalid RSA private key: %w", err)
		}
		rk.Precompute() // a no-op for keys already precomputed; signing needs it to be fast
	}
	msg := []byte("shortfuse key self-test")
	sig, err := signWith(signer, alg, msg)
	if err != nil {
		return err
	}
	if !verify(pub, alg, msg, sig) {
		return errors.New("private key does not match its public key")
	}
	return nil
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of pub, base64url
// encoded without padding.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	kid, err := thumbprint(pub)
	if err != nil {
		return "", fmt.Errorf("keys: %w", err)
	}
	return kid, nil
}

func thumbprint(pub crypto.PublicKey) (string, error) {
	jk, err := jwk.Import(pub)
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	tp, err := jk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// header returns the encoded JWS header for typ followed by ".", building it
// once per key and typ.
func (k *Key) header(typ string) (string, error) {
	if h, ok := k.headers.Load(typ); ok {
		return h.(string), nil
	}
	b, err := json.Marshal(struct {
		Alg string `json:"alg"`
		KID string `json:"kid"`
		Typ string `json:"typ,omitempty"`
	}{k.Alg, k.KID, typ})
	if err != nil {
		return "", fmt.Errorf("keys: header: %w", err)
	}
	h := base64.RawURLEncoding.EncodeToString(b) + "."
	k.headers.Store(typ, h)
	return h, nil
}

// digest is SHA-256 of msg, the hash every supported algorithm but EdDSA signs.
func digest(msg []byte) []byte {
	h := sha256.Sum256(msg)
	return h[:]
}
