// Package dpop checks DPoP proofs (RFC 9449): the JWTs a client signs with
// a key it holds, one per request, to show that it holds the key an access
// or refresh token is bound to.
//
// A proof is accepted when, in this order: it is one compact JWS of at most
// MaxProofBytes; its typ is dpop+jwt; its alg is one of Algorithms and fits
// its jwk header, a public key with no private member; the signature
// verifies with that key (package jwtverify does these steps, with the same
// algorithm table as token verification); htm equals the request method;
// htu equals the request URL after NormalizeURL, query and fragment
// excluded; iat is at most MaxAge old and at most Leeway ahead; the ath
// matches the access token when one is sent; the key's RFC 7638 thumbprint
// is the one the token is bound to (cnf.jkt) when there is one; the nonce
// is current when nonces are on; and its jti has not been seen.
//
// # Replay across a fleet
//
// The jti check is per Verifier, that is per process: a proof replayed to
// the same Lambda container within its window is refused, one replayed to
// another container is not seen there. What still bounds such a replay is
// the rest of the proof: it is good only for the same method and URL, for
// the same access token (ath), and only within MaxAge + Leeway of its iat.
// A thief who copies a proof and its token out of a request can repeat that
// one request, within that window, at most once per container. Server
// nonces (Nonces) shorten the window to the nonce's life without shared
// state, and refresh tokens are single-use anyway, so a replayed refresh
// proof is worthless without a fresh refresh token.
package dpop

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

// Defaults for Config.
const (
	DefaultMaxAge = 60 * time.Second
	DefaultLeeway = 5 * time.Second
	maxJTI        = 256
	proofType     = "dpop+jwt"
)

// DefaultAlgorithms are the proof algorithms accepted by default.
var DefaultAlgorithms = []string{jwtverify.ES256, jwtverify.EdDSA, jwtverify.RS256}

// Config says which proofs a Verifier accepts. Zero values take defaults.
type Config struct {
	Algorithms     []string      // subset of ES256, EdDSA, RS256; default DefaultAlgorithms
	MaxAge         time.Duration // how old iat may be; default DefaultMaxAge
	Leeway         time.Duration // how far ahead iat may be; default DefaultLeeway
	MaxProofBytes  int           // default jwtverify.DefaultMaxProofBytes
	ReplayCapacity int           // proofs remembered; default DefaultReplayCapacity
	Nonces         *Nonces       // when set, proofs must carry a current nonce
	Now            func() time.Time
}

// Verifier checks proofs. It is safe for concurrent use.
type Verifier struct {
	algs     []string
	maxAge   time.Duration
	leeway   time.Duration
	maxBytes int
	nonces   *Nonces
	now      func() time.Time
	replay   *replayCache
}

// New checks cfg and returns a Verifier with an empty replay cache.
func New(cfg Config) (*Verifier, error) {
	if cfg.MaxAge < 0 || cfg.Leeway < 0 || cfg.MaxProofBytes < 0 || cfg.ReplayCapacity < 0 {
		return nil, errors.New("dpop: MaxAge, Leeway, MaxProofBytes and ReplayCapacity must not be negative")
	}
	v := &Verifier{
		algs:     DefaultAlgorithms,
		maxAge:   cfg.MaxAge,
		leeway:   cfg.Leeway,
		maxBytes: cfg.MaxProofBytes,
		nonces:   cfg.Nonces,
		now:      cfg.Now,
	}
	if len(cfg.Algorithms) > 0 {
		v.algs = nil
		for _, a := range cfg.Algorithms {
			switch a {
			case jwtverify.ES256, jwtverify.EdDSA, jwtverify.RS256:
				v.algs = append(v.algs, a)
			default:
				return nil, fmt.Errorf("dpop: algorithm %q not supported (want ES256, EdDSA or RS256)", a)
			}
		}
	}
	if v.maxAge == 0 {
		v.maxAge = DefaultMaxAge
	}
	if v.leeway == 0 {
		v.leeway = DefaultLeeway
	}
	if v.maxBytes == 0 {
		v.maxBytes = jwtverify.DefaultMaxProofBytes
	}
	if v.now == nil {
		v.now = time.Now
	}
	capacity := cfg.ReplayCapacity
	if capacity == 0 {
		capacity = DefaultReplayCapacity
	}
	v.replay = newReplayCache(capacity)
	return v, nil
}

// Algorithms returns the accepted algorithms, for metadata
// (dpop_signing_alg_values_supported) and challenges.
func (v *Verifier) Algorithms() []string { return append([]string(nil), v.algs...) }

// Nonces returns the configured nonces, or nil.
func (v *Verifier) Nonces() *Nonces { return v.nonces }

// Request is what a proof must match.
type Request struct {
	Method string // the HTTP method, as received
	URL    string // the absolute URL the client addressed; query and fragment are ignored
	// AccessToken, when not empty, is the token sent with the proof: the
	// proof must carry its ath.
	AccessToken string
	// JKT, when not empty, is the thumbprint the token is bound to
	// (cnf.jkt, or a refresh token's key): the proof's key must have it.
	JKT string
}

// Proof is an accepted proof.
type Proof struct {
	JKT      string // RFC 7638 thumbprint of the proof's key: cnf.jkt of tokens bound to it
	JTI      string
	IssuedAt time.Time
}

// Check verifies proof against req and, when it passes, records its jti so
// that it is refused from then on. Every error wraps exactly one of the Err
// values; none holds the proof.
func (v *Verifier) Check(proof string, req Request) (*Proof, error) {
	if proof == "" {
		return nil, ErrMissing
	}
	p, err := jwtverify.ParseProof(proof, proofType, v.algs, v.maxBytes)
	if err != nil {
		return nil, mapParseError(err)
	}
	switch {
	case p.HTM == "":
		return nil, wrap(ErrClaims, "no htm")
	case p.HTU == "":
		return nil, wrap(ErrClaims, "no htu")
	case p.JTI == "" || len(p.JTI) > maxJTI:
		return nil, wrap(ErrClaims, "jti missing or longer than 256 bytes")
	case p.IssuedAt.IsZero():
		return nil, wrap(ErrClaims, "no iat")
	}
	if p.HTM != req.Method {
		return nil, wrap(ErrMethod, fmt.Sprintf("htm %.16q, request %.16q", p.HTM, req.Method))
	}
	want, err := NormalizeURL(req.URL)
	if err != nil {
		return nil, wrap(ErrURL, "the request URL cannot be normalised")
	}
	got, err := NormalizeURL(p.HTU)
	if err != nil {
		return nil, wrap(ErrURL, "htu is not an absolute http(s) URL")
	}
	if got != want {
		return nil, wrap(ErrURL, fmt.Sprintf("htu %.128q, request %.128q", got, want))
	}
	now := v.now()
	if p.IssuedAt.Before(now.Add(-v.maxAge)) {
		return nil, ErrTooOld
	}
	if p.IssuedAt.After(now.Add(v.leeway)) {
		return nil, ErrFuture
	}
	if req.AccessToken != "" {
		if p.ATH == "" || !constantEqual(p.ATH, AccessTokenHash(req.AccessToken)) {
			return nil, ErrAccessTokenHash
		}
	}
	if req.JKT != "" && !constantEqual(p.JKT, req.JKT) {
		return nil, ErrKeyMismatch
	}
	if v.nonces != nil {
		if p.Nonce == "" {
			return nil, wrap(ErrNonce, "no nonce")
		}
		if !v.nonces.Valid(p.Nonce) {
			return nil, wrap(ErrNonce, "stale or unknown nonce")
		}
	}
	expires := p.IssuedAt.Add(v.maxAge).UnixNano()
	if err := v.replay.use(newReplayKey(p.JKT, p.JTI), expires, now.UnixNano()); err != nil {
		return nil, err
	}
	return &Proof{JKT: p.JKT, JTI: p.JTI, IssuedAt: p.IssuedAt}, nil
}

// mapParseError turns a jwtverify error into this package's.
func mapParseError(err error) error {
	var e *Error
	switch {
	case errors.Is(err, jwtverify.ErrTooLarge):
		return ErrTooLarge
	case errors.Is(err, jwtverify.ErrProofType):
		e = ErrType
	case errors.Is(err, jwtverify.ErrAlgorithm):
		e = ErrAlgorithm
	case errors.Is(err, jwtverify.ErrHeader):
		e = ErrKey
	case errors.Is(err, jwtverify.ErrSignature):
		e = ErrSignature
	case errors.Is(err, jwtverify.ErrClaims):
		e = ErrClaims
	default:
		e = ErrMalformed
	}
	return wrap(e, strings.TrimPrefix(err.Error(), "jwt: "))
}

// constantEqual compares two public but attacker-chosen strings without a
// timing signal.
func constantEqual(a, b string) bool {
	return len(a) == len(b) && subtleEqual(a, b)
}
