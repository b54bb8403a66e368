package dpop_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/dev/benchpair"
	"github.com/shortfuse/shortfuse/internal/dev/dpoptest"
	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/dpop"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

// benchPool is the number of distinct proofs a benchmark cycles through;
// the verifier is rebuilt, with an empty replay cache, before each pass.
const benchPool = 1024

type benchProof struct {
	proof      string
	input, der []byte
}

func benchProofs(b *testing.B) (*dpoptest.Client, string, []benchProof) {
	b.Helper()
	c := newClient(b, jwtverify.ES256)
	iss := jwttest.NewIssuer(b, jwtverify.ES256)
	iss.Now = clock
	token := iss.AccessToken(map[string]any{"cnf": map[string]any{"jkt": c.JKT}})
	out := make([]benchProof, benchPool)
	for i := range out {
		p := c.Proof(testMethod, testURL, token, "")
		dot := strings.LastIndexByte(p, '.')
		sig, err := base64.RawURLEncoding.DecodeString(p[dot+1:])
		if err != nil {
			b.Fatal(err)
		}
		der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
		if err != nil {
			b.Fatal(err)
		}
		out[i] = benchProof{p, []byte(p[:dot]), der}
	}
	return c, token, out
}

// BenchmarkDPoPCheck is a full proof check: parse, key, signature, claims,
// URL normalisation, ath, thumbprint and the replay cache.
func BenchmarkDPoPCheck(b *testing.B) {
	c, token, proofs := benchProofs(b)
	req := dpop.Request{Method: testMethod, URL: testURL, AccessToken: token, JKT: c.JKT}
	v := newVerifier(b, func(cfg *dpop.Config) { cfg.ReplayCapacity = benchPool })
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%benchPool == 0 && i > 0 {
			v = newVerifier(b, func(cfg *dpop.Config) { cfg.ReplayCapacity = benchPool })
		}
		if _, err := v.Check(proofs[i%benchPool].proof, req); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDPoPVsSignature interleaves a proof check and the bare ES256
// check of the same proof's signature (hash and verify, the signature
// already decoded, the key already parsed), alternating their order, and
// reports the ratio of their medians.
func BenchmarkDPoPVsSignature(b *testing.B) {
	c, token, proofs := benchProofs(b)
	pub := c.Signer().Public().(*ecdsa.PublicKey)
	req := dpop.Request{Method: testMethod, URL: testURL, AccessToken: token, JKT: c.JKT}
	v := newVerifier(b, func(cfg *dpop.Config) { cfg.ReplayCapacity = benchPool })
	check := func(p *benchProof) {
		if _, err := v.Check(p.proof, req); err != nil {
			b.Fatal(err)
		}
	}
	bare := func(p *benchProof) {
		h := sha256.Sum256(p.input)
		if !ecdsa.VerifyASN1(pub, h[:], p.der) {
			b.Fatal("signature does not verify")
		}
	}
	var pair benchpair.Pair
	i := 0
	for b.Loop() {
		j := i % benchPool
		if j == 0 && i > 0 {
			v = newVerifier(b, func(cfg *dpop.Config) { cfg.ReplayCapacity = benchPool })
		}
		p := &proofs[j]
		pair.Time(func() { check(p) }, func() { bare(p) })
		i++
	}
	mc, ms := pair.Medians()
	b.ReportMetric(float64(mc), "dpop-ns/op")
	b.ReportMetric(float64(ms), "sig-ns/op")
	b.ReportMetric(float64(mc)/float64(ms), "ratio")
}
