package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// es256Size is the length of one ES256 signature half (r or s).
const es256Size = 32

// Sign returns a compact JWS of claims signed with the active key. The
// header is {"alg","kid","typ"}, typ omitted when empty; claims are
// marshalled with encoding/json.
func (s *Set) Sign(typ string, claims any) (string, error) {
	k := s.active
	hdr, err := k.header(typ)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("keys: marshal claims: %w", err)
	}
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(hdr)+enc.EncodedLen(len(payload))+1+enc.EncodedLen(sigSize(k)))
	buf = append(buf, hdr...)
	buf = enc.AppendEncode(buf, payload)
	sig, err := signWith(k.signer, k.Alg, buf)
	if err != nil {
		return "", fmt.Errorf("keys: %w", err)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// sigSize is the length of a signature made with k.
func sigSize(k *Key) int {
	switch p := k.pub.(type) {
	case *rsa.PublicKey:
		return p.Size()
	case *ecdsa.PublicKey:
		return 2 * es256Size
	default:
		return ed25519.SignatureSize
	}
}

// signWith signs msg (the JWS signing input) for alg. Its errors have no
// package prefix.
func signWith(signer crypto.Signer, alg string, msg []byte) ([]byte, error) {
	switch p := signer.(type) {
	case *rsa.PrivateKey:
		if alg != RS256 {
			break
		}
		sig, err := rsa.SignPKCS1v15(nil, p, crypto.SHA256, digest(msg))
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		return sig, nil
	case *ecdsa.PrivateKey:
		if alg != ES256 {
			break
		}
		r, s, err := ecdsa.Sign(rand.Reader, p, digest(msg))
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		// JOSE wants fixed-size big-endian r||s, not ASN.1 (RFC 7518 §3.4).
		sig := make([]byte, 2*es256Size)
		r.FillBytes(sig[:es256Size])
		s.FillBytes(sig[es256Size:])
		return sig, nil
	case ed25519.PrivateKey:
		if alg != EdDSA {
			break
		}
		return ed25519.Sign(p, msg), nil
	}
	return nil, errors.New("key cannot sign with " + alg)
}

// verify checks sig over msg; keys only needs it to test loaded keys.
func verify(pub crypto.PublicKey, alg string, msg, sig []byte) bool {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return alg == RS256 && rsa.VerifyPKCS1v15(p, crypto.SHA256, digest(msg), sig) == nil
	case *ecdsa.PublicKey:
		if alg != ES256 || len(sig) != 2*es256Size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:es256Size])
		s := new(big.Int).SetBytes(sig[es256Size:])
		return ecdsa.Verify(p, digest(msg), r, s)
	case ed25519.PublicKey:
		return alg == EdDSA && ed25519.Verify(p, msg, sig)
	}
	return false
}
