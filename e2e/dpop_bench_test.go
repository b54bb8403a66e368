package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/internal/dev/benchpair"
	"github.com/shortfuse/shortfuse/internal/dev/dpoptest"
)

// The DPoP benchmarks run the rest-request handler on DPoP-bound tokens,
// each request with its own proof, against the bare signature checks the
// decision cannot avoid: the proof's (ES256) on every request, and the
// token's (RS256) when the token is not cached.

const dpopURL = "https://api.example.com/prod/hello"

type dpopItem struct {
	ev                   events.APIGatewayCustomAuthorizerRequestTypeRequest
	tokInput, tokSig     []byte
	proofInput, proofDER []byte
}

type dpopFixture struct {
	*decisionFixture
	client *dpoptest.Client
	items  []dpopItem
	warm   events.APIGatewayCustomAuthorizerRequestTypeRequest // caches the token of items[0]
}

// newDPoPFixture returns benchPool requests: with fresh, each for its own
// bound token; without, all for one bound token.
func newDPoPFixture(b *testing.B, fresh bool) *dpopFixture {
	fx := getDecisionFixture(b)
	c := dpoptest.New(b, "ES256")
	claims := map[string]any{"groups": []string{"users"}, "scope": "openid profile orders:read", "username": "ada@example.com",
		"cnf": map[string]any{"jkt": c.JKT}}
	cfg := fx.cfg
	cfg.Shape = authorizer.ShapeRESTRequest
	dfx := &dpopFixture{decisionFixture: &decisionFixture{iss: fx.iss, cfg: cfg, set: fx.set, arn: fx.arn}, client: c}
	tok := fx.iss.AccessToken(claims)
	event := func(tok, proof string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
		return events.APIGatewayCustomAuthorizerRequestTypeRequest{
			Type: "REQUEST", MethodArn: fx.arn, HTTPMethod: "GET", Path: "/hello",
			Headers: map[string]string{"Host": "api.example.com", "Authorization": "DPoP " + tok, "DPoP": proof},
			RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
				Path: "/prod/hello", Stage: "prod", HTTPMethod: "GET",
			},
		}
	}
	dfx.warm = event(tok, c.Proof("GET", dpopURL, tok, ""))
	for range benchPool {
		if fresh {
			tok = fx.iss.AccessToken(claims)
		}
		proof := c.Proof("GET", dpopURL, tok, "")
		it := dpopItem{ev: event(tok, proof)}
		it.tokInput, it.tokSig = splitSigned(b, tok)
		var sig []byte
		it.proofInput, sig = splitSigned(b, proof)
		der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
		if err != nil {
			b.Fatal(err)
		}
		it.proofDER = der
		dfx.items = append(dfx.items, it)
	}
	return dfx
}

// run interleaves a decision and the bare checks on each item, alternating
// their order, and reports the ratio of their medians. The authorizer is
// rebuilt, replay cache and token cache empty, before each pass over the
// items (proofs are single-use); with cached, the token is put in the
// cache first, untimed.
func (dfx *dpopFixture) run(b *testing.B, cached bool, bare func(*dpopItem)) {
	ctx := context.Background()
	var a *authorizer.Authorizer
	rebuild := func() {
		if a != nil {
			a.Close()
		}
		a = dfx.authorizer(b)
		if cached {
			if _, err := a.RESTRequest(ctx, dfx.warm); err != nil {
				b.Fatal(err)
			}
		}
	}
	rebuild()
	decide := func(it *dpopItem) {
		resp, err := a.RESTRequest(ctx, it.ev)
		if err != nil || len(resp.PolicyDocument.Statement) != 1 || resp.PolicyDocument.Statement[0].Effect != "Allow" {
			b.Fatal("refused", err)
		}
	}
	var pair benchpair.Pair
	i := 0
	for b.Loop() {
		j := i % len(dfx.items)
		if j == 0 && i > 0 {
			b.StopTimer()
			rebuild()
			b.StartTimer()
		}
		it := &dfx.items[j]
		pair.Time(func() { decide(it) }, func() { bare(it) })
		i++
	}
	a.Close()
	d, s := pair.Medians()
	b.ReportMetric(float64(d), "decision-ns/op")
	b.ReportMetric(float64(s), "sig-ns/op")
	b.ReportMetric(float64(d)/float64(s), "ratio")
}

// BenchmarkDPoPCachedVsSignature: a DPoP decision on a cached bound token
// (proof parsed and verified, htm/htu/iat/ath/jkt/jti checked, revocation
// and route) against the bare ES256 check of the proof's signature.
func BenchmarkDPoPCachedVsSignature(b *testing.B) {
	dfx := newDPoPFixture(b, false)
	pub := dfx.client.Signer().Public().(*ecdsa.PublicKey)
	dfx.run(b, true, func(it *dpopItem) {
		h := sha256.Sum256(it.proofInput)
		if !ecdsa.VerifyASN1(pub, h[:], it.proofDER) {
			b.Fatal("proof signature")
		}
	})
}

// BenchmarkDPoPFreshVsSignatures: a DPoP decision on a bound token not yet
// cached against the two bare checks: the token's RS256 and the proof's
// ES256 signature.
func BenchmarkDPoPFreshVsSignatures(b *testing.B) {
	dfx := newDPoPFixture(b, true)
	pub := dfx.client.Signer().Public().(*ecdsa.PublicKey)
	tokPub := dfx.iss.Public().(*rsa.PublicKey)
	dfx.run(b, false, func(it *dpopItem) {
		h := sha256.Sum256(it.tokInput)
		if rsa.VerifyPKCS1v15(tokPub, crypto.SHA256, h[:], it.tokSig) != nil {
			b.Fatal("token signature")
		}
		h = sha256.Sum256(it.proofInput)
		if !ecdsa.VerifyASN1(pub, h[:], it.proofDER) {
			b.Fatal("proof signature")
		}
	})
}
