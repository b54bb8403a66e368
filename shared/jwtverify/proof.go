package jwtverify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
)

// Proof is a verified DPoP proof (RFC 9449): a JWS signed by the public key
// it carries in its jwk header. ParseProof checks the JWS and the key; the
// RFC 9449 rules about the request (htm, htu, iat, jti, ath, nonce) are the
// caller's (package dpop).
type Proof struct {
	Typ string // typ header, as written
	Key Key    // the jwk header's public key and the proof's algorithm
	JKT string // RFC 7638 SHA-256 thumbprint of Key, base64url

	HTM      string
	HTU      string
	JTI      string
	ATH      string
	Nonce    string
	IssuedAt time.Time // zero when iat is absent
}

// DefaultMaxProofBytes bounds a proof: an RSA-4096 key and signature with a
// URL of about 1 KiB fit.
const DefaultMaxProofBytes = 4096

// Header and proof bounds: a jwk of RSA 4096 is ~730 bytes of JSON.
const (
	maxProofHeader = 1024
	maxProofClaims = 2048
	maxRSABits     = 4096
)

// ErrProofType refuses a proof whose typ header is not the one asked for;
// it wraps ErrHeader.
var ErrProofType = fmt.Errorf("%w: wrong typ", ErrHeader)

// ParseProof checks a compact JWS whose key is its own jwk header: its typ
// is typ (compared as media types), the algorithm is one of algs (RS256, ES256, EdDSA) and fits the key, the jwk
// holds a supported public key and no private member, and the signature
// verifies. Other key-naming headers (kid is tolerated, jku, x5u, x5c) and
// crit are refused. Errors wrap the package's Err values, as Verify's do.
func ParseProof(token, typ string, algs []string, maxBytes int) (*Proof, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxProofBytes
	}
	if len(token) > maxBytes {
		return nil, ErrTooLarge
	}
	i, j, err := splitCompact(token)
	if err != nil {
		return nil, err
	}
	buf := []byte(token)

	var hdrBuf [maxProofHeader]byte
	if b64.DecodedLen(i) > len(hdrBuf) {
		return nil, fmt.Errorf("%w: header too long", ErrMalformed)
	}
	n, err := b64.Decode(hdrBuf[:], buf[:i])
	if err != nil {
		return nil, fmt.Errorf("%w: header is not base64url", ErrMalformed)
	}
	h, err := parseProofHeader(string(hdrBuf[:n]))
	if err != nil {
		return nil, err
	}
	if !h.hasTyp || !matchType(h.typ, typ) {
		return nil, fmt.Errorf("%w: %.32q", ErrProofType, h.typ)
	}
	if !slices.Contains(algs, h.alg) {
		return nil, fmt.Errorf("%w: %.16q", ErrAlgorithm, h.alg)
	}
	if !h.hasJWK {
		return nil, fmt.Errorf("%w: header has no jwk", ErrHeader)
	}
	key, err := h.jwk.key()
	if err != nil {
		return nil, err
	}
	if key.Alg != h.alg {
		return nil, fmt.Errorf("%w: jwk is a %s key, proof says %.16q", ErrAlgorithm, key.Alg, h.alg)
	}

	var sigBuf [maxSigBytes]byte
	if b64.DecodedLen(len(buf)-j-1) > len(sigBuf) {
		return nil, fmt.Errorf("%w: signature too long", ErrSignature)
	}
	n, err = b64.Decode(sigBuf[:], buf[j+1:])
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	}
	if err := verifySignature(key, buf[:j], sigBuf[:n]); err != nil {
		return nil, err
	}

	var payloadBuf [maxProofClaims]byte
	if b64.DecodedLen(j-i-1) > len(payloadBuf) {
		return nil, fmt.Errorf("%w: claims too long", ErrMalformed)
	}
	n, err = b64.Decode(payloadBuf[:], buf[i+1:j])
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	p := &Proof{Typ: h.typ, Key: key, JKT: h.jwk.thumbprint()}
	if err := parseProofClaims(string(payloadBuf[:n]), p); err != nil {
		return nil, err
	}
	return p, nil
}

// proofHeader is what ParseProof reads of a proof's protected header.
type proofHeader struct {
	alg, typ       string
	hasTyp, hasJWK bool
	jwk            proofJWK
}

// proofJWK holds the members of a jwk header that define a public key.
type proofJWK struct {
	kty, crv, x, y, n, e string
}

func parseProofHeader(b string) (proofHeader, error) {
	var h proofHeader
	var seen uint8
	s := scanner{b: b}
	err := s.object(func(name string) error {
		var bit uint8
		var dst *string
		switch name {
		case "alg":
			bit, dst = 1, &h.alg
		case "typ":
			bit, dst = 2, &h.typ
		case "jwk":
			if err := markOnce(&seen, 4, "header parameter", name); err != nil {
				return err
			}
			return s.proofJWK(&h.jwk)
		case "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "cty", "b64", "zip", "enc":
			return fmt.Errorf("%w: header parameter %q", ErrHeader, name)
		default:
			return s.skip(0)
		}
		return s.onceString(&seen, bit, "header parameter", name, dst)
	})
	if err := headerObjectErr(err); err != nil {
		return h, err
	}
	if seen&1 == 0 {
		return h, fmt.Errorf("%w: header has no alg", ErrMalformed)
	}
	h.hasTyp, h.hasJWK = seen&2 != 0, seen&4 != 0
	return h, nil
}

// proofJWK reads the jwk header's object. Private key members are refused:
// a client that sends them has leaked its key.
func (s *scanner) proofJWK(k *proofJWK) error {
	if s.peek() != '{' {
		return fmt.Errorf("%w: jwk is not an object", ErrHeader)
	}
	var seen uint8
	err := s.members(func(name string) error {
		var bit uint8
		var dst *string
		switch name {
		case "kty":
			bit, dst = 1, &k.kty
		case "crv":
			bit, dst = 2, &k.crv
		case "x":
			bit, dst = 4, &k.x
		case "y":
			bit, dst = 8, &k.y
		case "n":
			bit, dst = 16, &k.n
		case "e":
			bit, dst = 32, &k.e
		case "d", "p", "q", "dp", "dq", "qi", "oth", "k":
			return fmt.Errorf("%w: jwk holds the private member %q", ErrHeader, name)
		default:
			return s.skip(1)
		}
		return s.onceString(&seen, bit, "jwk member", name, dst)
	})
	return err
}

// key builds the public key the jwk describes. Coordinates and the modulus
// must have their canonical lengths (RFC 7518 §6), so that the thumbprint,
// computed from the members as written, is the key's only thumbprint.
func (k *proofJWK) key() (Key, error) {
	bad := func(why string) (Key, error) {
		return Key{}, fmt.Errorf("%w: jwk %s", ErrHeader, why)
	}
	switch k.kty {
	case "EC":
		if k.crv != "P-256" || k.n != "" || k.e != "" {
			return bad("is not a P-256 key")
		}
		var pt [65]byte
		pt[0] = 4
		if b64.DecodedLen(len(k.x)) != 32 || b64.DecodedLen(len(k.y)) != 32 {
			return bad("coordinates are not 32 bytes")
		}
		if n, err := b64.Decode(pt[1:33], []byte(k.x)); err != nil || n != 32 {
			return bad("x is not base64url")
		}
		if n, err := b64.Decode(pt[33:], []byte(k.y)); err != nil || n != 32 {
			return bad("y is not base64url")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt[:])
		if err != nil {
			return bad("is not a point on P-256")
		}
		return Key{Public: pub, Alg: ES256}, nil
	case "OKP":
		if k.crv != "Ed25519" || k.y != "" || k.n != "" || k.e != "" {
			return bad("is not an Ed25519 key")
		}
		if b64.DecodedLen(len(k.x)) != ed25519.PublicKeySize {
			return bad("x is not 32 bytes")
		}
		pub := make(ed25519.PublicKey, ed25519.PublicKeySize)
		if _, err := b64.Decode(pub, []byte(k.x)); err != nil {
			return bad("x is not base64url")
		}
		return Key{Public: pub, Alg: EdDSA}, nil
	case "RSA":
		if k.crv != "" || k.x != "" || k.y != "" {
			return bad("mixes RSA and other members")
		}
		if b64.DecodedLen(len(k.n)) > maxRSABits/8 || len(k.e) > 6 {
			return bad("modulus or exponent too large")
		}
		nb, err1 := b64.DecodeString(k.n)
		eb, err2 := b64.DecodeString(k.e)
		if err1 != nil || err2 != nil || len(nb) == 0 || len(eb) == 0 || nb[0] == 0 || eb[0] == 0 {
			return bad("n or e is not a minimal base64url integer")
		}
		e := 0
		for _, c := range eb {
			e = e<<8 | int(c)
		}
		if e < 3 || e%2 == 0 {
			return bad("exponent is not an odd number >= 3")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: e}
		if pub.N.BitLen() < minRSABits {
			return bad(fmt.Sprintf("modulus shorter than %d bits", minRSABits))
		}
		return Key{Public: pub, Alg: RS256}, nil
	case "":
		return bad("has no kty")
	default:
		return bad("kty is not supported")
	}
}

// thumbprint is the RFC 7638 thumbprint of a jwk key() accepted: SHA-256
// of its required members in lexicographic order, with no whitespace.
// Base64url strings need no JSON escaping, so they are written as they are.
func (k *proofJWK) thumbprint() string {
	var buf [800]byte
	b := buf[:0]
	switch k.kty {
	case "EC":
		b = append(b, `{"crv":"`...)
		b = append(b, k.crv...)
		b = append(b, `","kty":"EC","x":"`...)
		b = append(b, k.x...)
		b = append(b, `","y":"`...)
		b = append(b, k.y...)
	case "OKP":
		b = append(b, `{"crv":"`...)
		b = append(b, k.crv...)
		b = append(b, `","kty":"OKP","x":"`...)
		b = append(b, k.x...)
	case "RSA":
		b = append(b, `{"e":"`...)
		b = append(b, k.e...)
		b = append(b, `","kty":"RSA","n":"`...)
		b = append(b, k.n...)
	}
	b = append(b, `"}`...)
	sum := sha256.Sum256(b)
	return b64.EncodeToString(sum[:])
}

// parseProofClaims reads a proof's claims into p. Claims other than those
// RFC 9449 defines are ignored; a defined claim that appears twice or has
// the wrong type is an error.
func parseProofClaims(b string, p *Proof) error {
	var seen uint8
	s := scanner{b: b}
	err := s.object(func(name string) error {
		var bit uint8
		var dst *string
		switch name {
		case "htm":
			bit, dst = 1, &p.HTM
		case "htu":
			bit, dst = 2, &p.HTU
		case "jti":
			bit, dst = 4, &p.JTI
		case "ath":
			bit, dst = 8, &p.ATH
		case "nonce":
			bit, dst = 16, &p.Nonce
		case "iat":
			bit = 32
		default:
			return s.skip(0)
		}
		if seen&bit != 0 {
			return fmt.Errorf("%w: duplicate claim %q", ErrClaims, name)
		}
		seen |= bit
		var err error
		if dst != nil {
			*dst, err = s.str()
		} else {
			p.IssuedAt, err = s.numericDate()
		}
		if errors.Is(err, errType) {
			return fmt.Errorf("%w: claim %q has the wrong type", ErrClaims, name)
		}
		return err
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrClaims):
		return err
	default:
		return fmt.Errorf("%w: claims are not a JSON object", ErrMalformed)
	}
}
