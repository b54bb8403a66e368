package jwtverify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

// FuzzVerify feeds arbitrary tokens, and arbitrary headers and claims
// signed with a trusted key, to verifiers of both kinds. Verify must never
// panic, and must return either claims or an error wrapping exactly one Err
// value.
func FuzzVerify(f *testing.F) {
	iss := jwttest.NewIssuer(f, jwtverify.EdDSA)
	iss.Now = func() time.Time { return testNow }
	rsaIss := jwttest.NewIssuer(f, jwtverify.RS256)
	rsaIss.Now = iss.Now
	keys, err := jwtverify.NewStaticJWKS(jwttest.JoinJWKS(iss.JWKS(), rsaIss.JWKS()))
	if err != nil {
		f.Fatal(err)
	}
	newV := func(edit func(*jwtverify.Config)) *jwtverify.Verifier {
		cfg := jwtverify.Config{
			Keys: keys, Issuer: iss.Issuer, Audiences: []string{iss.ClientID}, TokenUse: "id",
			Algorithms: []string{"EdDSA", "RS256"}, MaxAge: time.Hour, Now: iss.Now,
		}
		if edit != nil {
			edit(&cfg)
		}
		v, err := jwtverify.New(cfg)
		if err != nil {
			f.Fatal(err)
		}
		return v
	}
	idV := newV(nil)
	atV := newV(func(c *jwtverify.Config) {
		c.Audiences, c.ClientIDs, c.TokenUse, c.Type = []string{iss.Audience}, []string{iss.ClientID}, "", "at+jwt"
	})

	hdr := `{"alg":"EdDSA","kid":"` + iss.KID + `"}`
	f.Add(iss.CognitoIDToken(nil), hdr, `{"iss":"https://issuer.test","sub":"u","aud":"client-1","token_use":"id","iat":1800000000,"exp":1800000600}`)
	f.Add(rsaIss.CognitoIDToken(nil), `{"alg":"EdDSA","kid":"`+iss.KID+`","typ":"at+jwt"}`,
		`{"iss":"https://issuer.test","sub":"u","aud":"shortfuse","client_id":"client-1","iat":1800000000,"exp":1800000600,"groups":["a"]}`)
	f.Add(iss.AccessToken(nil), hdr, `{"exp":"1800000600","aud":1}`)
	f.Add(jwttest.Unsigned(map[string]any{"alg": "none"}, map[string]any{"sub": "x"}), `{"alg":"none"}`, `{}`)
	f.Add("e30.e30.", `{"alg":"EdDSA","kid":"`+iss.KID+`","crit":["b64"],"b64":false}`, `null`)
	f.Add(`{"payload":"e30","signatures":[]}`, `{"alg":"EdDSA","kid":"`+iss.KID+`","jku":"http://x"}`, `[]`)
	f.Add("a.b.c.d", hdr, `{"sub":"\ud800"}`)

	ctx := context.Background()
	check := func(t *testing.T, v *jwtverify.Verifier, tok string) {
		c, err := v.Verify(ctx, tok)
		if (c == nil) == (err == nil) {
			t.Fatalf("Verify = %v, %v", c, err)
		}
		if err != nil {
			checkOneSentinel(t, err)
		}
	}
	f.Fuzz(func(t *testing.T, token, header, payload string) {
		check(t, idV, token)
		check(t, atV, token)
		signed := iss.SignRaw([]byte(header), []byte(payload))
		check(t, idV, signed)
		check(t, atV, signed)
	})
}

// FuzzParseJWKS: ParseJWKS never panics and only returns keys of a
// supported type that fits their algorithm.
func FuzzParseJWKS(f *testing.F) {
	for _, alg := range []string{jwtverify.RS256, jwtverify.ES256, jwtverify.EdDSA} {
		f.Add(string(jwttest.NewIssuer(f, alg).JWKS()))
	}
	f.Add(cognitoLocalJWKS)
	f.Add(`{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`)
	f.Add(`{"keys":[{"kty":"oct","kid":"a","k":"AAAA"}]}`)
	f.Add(`{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"","y":""}]}`)
	f.Add(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`)
	f.Add(`{"keys":{}}`)
	f.Add(`{"kty":"RSA"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		keys, err := jwtverify.ParseJWKS([]byte(doc))
		if err != nil {
			return
		}
		if len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		for kid, k := range keys {
			ok := false
			switch p := k.Public.(type) {
			case *rsa.PublicKey:
				ok = k.Alg == jwtverify.RS256 && p.N.BitLen() >= 2048
			case *ecdsa.PublicKey:
				ok = k.Alg == jwtverify.ES256
			case ed25519.PublicKey:
				ok = k.Alg == jwtverify.EdDSA && len(p) == ed25519.PublicKeySize
			}
			if !ok || kid == "" {
				t.Fatalf("key %q: %T for %s", kid, k.Public, k.Alg)
			}
		}
	})
}
