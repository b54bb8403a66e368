package keys_test

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/keys"
)

var algs = []string{keys.RS256, keys.ES256, keys.EdDSA}

func jwaFor(alg string) jwa.SignatureAlgorithm {
	switch alg {
	case keys.RS256:
		return jwa.RS256()
	case keys.ES256:
		return jwa.ES256()
	}
	return jwa.EdDSA()
}

func thumbprint(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	jk, err := jwk.Import(pub)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := jk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

type accessClaims struct {
	Iss      string   `json:"iss"`
	Sub      string   `json:"sub"`
	Aud      string   `json:"aud"`
	ClientID string   `json:"client_id"`
	Exp      int64    `json:"exp"`
	Iat      int64    `json:"iat"`
	JTI      string   `json:"jti"`
	SID      string   `json:"sid"`
	Groups   []string `json:"groups"`
}

func TestGenerateSignCrossCheck(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg, func(t *testing.T) {
			k, err := keys.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			if k.Alg != alg || !k.Private() {
				t.Fatalf("key %s private=%v", k.Alg, k.Private())
			}
			if want := thumbprint(t, k.Public()); k.KID != want {
				t.Fatalf("kid %q, want thumbprint %q", k.KID, want)
			}
			set, err := keys.NewSet("", k)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().Unix()
			claims := accessClaims{Iss: "https://tokens.test", Sub: "u-1", Aud: "api", ClientID: "c", Exp: now + 300,
				Iat: now, JTI: "j", SID: "s", Groups: []string{"admin"}}
			tok, err := set.Sign("at+jwt", claims)
			if err != nil {
				t.Fatal(err)
			}

			// The header is exactly {alg, kid, typ}.
			hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"alg":"` + alg + `","kid":"` + k.KID + `","typ":"at+jwt"}`; string(hdr) != want {
				t.Fatalf("header %s, want %s", hdr, want)
			}

			// jwx accepts the signature with the raw key...
			if _, err := jws.Verify([]byte(tok), jws.WithKey(jwaFor(alg), k.Public())); err != nil {
				t.Fatalf("jws.Verify: %v", err)
			}
			// ...and the token with the published JWK Set, found by kid.
			jset, err := jwk.Parse(set.JWKS())
			if err != nil {
				t.Fatalf("jwk.Parse(JWKS): %v", err)
			}
			parsed, err := jwt.Parse([]byte(tok), jwt.WithKeySet(jset), jwt.WithIssuer(claims.Iss), jwt.WithAudience("api"))
			if err != nil {
				t.Fatalf("jwt.Parse: %v", err)
			}
			if sub, _ := parsed.Subject(); sub != "u-1" {
				t.Fatalf("sub %q", sub)
			}

			// The shortfuse verifier agrees.
			static, err := jwtverify.NewStaticJWKS(set.JWKS())
			if err != nil {
				t.Fatal(err)
			}
			v, err := jwtverify.New(jwtverify.Config{Keys: static, Issuer: claims.Iss, Audiences: []string{"api"},
				ClientIDs: []string{"c"}, Type: "at+jwt", Algorithms: []string{alg}})
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("jwtverify: %v", err)
			}
			if c.SessionID != "s" || c.Groups[0] != "admin" {
				t.Fatalf("claims %+v", c)
			}

			// Without typ the header has none.
			tok, err = set.Sign("", map[string]any{"sub": "x"})
			if err != nil {
				t.Fatal(err)
			}
			hdr, _ = base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			if strings.Contains(string(hdr), "typ") {
				t.Fatalf("header %s has typ", hdr)
			}
			if _, err := jws.Verify([]byte(tok), jws.WithKey(jwaFor(alg), k.Public())); err != nil {
				t.Fatalf("jws.Verify: %v", err)
			}
		})
	}
}

func TestJWKS(t *testing.T) {
	a, _ := keys.Generate(keys.ES256)
	b, _ := keys.Generate(keys.RS256)
	c, _ := keys.Generate(keys.EdDSA)
	set, err := keys.NewSet(b.KID, a, b, c.PublicOnly())
	if err != nil {
		t.Fatal(err)
	}
	doc := set.JWKS()
	if &doc[0] != &set.JWKS()[0] {
		t.Fatal("JWKS is recomputed")
	}
	jset, err := jwk.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []*keys.Key{b, a, c} // active first
	if jset.Len() != len(want) {
		t.Fatalf("%d keys", jset.Len())
	}
	for i, k := range want {
		jk, _ := jset.Key(i)
		kid, _ := jk.KeyID()
		alg, _ := jk.Algorithm()
		use, _ := jk.KeyUsage()
		if kid != k.KID || alg.String() != k.Alg || use != "sig" {
			t.Errorf("key %d: kid %q alg %v use %q, want %q %s sig", i, kid, alg, use, k.KID, k.Alg)
		}
		if private, _ := jwk.IsPrivateKey(jk); private {
			t.Errorf("key %d is private", i)
		}
		tp, _ := jk.Thumbprint(crypto.SHA256)
		if base64.RawURLEncoding.EncodeToString(tp) != kid {
			t.Errorf("key %d: kid is not the thumbprint", i)
		}
	}
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatal(err)
	}
	for _, m := range raw.Keys {
		for _, p := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := m[p]; ok {
				t.Fatalf("JWKS holds private parameter %q", p)
			}
		}
	}
	if _, err := jwtverify.ParseJWKS(doc); err != nil {
		t.Fatalf("jwtverify.ParseJWKS: %v", err)
	}
}

func pemBlock(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func pkcs8(t *testing.T, k any) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func pkix(t *testing.T, k any) string {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PUBLIC KEY", der)
}

func TestParseSetPEM(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	ecParams := "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"

	for _, tt := range []struct {
		name string
		doc  string
		pub  crypto.PublicKey
		alg  string
	}{
		{"PKCS#8 RSA", pkcs8(t, rsaKey), &rsaKey.PublicKey, keys.RS256},
		{"PKCS#1 RSA", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), &rsaKey.PublicKey, keys.RS256},
		{"PKCS#8 EC", pkcs8(t, ecKey), &ecKey.PublicKey, keys.ES256},
		{"SEC1 EC", pemBlock("EC PRIVATE KEY", sec1), &ecKey.PublicKey, keys.ES256},
		{"SEC1 EC after EC PARAMETERS", ecParams + pemBlock("EC PRIVATE KEY", sec1), &ecKey.PublicKey, keys.ES256},
		{"PKCS#8 Ed25519", pkcs8(t, edKey), edKey.Public(), keys.EdDSA},
		{"with surrounding space", "\n\n  " + pkcs8(t, edKey) + "\n\n", edKey.Public(), keys.EdDSA},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set, err := keys.ParseSet([]byte(tt.doc), "")
			if err != nil {
				t.Fatal(err)
			}
			k := set.Active()
			if k.Alg != tt.alg || !k.Private() || k.KID != thumbprint(t, tt.pub) {
				t.Fatalf("key %s %s private=%v", k.Alg, k.KID, k.Private())
			}
			if _, err := set.Sign("", map[string]int{"a": 1}); err != nil {
				t.Fatal(err)
			}
		})
	}

	// A private key and a public-only previous key.
	set, err := keys.ParseSet([]byte(pkcs8(t, edKey)+pkix(t, &rsaKey.PublicKey)), "")
	if err != nil {
		t.Fatal(err)
	}
	if ks := set.Keys(); len(ks) != 2 || ks[0].Alg != keys.EdDSA || ks[1].Private() {
		t.Fatalf("keys %v", ks)
	}
}

func TestParseSetRejects(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	x25519, _ := ecdh.X25519().GenerateKey(rand.Reader)
	a, _ := keys.Generate(keys.EdDSA)
	b, _ := keys.Generate(keys.ES256)
	ab, _ := keys.MarshalJWKSet(a, b)
	aJWK, _ := keys.MarshalPrivateJWK(a)
	pubOnly, _ := keys.MarshalJWKSet(a.PublicOnly())

	editJWK := func(src []byte, edit func(map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(src, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		out, _ := json.Marshal(m)
		return string(out)
	}
	ecJWK, _ := keys.MarshalPrivateJWK(b)
	otherECJWK, _ := keys.MarshalPrivateJWK(mustGenerate(t, keys.ES256))
	var otherEC map[string]any
	_ = json.Unmarshal(otherECJWK, &otherEC)
	otherJWK, _ := keys.MarshalPrivateJWK(mustGenerate(t, keys.EdDSA))
	var other map[string]any
	_ = json.Unmarshal(otherJWK, &other)

	for _, tt := range []struct {
		name, doc, active, msg string
	}{
		{"empty", "", "", "empty"},
		{"garbage", "hello", "", "neither PEM nor JSON"},
		{"broken PEM", "-----BEGIN PRIVATE KEY-----\nAAAA", "", "PEM"},
		{"encrypted PEM", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n", "", "encrypted"},
		{"encrypted PKCS#8", pemBlock("ENCRYPTED PRIVATE KEY", []byte{1}), "", "encrypted"},
		{"certificate", pemBlock("CERTIFICATE", []byte{1}), "", "unsupported PEM block"},
		{"RSA 1024", pkcs8(t, small), "", "2048"},
		{"P-384", pkcs8(t, p384), "", "P-256"},
		{"X25519", pkcs8(t, x25519), "", "cannot sign"},
		{"public keys only", pkix(t, &rsaKey.PublicKey), "", "no private key"},
		{"public JWK Set only", string(pubOnly), "", "no private key"},
		{"two private keys, no active kid", string(ab), "", "active"},
		{"active kid not in the set", string(ab), "nope", "not in the key set"},
		{"active key public only", pkcs8(t, rsaKey) + pkix(t, a.Public()), a.KID, "no private key"},
		{"JWK kid not the thumbprint", editJWK(aJWK, func(m map[string]any) { m["kid"] = "my-key" }), "", "thumbprint"},
		{"JWK use enc", editJWK(aJWK, func(m map[string]any) { m["use"] = "enc" }), "", "use"},
		{"JWK alg for another key type", editJWK(aJWK, func(m map[string]any) { m["alg"] = "RS256" }), "", "does not match"},
		{"JWK alg HS256", editJWK(aJWK, func(m map[string]any) { m["alg"] = "HS256" }), "", "does not match"},
		{"JWK private half of another key", editJWK(aJWK, func(m map[string]any) { m["d"] = other["d"] }), "", ""},
		{"EC JWK with the private half of another key", editJWK(ecJWK, func(m map[string]any) { m["d"] = otherEC["d"] }), "", "does not match"},
		{"symmetric JWK", `{"kty":"oct","k":"c2VjcmV0"}`, "", ""},
		{"JSON array", `[1]`, "", "neither PEM nor JSON"},
		{"empty JWK Set", `{"keys":[]}`, "", "no key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keys.ParseSet([]byte(tt.doc), tt.active)
			if err == nil {
				t.Fatal("ParseSet accepted it")
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %q does not say %q", err, tt.msg)
			}
			if d, ok := other["d"].(string); ok && strings.Contains(err.Error(), d) {
				t.Fatal("error holds key material")
			}
		})
	}
}

func mustGenerate(t *testing.T, alg string) *keys.Key {
	t.Helper()
	k, err := keys.Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGenerateRejectsUnknownAlgorithms(t *testing.T) {
	for _, alg := range []string{"", "none", "HS256", "rs256", "PS256", "ES384"} {
		if _, err := keys.Generate(alg); err == nil {
			t.Errorf("Generate(%q) succeeded", alg)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, alg := range algs {
		k := mustGenerate(t, alg)
		doc, err := keys.MarshalPrivateJWK(k)
		if err != nil {
			t.Fatal(err)
		}
		set, err := keys.ParseSet(doc, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := set.Active(); got.KID != k.KID || got.Alg != alg || !got.Private() {
			t.Fatalf("%s: round trip gave %s %s", alg, got.KID, got.Alg)
		}
		if _, err := keys.MarshalPrivateJWK(k.PublicOnly()); err == nil {
			t.Fatalf("%s: MarshalPrivateJWK of a public key succeeded", alg)
		}
	}
}

// TestRotation walks the documented rotation: tokens keep verifying at every
// step for a verifier holding the JWK Set of the step before.
func TestRotation(t *testing.T) {
	cur := mustGenerate(t, keys.ES256)
	next := mustGenerate(t, keys.ES256)
	ctx := context.Background()

	verifier := func(set *keys.Set) *jwtverify.Verifier {
		static, err := jwtverify.NewStaticJWKS(set.JWKS())
		if err != nil {
			t.Fatal(err)
		}
		v, err := jwtverify.New(jwtverify.Config{Keys: static, Issuer: "iss", Type: "at+jwt", Algorithms: []string{keys.ES256}})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	sign := func(set *keys.Set) string {
		now := time.Now().Unix()
		tok, err := set.Sign("at+jwt", map[string]any{"iss": "iss", "sub": "u", "iat": now, "exp": now + 300})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	load := func(active string, ks ...*keys.Key) *keys.Set {
		doc, err := keys.MarshalJWKSet(ks...)
		if err != nil {
			t.Fatal(err)
		}
		set, err := keys.ParseSet(doc, active)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}

	step0 := load("", cur)
	tok0 := sign(step0)
	step1 := load(cur.KID, cur, next) // next published, not used
	if step1.Active().KID != cur.KID {
		t.Fatal("step 1 signs with the next key")
	}
	step2 := load(next.KID, cur, next) // switched
	tok2 := sign(step2)
	step3 := load(next.KID, cur.PublicOnly(), next) // old key public only
	if step3.Keys()[1].Private() {
		t.Fatal("retired key is still private")
	}

	for _, tt := range []struct {
		name string
		v    *jwtverify.Verifier
		tok  string
	}{
		{"step-1 JWKS verifies a step-2 token", verifier(step1), tok2},
		{"step-3 JWKS verifies a step-0 token", verifier(step3), tok0},
		{"step-3 JWKS verifies a step-2 token", verifier(step3), tok2},
	} {
		if _, err := tt.v.Verify(ctx, tt.tok); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	now := time.Now().Unix()
	claims := accessClaims{Iss: "https://tokens.example.com", Sub: "5b7f3c7e-8d2a-4c1e-9f00-000000000001", Aud: "api",
		ClientID: "3n4b5urk1ft4fl3mg5e62d9ado", Exp: now + 300, Iat: now, JTI: "9d3b0c6a1f2e4d5c8b7a6f5e4d3c2b1a",
		SID: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", Groups: []string{"users", "admin"}}
	for _, alg := range algs {
		b.Run(alg, func(b *testing.B) {
			k, err := keys.Generate(alg)
			if err != nil {
				b.Fatal(err)
			}
			set, err := keys.NewSet("", k)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := set.Sign("at+jwt", claims); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
