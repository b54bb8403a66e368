package keys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Set is the token service's key set: one active private key that signs,
// and every key that is published in the JWK Set (the active one, the next
// key before it becomes active, previous keys until their tokens expire).
// A Set is immutable and safe for concurrent use.
type Set struct {
	active *Key
	keys   []*Key // active first, then in document order
	jwks   []byte
}

// NewSet builds a Set from ks. Keys with the same kid are merged (the
// private one wins). activeKID names the signing key; it may be empty when
// exactly one key is private.
func NewSet(activeKID string, ks ...*Key) (*Set, error) {
	var list []*Key
	byKID := make(map[string]int, len(ks))
	for _, k := range ks {
		if k == nil {
			return nil, errors.New("keys: nil key")
		}
		if i, ok := byKID[k.KID]; ok {
			if !list[i].Private() && k.Private() {
				list[i] = k
			}
			continue
		}
		byKID[k.KID] = len(list)
		list = append(list, k)
	}
	var active *Key
	if activeKID != "" {
		i, ok := byKID[activeKID]
		if !ok {
			return nil, fmt.Errorf("keys: active key %q is not in the key set", activeKID)
		}
		if !list[i].Private() {
			return nil, fmt.Errorf("keys: active key %q has no private key", activeKID)
		}
		active = list[i]
	} else {
		var private []string
		for _, k := range list {
			if k.Private() {
				private = append(private, k.KID)
				active = k
			}
		}
		switch len(private) {
		case 0:
			return nil, errors.New("keys: no private key in the key set")
		case 1:
		default:
			return nil, fmt.Errorf("keys: %d private keys %q and no active kid: name the signing key", len(private), private)
		}
	}
	ordered := make([]*Key, 0, len(list))
	ordered = append(ordered, active)
	for _, k := range list {
		if k != active {
			ordered = append(ordered, k)
		}
	}
	jwks, err := publicJWKS(ordered)
	if err != nil {
		return nil, err
	}
	return &Set{active: active, keys: ordered, jwks: jwks}, nil
}

// Active returns the signing key.
func (s *Set) Active() *Key { return s.active }

// Keys returns every key of the set, the active one first.
func (s *Set) Keys() []*Key { return append([]*Key(nil), s.keys...) }

// JWKS returns the public JWK Set of every key: kid, kty, alg, use "sig"
// and the public parameters. It is computed once; callers must not modify it.
func (s *Set) JWKS() []byte { return s.jwks }

// publicJWKS renders the public halves of ks as a JWK Set.
func publicJWKS(ks []*Key) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"keys":[`)
	for i, k := range ks {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := marshalJWK(k, false)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	buf.WriteString("]}")
	return buf.Bytes(), nil
}

// marshalJWK renders k as a JWK with kid, alg and use "sig", including the
// private parameters when private is true.
func marshalJWK(k *Key, private bool) ([]byte, error) {
	var raw any = k.pub
	if private {
		if k.signer == nil {
			return nil, fmt.Errorf("keys: key %s has no private key", k.KID)
		}
		raw = k.signer
	}
	jk, err := jwk.Import(raw)
	if err != nil {
		return nil, fmt.Errorf("keys: jwk: %w", err)
	}
	for name, v := range map[string]string{jwk.KeyIDKey: k.KID, jwk.AlgorithmKey: k.Alg, jwk.KeyUsageKey: "sig"} {
		if err := jk.Set(name, v); err != nil {
			return nil, fmt.Errorf("keys: jwk %s: %w", name, err)
		}
	}
	b, err := json.Marshal(jk)
	if err != nil {
		return nil, fmt.Errorf("keys: jwk: %w", err)
	}
	return b, nil
}

// MarshalPrivateJWK renders k, which must hold a private key, as a private
// JWK with kid, alg and use "sig". The result is secret.
func MarshalPrivateJWK(k *Key) ([]byte, error) { return marshalJWK(k, true) }

// MarshalJWKSet renders ks as a JWK Set, each key private when it holds a
// private key and public otherwise: the document to store for [Load]
// during a rotation. The result is secret when any key is private.
func MarshalJWKSet(ks ...*Key) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"keys":[`)
	for i, k := range ks {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := marshalJWK(k, k.Private())
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	buf.WriteString("]}")
	return buf.Bytes(), nil
}
