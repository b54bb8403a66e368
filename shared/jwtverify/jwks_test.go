package jwtverify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

// cognitoLocalJWKS is the JWK Set cognito-local serves (its fixed public key).
const cognitoLocalJWKS = `{"keys":[{"kty":"RSA","e":"AQAB","use":"sig","kid":"CognitoLocal","alg":"RS256",` +
	`"n":"2uLO7yh1_6Icfd89V3nNTc_qhfpDN7vEmOYlmJQlc9_RmOns26lg88fXXFntZESwHOm7_homO2Ih6NOtu4P5eskGs8d8VQMOQfF4YrP-pawVz-gh1S7eSvzZRDHBT4ItUuoiVP1B9HN_uScKxIqjmitpPqEQB_o2NJv8npCfqUAU-4KmxquGtjdmfctswSZGdz59M3CAYKDfuvLH9_vV6TRGgbUaUAXWC2WJrbbEXzK3XUDBrmF3Xo-yw8f3SgD3JOPl3HaaWMKL1zGVAsge7gQaGiJBzBurg5vwN61uDGGz0QZC1JqcUTl3cZnrx_L8isIR7074SJEuljIZRnCcjQ"}]}`

// jwkJSON renders a raw key as a JWK object with extra members.
func jwkJSON(t *testing.T, raw any, extra map[string]any) string {
	t.Helper()
	jk, err := jwk.Import(raw)
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
	for k, v := range extra {
		m[k] = v
	}
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseJWKS(t *testing.T) {
	keys, err := jwtverify.ParseJWKS([]byte(cognitoLocalJWKS))
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := keys["CognitoLocal"]; !ok || k.Alg != "RS256" {
		t.Fatalf("keys = %v", keys)
	}

	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ed := jwttest.NewIssuer(t, jwtverify.EdDSA)
	es := jwttest.NewIssuer(t, jwtverify.ES256)
	set := func(ks ...string) string { return `{"keys":[` + strings.Join(ks, ",") + `]}` }

	// Accepted documents and the kids they yield.
	for _, tt := range []struct {
		name string
		doc  string
		kids []string
	}{
		{"alg derived from the key type", set(jwkJSON(t, &rsaKey.PublicKey, map[string]any{"kid": "r"}),
			jwkJSON(t, es.Public(), map[string]any{"kid": "e"}), jwkJSON(t, ed.Public(), map[string]any{"kid": "d"})), []string{"d", "e", "r"}},
		{"encryption key skipped", set(jwkJSON(t, &rsaKey.PublicKey, map[string]any{"kid": "r", "use": "enc"}),
			jwkJSON(t, es.Public(), map[string]any{"kid": "e", "use": "sig"})), []string{"e"}},
		{"alg that does not fit the key skipped", set(jwkJSON(t, &rsaKey.PublicKey, map[string]any{"kid": "r", "alg": "ES256"}),
			jwkJSON(t, es.Public(), map[string]any{"kid": "e"})), []string{"e"}},
		{"unsupported alg skipped", set(jwkJSON(t, &rsaKey.PublicKey, map[string]any{"kid": "r", "alg": "PS256"}),
			jwkJSON(t, es.Public(), map[string]any{"kid": "e"})), []string{"e"}},
		{"small RSA and P-384 skipped", set(smallRSAJWK(smallRSA, "s"),
			jwkJSON(t, &p384.PublicKey, map[string]any{"kid": "p"}), jwkJSON(t, ed.Public(), map[string]any{"kid": "d"})), []string{"d"}},
		{"symmetric key skipped", set(`{"kty":"oct","kid":"h","k":"c2VjcmV0"}`, jwkJSON(t, ed.Public(), map[string]any{"kid": "d"})), []string{"d"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := jwtverify.ParseJWKS([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for kid := range keys {
				got = append(got, kid)
			}
			if slices.Sort(got); strings.Join(got, ",") != strings.Join(tt.kids, ",") {
				t.Fatalf("kids = %v, want %v", got, tt.kids)
			}
		})
	}

	// Refused documents.
	for _, tt := range []struct {
		name string
		doc  string
	}{
		{"empty", ``},
		{"not JSON", `keys`},
		{"a bare JWK", jwkJSON(t, ed.Public(), map[string]any{"kid": "d"})},
		{"keys not a list", `{"keys":{}}`},
		{"no keys", `{"keys":[]}`},
		{"only unusable keys", set(smallRSAJWK(smallRSA, "s"))},
		{"missing kid", set(jwkJSON(t, ed.Public(), nil))},
		{"duplicate kid", set(jwkJSON(t, ed.Public(), map[string]any{"kid": "d"}), jwkJSON(t, es.Public(), map[string]any{"kid": "d"}))},
		{"private key material", set(jwkJSON(t, rsaKey, map[string]any{"kid": "r"}))},
		{"private symmetric key", set(`{"kty":"oct","kid":"h","k":"c2VjcmV0","use":"sig"}`, `{"kty":"oct","kid":"h2","k":"c2VjcmV0"}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if keys, err := jwtverify.ParseJWKS([]byte(tt.doc)); err == nil {
				t.Fatalf("ParseJWKS accepted it: %v", keys)
			}
		})
	}
}

// smallRSAJWK writes a 1024-bit RSA JWK by hand: jwx refuses to build one.
func smallRSAJWK(k *rsa.PrivateKey, kid string) string {
	return `{"kty":"RSA","kid":"` + kid + `","e":"AQAB","n":"` + base64.RawURLEncoding.EncodeToString(k.N.Bytes()) + `"}`
}

func TestStaticJWKS(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.ES256)
	ks, err := jwtverify.NewStaticJWKS(iss.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	if k, err := ks.Key(context.Background(), iss.KID); err != nil || k.Alg != "ES256" {
		t.Fatalf("Key = %v, %v", k, err)
	}
	if _, err := ks.Key(context.Background(), "other"); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("err = %v", err)
	}
	if _, err := jwtverify.NewStaticJWKS([]byte(`{}`)); err == nil {
		t.Fatal("empty document accepted")
	}
}
