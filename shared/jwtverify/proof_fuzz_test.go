package jwtverify_test

import (
	"errors"
	"testing"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

// FuzzParseProof feeds arbitrary proofs, and arbitrary headers and claims
// signed with a real key, to ParseProof. It must never panic, must return
// either a proof or an error wrapping one Err value, and a proof it returns
// must name a key of the algorithm its header asked for.
func FuzzParseProof(f *testing.F) {
	iss := jwttest.NewIssuer(f, jwtverify.ES256)
	algs := []string{jwtverify.ES256, jwtverify.EdDSA, jwtverify.RS256}
	f.Add("e30.e30.", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}}`, `{"htm":"GET","htu":"https://a/","iat":1,"jti":"x"}`)
	f.Add("a.b.c", `{"typ":"dpop+jwt","alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}`, `{"iat":"1"}`)
	f.Add("", `{"typ":"dpop+jwt","alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQ"}}`, `{"htm":"GET","htm":"POST"}`)
	f.Add("x.y.z", `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","jwk":{"a":[1,{"b":null}]}}}`, `[]`)
	f.Fuzz(func(t *testing.T, raw, header, claims string) {
		for _, tok := range []string{raw, iss.SignRaw([]byte(header), []byte(claims))} {
			p, err := jwtverify.ParseProof(tok, "dpop+jwt", algs, 0)
			if (p == nil) == (err == nil) {
				t.Fatalf("proof %v, err %v", p, err)
			}
			if err != nil {
				n := 0
				for _, e := range []error{jwtverify.ErrMalformed, jwtverify.ErrTooLarge, jwtverify.ErrAlgorithm, jwtverify.ErrHeader,
					jwtverify.ErrSignature, jwtverify.ErrClaims} {
					if errors.Is(err, e) {
						n++
					}
				}
				if n != 1 {
					t.Fatalf("error %v wraps %d Err values", err, n)
				}
				continue
			}
			if p.JKT == "" || p.Key.Public == nil {
				t.Fatalf("proof without a key: %+v", p)
			}
		}
	})
}
