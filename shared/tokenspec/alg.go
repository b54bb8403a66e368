package tokenspec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
)

// Signature algorithms, as written in the JOSE "alg" header. The table is
// the one pairing of key and algorithm shortfuse knows: the signing keys
// (shared/keys), the verifier (shared/jwtverify) and DPoP proofs use it.
const (
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, RSA of at least MinRSABits
	ES256 = "ES256" // ECDSA P-256 with SHA-256, signature as JOSE r||s
	EdDSA = "EdDSA" // Ed25519
)

// MinRSABits is the smallest RSA modulus trusted, to sign or to verify.
const MinRSABits = 2048

// Algorithms lists every supported algorithm.
var Algorithms = []string{RS256, ES256, EdDSA}

// Supported reports whether alg is in the table.
func Supported(alg string) bool { return alg == RS256 || alg == ES256 || alg == EdDSA }

// AlgorithmFor returns the one algorithm used with pub, and refuses a key
// that is too weak or of an unsupported type or curve: RSA of at least
// MinRSABits is RS256, ECDSA P-256 is ES256, Ed25519 is EdDSA.
func AlgorithmFor(pub crypto.PublicKey) (string, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p == nil || p.N == nil || p.N.BitLen() < MinRSABits {
			return "", fmt.Errorf("RSA key shorter than %d bits", MinRSABits)
		}
		return RS256, nil
	case *ecdsa.PublicKey:
		if p == nil || p.Curve != elliptic.P256() {
			return "", errors.New("ECDSA key is not on P-256")
		}
		return ES256, nil
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return "", errors.New("malformed Ed25519 public key")
		}
		return EdDSA, nil
	default:
		return "", fmt.Errorf("unsupported key type %T", pub)
	}
}
