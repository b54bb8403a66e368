// Package dpoptest makes DPoP proofs for tests: a Client holds a key, as a
// browser would, and signs proofs for requests, hostile ones included.
//
// It signs through jwttest, with the standard library, independently of the
// verifier it tests.
package dpoptest

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
)

// Client is a DPoP client's key. Fields may be changed before signing.
type Client struct {
	Alg string
	JKT string         // RFC 7638 thumbprint of the public key (jwx's computation)
	JWK map[string]any // the public JWK, as the jwk header carries it
	Now func() time.Time

	iss *jwttest.Issuer
}

// New returns a Client with a new key for alg (ES256, EdDSA or RS256).
func New(t testing.TB, alg string) *Client {
	t.Helper()
	iss := jwttest.NewIssuer(t, alg)
	jk, err := jwk.Import(iss.Public())
	if err != nil {
		t.Fatal(err)
	}
	tp, err := jk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jk)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &Client{Alg: alg, JKT: base64.RawURLEncoding.EncodeToString(tp), JWK: m, Now: time.Now, iss: iss}
}

// Signer is the private key.
func (c *Client) Signer() crypto.Signer { return c.iss.Signer() }

// Header returns a fresh copy of a valid proof header.
func (c *Client) Header() map[string]any {
	jwk := make(map[string]any, len(c.JWK))
	for k, v := range c.JWK {
		jwk[k] = v
	}
	return map[string]any{"typ": "dpop+jwt", "alg": c.Alg, "jwk": jwk}
}

// Claims returns valid proof claims for a request: a random jti, iat now,
// and ath when accessToken is not empty, nonce when nonce is not empty.
func (c *Client) Claims(method, url, accessToken, nonce string) map[string]any {
	m := map[string]any{"htm": method, "htu": url, "iat": c.Now().Unix(), "jti": jttestID()}
	if accessToken != "" {
		m["ath"] = ATH(accessToken)
	}
	if nonce != "" {
		m["nonce"] = nonce
	}
	return m
}

// Proof returns a valid proof for a request.
func (c *Client) Proof(method, url, accessToken, nonce string) string {
	return c.Sign(c.Header(), c.Claims(method, url, accessToken, nonce))
}

// Sign signs header and claims as given, however hostile.
func (c *Client) Sign(header, claims map[string]any) string {
	return c.iss.Sign(header, claims)
}

// SignRaw signs header and payload bytes as they are.
func (c *Client) SignRaw(header, payload []byte) string { return c.iss.SignRaw(header, payload) }

// ATH is the ath of a proof sent with accessToken.
func ATH(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func jttestID() string { return jwttest.RandomID() }
