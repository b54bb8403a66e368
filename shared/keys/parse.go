package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// maxDocument bounds a key document; a JWK Set of a few keys is a few KiB.
const maxDocument = 1 << 20

// ParseSet parses a key document (PEM, JWK or JWK Set, see the package
// documentation) into a Set whose signing key is activeKID, or the only
// private key when activeKID is empty. Error messages never include key
// material.
func ParseSet(data []byte, activeKID string) (*Set, error) {
	ks, err := ParseKeys(data)
	if err != nil {
		return nil, err
	}
	return NewSet(activeKID, ks...)
}

// ParseKeys parses every key of a key document without choosing an active
// one.
func ParseKeys(data []byte) ([]*Key, error) {
	if len(data) > maxDocument {
		return nil, errors.New("keys: key document larger than 1 MiB")
	}
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return nil, errors.New("keys: empty key document")
	case bytes.HasPrefix(data, []byte("-----BEGIN ")):
		return parsePEM(data)
	case data[0] == '{':
		return parseJWK(data)
	default:
		return nil, errors.New("keys: key document is neither PEM nor JSON (JWK or JWK Set)")
	}
}

// parsePEM reads consecutive PEM blocks.
func parsePEM(data []byte) ([]*Key, error) {
	var ks []*Key
	for rest := data; len(bytes.TrimSpace(rest)) > 0; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("keys: malformed PEM")
		}
		if len(block.Headers) > 0 {
			return nil, fmt.Errorf("keys: PEM block %q has headers: encrypted keys are not supported", block.Type)
		}
		var signer crypto.Signer
		var pub crypto.PublicKey
		switch block.Type {
		case "EC PARAMETERS":
			continue // written by `openssl ecparam -genkey` ahead of the key
		case "PRIVATE KEY":
			raw, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("keys: PKCS#8 private key: %w", err)
			}
			s, ok := raw.(crypto.Signer)
			if !ok || isECDH(raw) {
				return nil, fmt.Errorf("keys: PKCS#8 key of type %T cannot sign", raw)
			}
			signer = s
		case "RSA PRIVATE KEY":
			raw, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("keys: PKCS#1 private key: %w", err)
			}
			signer = raw
		case "EC PRIVATE KEY":
			raw, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("keys: SEC1 private key: %w", err)
			}
			signer = raw
		case "PUBLIC KEY":
			raw, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("keys: public key: %w", err)
			}
			pub = raw
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("keys: encrypted private keys are not supported")
		default:
			return nil, fmt.Errorf("keys: unsupported PEM block %q", block.Type)
		}
		if signer != nil {
			pub = signer.Public()
		}
		k, err := newKey(pub, signer, "")
		if err != nil {
			return nil, fmt.Errorf("keys: PEM block %q: %w", block.Type, err)
		}
		ks = append(ks, k)
	}
	if len(ks) == 0 {
		return nil, errors.New("keys: no key in PEM document")
	}
	return ks, nil
}

func isECDH(raw any) bool {
	_, ok := raw.(*ecdh.PrivateKey)
	return ok
}

// parseJWK reads a JWK or a JWK Set.
func parseJWK(data []byte) ([]*Key, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, errors.New("keys: key document is not a JSON object")
	}
	var list []jwk.Key
	if _, isSet := probe["keys"]; isSet {
		set, err := jwk.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("keys: JWK Set: %w", err)
		}
		for i := range set.Len() {
			jk, _ := set.Key(i)
			list = append(list, jk)
		}
	} else {
		jk, err := jwk.ParseKey(data)
		if err != nil {
			return nil, fmt.Errorf("keys: JWK: %w", err)
		}
		list = append(list, jk)
	}
	if len(list) == 0 {
		return nil, errors.New("keys: JWK Set holds no key")
	}
	ks := make([]*Key, 0, len(list))
	for i, jk := range list {
		k, err := fromJWK(jk)
		if err != nil {
			return nil, fmt.Errorf("keys: JWK #%d: %w", i, err)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// fromJWK converts one JWK, checking use, alg and that kid, when present,
// is the thumbprint.
func fromJWK(jk jwk.Key) (*Key, error) {
	if use, ok := jk.KeyUsage(); ok && use != "sig" {
		return nil, fmt.Errorf("use %q, want \"sig\"", use)
	}
	alg := ""
	if a, ok := jk.Algorithm(); ok {
		alg = a.String()
		if _, isSig := jwa.LookupSignatureAlgorithm(alg); !isSig {
			return nil, fmt.Errorf("alg %q is not a signature algorithm", alg)
		}
	}
	private, err := jwk.IsPrivateKey(jk)
	if err != nil {
		return nil, fmt.Errorf("key type %s: %w", jk.KeyType(), err)
	}
	var raw any
	if err := jwk.Export(jk, &raw); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var signer crypto.Signer
	var pub crypto.PublicKey = raw
	if private {
		s, ok := raw.(crypto.Signer)
		if !ok || isECDH(raw) {
			return nil, fmt.Errorf("private key of type %T cannot sign", raw)
		}
		signer, pub = s, s.Public()
	}
	k, err := newKey(pub, signer, alg)
	if err != nil {
		return nil, err
	}
	if kid, ok := jk.KeyID(); ok && kid != k.KID {
		return nil, fmt.Errorf("kid %q is not the key's RFC 7638 thumbprint %q", kid, k.KID)
	}
	return k, nil
}
