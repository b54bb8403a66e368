package jwtverify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// Defaults for Config.
const (
	DefaultLeeway        = 30 * time.Second
	DefaultMaxTokenBytes = 8192
)

// Config says which tokens a Verifier accepts.
type Config struct {
	Keys   KeySource // required
	Issuer string    // required; iss must equal it

	Audiences []string // when non-empty, aud must contain one of them
	// NoAudience: aud must be absent (Cognito access tokens carry none).
	NoAudience bool
	ClientIDs  []string // when non-empty, client_id must be one of them
	// RequireUsername: username must be present and non-empty.
	RequireUsername bool

	// TokenUse is the required token_use claim ("id" for Cognito ID
	// tokens); empty means token_use must be absent.
	TokenUse string
	// Type is the required typ header ("at+jwt"; "application/at+jwt" and
	// any casing also match). Empty means typ must be absent or "JWT", so a
	// verifier for one token kind never accepts the other.
	Type string

	Algorithms    []string      // allowed: RS256, ES256, EdDSA; default {"RS256"}
	Leeway        time.Duration // clock skew allowed on exp, nbf, iat; default DefaultLeeway
	MaxAge        time.Duration // > 0: refuse tokens issued longer ago than this
	MaxTokenBytes int           // default DefaultMaxTokenBytes
	Now           func() time.Time
}

// Verifier checks tokens against a Config. It is safe for concurrent use.
type Verifier struct {
	keys      KeySource
	issuer    string
	audiences []string
	noAud     bool
	needUser  bool
	clientIDs []string
	tokenUse  string
	typ       string
	algs      []string
	leeway    time.Duration
	maxAge    time.Duration
	maxBytes  int
	now       func() time.Time
}

// New checks cfg and returns a Verifier.
func New(cfg Config) (*Verifier, error) {
	if cfg.Keys == nil {
		return nil, errors.New("jwtverify: Config.Keys is required")
	}
	if cfg.Issuer == "" {
		return nil, errors.New("jwtverify: Config.Issuer is required")
	}
	if cfg.Leeway < 0 || cfg.MaxAge < 0 || cfg.MaxTokenBytes < 0 {
		return nil, errors.New("jwtverify: Leeway, MaxAge and MaxTokenBytes must not be negative")
	}
	v := &Verifier{
		keys:      cfg.Keys,
		issuer:    cfg.Issuer,
		audiences: slices.Clone(cfg.Audiences),
		noAud:     cfg.NoAudience,
		needUser:  cfg.RequireUsername,
		clientIDs: slices.Clone(cfg.ClientIDs),
		tokenUse:  cfg.TokenUse,
		typ:       cfg.Type,
		algs:      []string{RS256},
		leeway:    cfg.Leeway,
		maxAge:    cfg.MaxAge,
		maxBytes:  cfg.MaxTokenBytes,
		now:       cfg.Now,
	}
	if len(cfg.Algorithms) > 0 {
		v.algs = nil
		for _, a := range cfg.Algorithms {
			if !tokenspec.Supported(a) {
				return nil, fmt.Errorf("jwtverify: algorithm %q not supported (want RS256, ES256 or EdDSA)", a)
			}
			v.algs = append(v.algs, a)
		}
	}
	if v.noAud && len(v.audiences) > 0 {
		return nil, errors.New("jwtverify: NoAudience with Audiences")
	}
	if v.typ != "" && matchType(v.typ, "JWT") {
		return nil, errors.New(`jwtverify: Config.Type "JWT" is the default; leave it empty`)
	}
	if v.leeway == 0 {
		v.leeway = DefaultLeeway
	}
	if v.maxBytes == 0 {
		v.maxBytes = DefaultMaxTokenBytes
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// b64 decodes JWS segments: base64url without padding, canonical (unused
// bits zero). CR and LF, which the decoder would skip, are refused before.
var b64 = base64.RawURLEncoding.Strict()

// maxSigBytes bounds a decoded signature (RSA 4096).
const maxSigBytes = 512

// splitCompact finds the two dots of a compact JWS: the header is
// token[:i], the payload token[i+1:j], the signature token[j+1:]. Header
// and payload must be non-empty; an empty signature is let through to fail
// on the algorithm (alg "none") or the signature check, which says more
// than "malformed". Line breaks, which base64url decoders may skip, are
// refused.
func splitCompact(token string) (i, j int, err error) {
	i = strings.IndexByte(token, '.')
	if i <= 0 {
		return 0, 0, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	j = strings.IndexByte(token[i+1:], '.') + i + 1
	if j <= i+1 || strings.IndexByte(token[j+1:], '.') >= 0 {
		return 0, 0, fmt.Errorf("%w: want three segments", ErrMalformed)
	}
	if strings.IndexByte(token, '\n') >= 0 || strings.IndexByte(token, '\r') >= 0 {
		return 0, 0, fmt.Errorf("%w: invalid base64url", ErrMalformed)
	}
	return i, j, nil
}

// Verify checks a compact JWS token and returns its claims. The signature is
// checked before any claim is read. Every error wraps exactly one of the Err
// values of this package and never includes the token.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	c, seen, err := v.verifySigned(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := v.check(c, seen); err != nil {
		return nil, err
	}
	return c, nil
}

// verifySigned checks the header and signature of token and parses its
// claims, which no rule has been applied to yet.
func (v *Verifier) verifySigned(ctx context.Context, token string) (*Claims, uint32, error) {
	if len(token) > v.maxBytes {
		return nil, 0, ErrTooLarge
	}
	i, j, err := splitCompact(token)
	if err != nil {
		return nil, 0, err
	}
	buf := []byte(token)

	var hdrBuf [512]byte
	hdrSeg := buf[:i]
	if b64.DecodedLen(len(hdrSeg)) > len(hdrBuf) {
		return nil, 0, fmt.Errorf("%w: header too long", ErrMalformed)
	}
	n, err := b64.Decode(hdrBuf[:], hdrSeg)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: header is not base64url", ErrMalformed)
	}
	h, err := parseHeader(string(hdrBuf[:n]))
	if err != nil {
		return nil, 0, err
	}
	if !slices.Contains(v.algs, h.alg) {
		return nil, 0, fmt.Errorf("%w: %.16q", ErrAlgorithm, h.alg)
	}
	if !v.typeOK(h) {
		return nil, 0, fmt.Errorf("%w: typ %.32q", ErrHeader, h.typ)
	}
	if h.kid == "" {
		return nil, 0, fmt.Errorf("%w: no kid", ErrMalformed)
	}

	key, err := v.keys.Key(ctx, h.kid)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrKeysUnavailable) {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	if key.Alg != h.alg {
		return nil, 0, fmt.Errorf("%w: key is for %.16q", ErrAlgorithm, key.Alg)
	}

	var sigBuf [maxSigBytes]byte
	sigSeg := buf[j+1:]
	if b64.DecodedLen(len(sigSeg)) > len(sigBuf) {
		return nil, 0, fmt.Errorf("%w: signature too long", ErrSignature)
	}
	n, err = b64.Decode(sigBuf[:], sigSeg)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	}
	if err := verifySignature(key, buf[:j], sigBuf[:n]); err != nil {
		return nil, 0, err
	}

	// Claims strings are substrings of one string holding the payload.
	var payloadBuf [2048]byte
	payload := payloadBuf[:]
	if m := b64.DecodedLen(j - i - 1); m > len(payload) {
		payload = make([]byte, m)
	}
	n, err = b64.Decode(payload, buf[i+1:j])
	if err != nil {
		return nil, 0, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	return parseClaims(string(payload[:n]))
}

// typeOK applies Config.Type to the typ header.
func (v *Verifier) typeOK(h header) bool {
	if v.typ == "" {
		return !h.hasTyp || matchType(h.typ, "JWT")
	}
	return h.hasTyp && matchType(h.typ, v.typ)
}

// matchType compares media types as RFC 7515 §4.1.9 says: case-insensitive,
// with the "application/" prefix optional.
func matchType(typ, want string) bool {
	const prefix = "application/"
	if len(typ) > len(prefix) && strings.EqualFold(typ[:len(prefix)], prefix) {
		typ = typ[len(prefix):]
	}
	if len(want) > len(prefix) && strings.EqualFold(want[:len(prefix)], prefix) {
		want = want[len(prefix):]
	}
	return strings.EqualFold(typ, want)
}

// verifySignature checks sig over the signing input with key, whose type
// must be the one its algorithm needs.
func verifySignature(key Key, input, sig []byte) error {
	switch key.Alg {
	case RS256:
		pub, ok := key.Public.(*rsa.PublicKey)
		if !ok || pub.N == nil || pub.N.BitLen() < minRSABits {
			return fmt.Errorf("%w: key does not fit RS256", ErrAlgorithm)
		}
		h := sha256.Sum256(input)
		if rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) != nil {
			return ErrSignature
		}
	case ES256:
		pub, ok := key.Public.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			return fmt.Errorf("%w: key does not fit ES256", ErrAlgorithm)
		}
		if len(sig) != 64 {
			return ErrSignature
		}
		h := sha256.Sum256(input)
		var der [72]byte
		if !ecdsa.VerifyASN1(pub, h[:], asn1Signature(der[:0], sig)) {
			return ErrSignature
		}
	case EdDSA:
		pub, ok := key.Public.(ed25519.PublicKey)
		if !ok || len(pub) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: key does not fit EdDSA", ErrAlgorithm)
		}
		if !ed25519.Verify(pub, input, sig) {
			return ErrSignature
		}
	default:
		return ErrAlgorithm
	}
	return nil
}

// asn1Signature converts a JOSE ECDSA signature (r||s, fixed size) to the
// DER SEQUENCE of two INTEGERs that crypto/ecdsa verifies.
func asn1Signature(dst, sig []byte) []byte {
	half := len(sig) / 2
	dst = append(dst, 0x30, 0)
	dst = appendASN1Int(dst, sig[:half])
	dst = appendASN1Int(dst, sig[half:])
	dst[1] = byte(len(dst) - 2) // at most 70: short form
	return dst
}

func appendASN1Int(dst, b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	if b[0]&0x80 != 0 {
		dst = append(dst, 0x02, byte(len(b)+1), 0)
	} else {
		dst = append(dst, 0x02, byte(len(b)))
	}
	return append(dst, b...)
}

// check applies the claim rules, in a fixed order, to a token whose
// signature is valid.
func (v *Verifier) check(c *Claims, seen uint32) error {
	if seen&hasIss == 0 || c.Issuer != v.issuer {
		return ErrIssuer
	}
	if v.tokenUse == "" {
		if seen&hasTokenUse != 0 {
			return fmt.Errorf("%w: token_use present", ErrTokenUse)
		}
	} else if c.TokenUse != v.tokenUse {
		return ErrTokenUse
	}
	if len(v.audiences) > 0 && !containsAny(v.audiences, c.Audience) {
		return ErrAudience
	}
	if v.noAud && seen&hasAud != 0 {
		return fmt.Errorf("%w: aud present", ErrAudience)
	}
	if len(v.clientIDs) > 0 && (seen&hasClientID == 0 || !slices.Contains(v.clientIDs, c.ClientID)) {
		return fmt.Errorf("%w: client_id", ErrAudience)
	}
	now := v.now()
	if seen&hasExp == 0 {
		return fmt.Errorf("%w: no exp", ErrClaims)
	}
	if !now.Before(c.ExpiresAt.Add(v.leeway)) {
		return ErrExpired
	}
	if seen&hasNbf != 0 && c.NotBefore.After(now.Add(v.leeway)) {
		return fmt.Errorf("%w: nbf", ErrNotYetValid)
	}
	if seen&hasIat == 0 {
		return fmt.Errorf("%w: no iat", ErrClaims)
	}
	if c.IssuedAt.After(now.Add(v.leeway)) {
		return fmt.Errorf("%w: iat", ErrNotYetValid)
	}
	// A login cannot have happened in the future. Revocations refuse tokens
	// whose auth_time is at or before the revocation time, so one dated
	// later would escape every revocation made before that date.
	if seen&hasAuthTime != 0 && c.AuthTime.After(now.Add(v.leeway)) {
		return fmt.Errorf("%w: auth_time", ErrNotYetValid)
	}
	if v.maxAge > 0 && now.Sub(c.IssuedAt) > v.maxAge {
		return ErrTooOld
	}
	if c.Subject == "" {
		return fmt.Errorf("%w: no sub", ErrClaims)
	}
	if v.needUser && c.Username == "" {
		return ErrNoUser
	}
	return nil
}

func containsAny(allowed, got []string) bool {
	for _, g := range got {
		if slices.Contains(allowed, g) {
			return true
		}
	}
	return false
}
