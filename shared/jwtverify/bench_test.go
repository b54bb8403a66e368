package jwtverify_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

var benchAlgs = []string{jwtverify.RS256, jwtverify.ES256, jwtverify.EdDSA}

// benchToken returns a Cognito-style ID token and a verifier for it.
func benchToken(b *testing.B, alg string) (*jwttest.Issuer, string, *jwtverify.Verifier) {
	b.Helper()
	iss := jwttest.NewIssuer(b, alg)
	tok := iss.CognitoIDToken(nil)
	v, err := jwtverify.New(jwtverify.Config{
		Keys:       iss.Keys(),
		Issuer:     iss.Issuer,
		Audiences:  []string{iss.ClientID},
		TokenUse:   "id",
		Algorithms: []string{alg},
	})
	if err != nil {
		b.Fatal(err)
	}
	return iss, tok, v
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			_, tok, v := benchToken(b, alg)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBareSignature is the floor Verify is measured against: hashing
// the same signing input and the standard library's signature check, with
// the signature already decoded.
func BenchmarkBareSignature(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			iss, tok, _ := benchToken(b, alg)
			verify := bareVerify(b, iss, tok)
			b.ReportAllocs()
			for b.Loop() {
				if !verify() {
					b.Fatal("signature does not verify")
				}
			}
		})
	}
}

// BenchmarkOverhead alternates Verify and the bare signature check on the
// same token and reports their ratio, which stays meaningful on a busy
// machine where separate runs drift apart.
func BenchmarkOverhead(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			iss, tok, v := benchToken(b, alg)
			verify := bareVerify(b, iss, tok)
			ctx := context.Background()
			var full, bare time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if !verify() {
					b.Fatal("signature does not verify")
				}
				full += t1.Sub(t0)
				bare += time.Since(t1)
			}
			b.ReportMetric(float64(full)/float64(bare), "verify/bare")
		})
	}
}

func bareVerify(b *testing.B, iss *jwttest.Issuer, tok string) func() bool {
	dot := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:dot])
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil {
		b.Fatal(err)
	}
	switch pub := iss.Public().(type) {
	case *rsa.PublicKey:
		return func() bool {
			h := sha256.Sum256(input)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
		}
	case *ecdsa.PublicKey:
		der := derSignature(b, sig)
		return func() bool {
			h := sha256.Sum256(input)
			return ecdsa.VerifyASN1(pub, h[:], der)
		}
	case ed25519.PublicKey:
		return func() bool { return ed25519.Verify(pub, input, sig) }
	}
	b.Fatalf("unexpected key type %T", iss.Public())
	return nil
}

// BenchmarkJWXParse is a general-purpose library doing the same job, for
// reference.
func BenchmarkJWXParse(b *testing.B) {
	b.Run(jwtverify.RS256, func(b *testing.B) {
		iss, tok, _ := benchToken(b, jwtverify.RS256)
		raw := []byte(tok)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jwt.Parse(raw, jwt.WithKey(jwa.RS256(), iss.Public()), jwt.WithIssuer(iss.Issuer),
				jwt.WithAudience(iss.ClientID), jwt.WithAcceptableSkew(30*time.Second)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func derSignature(b *testing.B, sig []byte) []byte {
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
	if err != nil {
		b.Fatal(err)
	}
	return der
}
