package jwtverify

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// Supported signature algorithms: tokenspec's table.
const (
	RS256 = tokenspec.RS256
	ES256 = tokenspec.ES256
	EdDSA = tokenspec.EdDSA
)

// minRSABits is the smallest RSA modulus trusted.
const minRSABits = tokenspec.MinRSABits

// Key is a verification key and the one algorithm it may be used with.
type Key struct {
	Public crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey (P-256) or ed25519.PublicKey
	Alg    string           // RS256, ES256 or EdDSA
}

// KeySource finds the key for a kid. It fails with an error wrapping
// ErrUnknownKey when it has keys but none with that kid, and
// ErrKeysUnavailable when it has no keys at all.
type KeySource interface {
	Key(ctx context.Context, kid string) (Key, error)
}

// ParseJWKS parses a JWK Set into verification keys by kid. Every key needs
// a kid, unique in the set. Keys whose use is not "sig", or whose type, curve
// or alg is not supported, are skipped; a set holding private key material,
// or no usable key, is an error. The algorithm comes from the JWK's alg, or
// from its type when alg is absent.
func ParseJWKS(data []byte) (map[string]Key, error) {
	// jwk.Parse would accept a bare JWK, and fail the whole set on one key
	// it cannot parse; parse the set's keys one by one instead.
	var doc map[string]json.RawMessage
	var list []json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil || json.Unmarshal(doc["keys"], &list) != nil || list == nil {
		return nil, errors.New("jwks: not a JWK Set")
	}
	out := make(map[string]Key, len(list))
	for i, raw := range list {
		jk, err := jwk.ParseKey(raw)
		if err != nil {
			continue // an unsupported or invalid key; the others may do
		}
		kid, ok := jk.KeyID()
		if !ok || kid == "" {
			return nil, fmt.Errorf("jwks: key #%d has no kid", i)
		}
		if _, dup := out[kid]; dup {
			return nil, fmt.Errorf("jwks: kid %q appears twice", kid)
		}
		if private, err := jwk.IsPrivateKey(jk); err == nil && private {
			return nil, fmt.Errorf("jwks: key %q holds private key material", kid)
		}
		if use, ok := jk.KeyUsage(); ok && use != "sig" {
			continue
		}
		var raw any
		if err := jwk.Export(jk, &raw); err != nil {
			continue
		}
		alg := ""
		if a, ok := jk.Algorithm(); ok {
			alg = a.String()
		}
		k, ok := keyFor(raw, alg)
		if !ok {
			continue
		}
		out[kid] = k
	}
	if len(out) == 0 {
		return nil, errors.New("jwks: no usable signing key")
	}
	return out, nil
}

// keyFor pairs a public key with its algorithm, checking that alg (when
// given) fits the key; ok is false for anything unsupported.
func keyFor(pub any, alg string) (Key, bool) {
	want, err := tokenspec.AlgorithmFor(pub)
	if err != nil || (alg != "" && alg != want) {
		return Key{}, false
	}
	return Key{Public: pub, Alg: want}, true
}

// StaticJWKS is a fixed set of keys, for a JWK Set known at start-up.
type StaticJWKS struct {
	keys map[string]Key
}

// NewStaticJWKS parses jwks with [ParseJWKS].
func NewStaticJWKS(jwks []byte) (*StaticJWKS, error) {
	keys, err := ParseJWKS(jwks)
	if err != nil {
		return nil, err
	}
	return &StaticJWKS{keys: keys}, nil
}

// Key implements KeySource.
func (s *StaticJWKS) Key(_ context.Context, kid string) (Key, error) {
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	return Key{}, ErrUnknownKey
}
