// Package jwttest mints tokens for tests: an Issuer holds a fresh key,
// publishes its JWK Set (optionally over HTTP, the way Cognito does) and
// signs Cognito-style ID tokens, at+jwt access tokens, or anything else,
// hostile headers included.
//
// It signs with the standard library directly, independently of
// shared/keys, so tests of either package cross-check the other.
package jwttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

// Issuer is a token issuer for tests. Fields may be changed before minting.
type Issuer struct {
	Alg      string           // RS256, ES256 or EdDSA
	KID      string           // RFC 7638 thumbprint of the key
	Issuer   string           // iss of minted tokens; default "https://issuer.test"
	ClientID string           // aud of ID tokens, client_id of access tokens; default "client-1"
	Audience string           // aud of access tokens; default "shortfuse"
	Now      func() time.Time // default time.Now

	signer  crypto.Signer
	jwks    []byte
	fetches atomic.Int64
}

// NewIssuer returns an Issuer with a new key for alg.
func NewIssuer(t testing.TB, alg string) *Issuer {
	t.Helper()
	var signer crypto.Signer
	var err error
	switch alg {
	case jwtverify.RS256:
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
	case jwtverify.ES256:
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jwtverify.EdDSA:
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("jwttest: unsupported algorithm %q", alg)
	}
	if err != nil {
		t.Fatalf("jwttest: generate key: %v", err)
	}
	return NewIssuerWithKey(t, alg, signer)
}

// NewIssuerWithKey returns an Issuer that signs with signer, for tests that
// need two issuers sharing a key or a kid.
func NewIssuerWithKey(t testing.TB, alg string, signer crypto.Signer) *Issuer {
	t.Helper()
	switch signer.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
	default:
		t.Fatalf("jwttest: unsupported key type %T", signer)
	}
	jk, err := jwk.Import(signer.Public())
	if err != nil {
		t.Fatalf("jwttest: jwk: %v", err)
	}
	tp, err := jk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatalf("jwttest: thumbprint: %v", err)
	}
	i := &Issuer{
		Alg:      alg,
		KID:      base64.RawURLEncoding.EncodeToString(tp),
		Issuer:   "https://issuer.test",
		ClientID: "client-1",
		Audience: "shortfuse",
		Now:      time.Now,
		signer:   signer,
	}
	i.jwks = i.jwksFor(i.KID)
	return i
}

// Signer returns the private key.
func (i *Issuer) Signer() crypto.Signer { return i.signer }

// Public returns the public key.
func (i *Issuer) Public() crypto.PublicKey { return i.signer.Public() }

// JWKS returns the public JWK Set: one key with kid, alg and use "sig".
func (i *Issuer) JWKS() []byte { return i.jwks }

// JWKSWithKID returns the public JWK Set with the key published under kid,
// for same-kid, different-key tests.
func (i *Issuer) JWKSWithKID(kid string) []byte { return i.jwksFor(kid) }

func (i *Issuer) jwksFor(kid string) []byte {
	jk, err := jwk.Import(i.signer.Public())
	must(err)
	for k, v := range map[string]string{jwk.KeyIDKey: kid, jwk.AlgorithmKey: i.Alg, jwk.KeyUsageKey: "sig"} {
		must(jk.Set(k, v))
	}
	b, err := json.Marshal(map[string]any{"keys": []any{jk}})
	must(err)
	return b
}

// must panics on err: minting fails only when a test passes something
// that cannot be marshalled, and the Issuer may outlive the test that made it
// (fuzz targets), so there is no testing.TB to report to.
func must(err error) {
	if err != nil {
		panic("jwttest: " + err.Error())
	}
}

// Keys returns a KeySource holding the Issuer's public key.
func (i *Issuer) Keys() *jwtverify.StaticJWKS {
	ks, err := jwtverify.NewStaticJWKS(i.jwks)
	must(err)
	return ks
}

// Serve starts an HTTP server, closed when t ends, that serves the JWK Set
// at /.well-known/jwks.json. It sets i.Issuer to the server's URL, so that
// the JWK Set is at iss + "/.well-known/jwks.json" as with Cognito, and
// returns the JWK Set URL.
func (i *Issuer) Serve(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		i.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(i.jwks)
	}))
	t.Cleanup(srv.Close)
	i.Issuer = srv.URL
	return srv.URL + "/.well-known/jwks.json"
}

// Fetches counts the JWK Set requests Serve has answered.
func (i *Issuer) Fetches() int { return int(i.fetches.Load()) }

// Sign returns a compact JWS of claims signed with the Issuer's key and
// algorithm. A nil header means {"alg": i.Alg, "kid": i.KID}; any other
// header is used as given, however hostile.
func (i *Issuer) Sign(header, claims map[string]any) string {
	if header == nil {
		header = map[string]any{"alg": i.Alg, "kid": i.KID}
	}
	return i.signInput(Encode(header) + "." + Encode(claims))
}

// SignRaw signs the given header and payload bytes as they are (no JSON
// marshalling), for tests of duplicate members, odd spacing or invalid JSON.
func (i *Issuer) SignRaw(header, payload []byte) string {
	return i.signInput(Encode(header) + "." + Encode(payload))
}

// signInput appends the signature of a JWS signing input.
func (i *Issuer) signInput(input string) string {
	sig, err := i.sign([]byte(input))
	must(err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (i *Issuer) sign(msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	switch k := i.signer.(type) {
	case *rsa.PrivateKey:
		return rsa.SignPKCS1v15(nil, k, crypto.SHA256, h[:])
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			return nil, err
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig, nil
	default:
		return ed25519.Sign(k.(ed25519.PrivateKey), msg), nil
	}
}

// CognitoIDToken returns a Cognito-style ID token (header {alg, kid}, no
// typ) valid for an hour from i.Now. overrides replace claims; a nil value
// removes the claim.
func (i *Issuer) CognitoIDToken(overrides map[string]any) string {
	claims := i.cognitoClaims("id")
	claims["aud"] = i.ClientID
	claims["cognito:username"] = "alice"
	claims["email"] = "alice@example.com"
	claims["email_verified"] = true
	return i.Sign(nil, Apply(claims, overrides))
}

// CognitoAccessToken returns a Cognito-style access token (header {alg,
// kid}, no typ; token_use access, client_id, scope, username, no aud) valid
// for an hour from i.Now. overrides replace claims; a nil value removes the
// claim.
func (i *Issuer) CognitoAccessToken(overrides map[string]any) string {
	claims := i.cognitoClaims("access")
	claims["client_id"] = i.ClientID
	claims["scope"] = "aws.cognito.signin.user.admin"
	claims["username"] = "alice"
	claims["version"] = 2
	return i.Sign(nil, Apply(claims, overrides))
}

// cognitoClaims are the claims Cognito puts in both its ID and access
// tokens, valid for an hour from i.Now.
func (i *Issuer) cognitoClaims(use string) map[string]any {
	now := i.Now().Unix()
	return map[string]any{
		"iss":            i.Issuer,
		"sub":            "5b7f3c7e-8d2a-4c1e-9f00-000000000001",
		"token_use":      use,
		"cognito:groups": []string{"users"},
		"auth_time":      now,
		"iat":            now,
		"exp":            now + 3600,
		"jti":            RandomID(),
		"origin_jti":     RandomID(),
		"event_id":       RandomID(),
	}
}

// AccessToken returns an RFC 9068 access token (typ at+jwt) as the token
// service issues it, valid for 300 s from i.Now. overrides replace claims; a
// nil value removes the claim.
func (i *Issuer) AccessToken(overrides map[string]any) string {
	now := i.Now().Unix()
	claims := map[string]any{
		"iss":       i.Issuer,
		"sub":       "5b7f3c7e-8d2a-4c1e-9f00-000000000001",
		"aud":       i.Audience,
		"client_id": i.ClientID,
		"exp":       now + 300,
		"iat":       now,
		"auth_time": now,
		"jti":       RandomID(),
		"sid":       RandomID(),
		"scope":     "openid profile",
		"groups":    []string{"users"},
		"username":  "alice",
	}
	return i.Sign(map[string]any{"alg": i.Alg, "kid": i.KID, "typ": "at+jwt"}, Apply(claims, overrides))
}

// Apply sets overrides in claims, deleting those whose override is nil, and
// returns claims: the rule of every overrides argument in this package.
func Apply(claims, overrides map[string]any) map[string]any {
	for k, v := range overrides {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	return claims
}

// Unsigned returns "header.payload." with an empty signature, as an
// alg "none" token would be.
func Unsigned(header, claims map[string]any) string {
	return Encode(header) + "." + Encode(claims) + "."
}

// HMAC returns a token signed with HMAC-SHA256 under secret, whatever the
// header says: for key-confusion tests that use a public key as the secret.
func HMAC(header, claims map[string]any, secret []byte) string {
	input := Encode(header) + "." + Encode(claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Encode returns the base64url (unpadded) encoding of v marshalled as JSON,
// or of v itself when it is a string or []byte.
func Encode(v any) string {
	switch b := v.(type) {
	case string:
		return base64.RawURLEncoding.EncodeToString([]byte(b))
	case []byte:
		return base64.RawURLEncoding.EncodeToString(b)
	}
	b, err := json.Marshal(v)
	must(err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RandomID returns 16 random bytes in hex.
func RandomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// JoinJWKS merges JWK Sets into one, for verifiers that trust several
// issuers' keys.
func JoinJWKS(sets ...[]byte) []byte {
	var all []json.RawMessage
	for _, s := range sets {
		var doc struct {
			Keys []json.RawMessage `json:"keys"`
		}
		must(json.Unmarshal(s, &doc))
		all = append(all, doc.Keys...)
	}
	b, err := json.Marshal(map[string]any{"keys": all})
	must(err)
	return b
}
