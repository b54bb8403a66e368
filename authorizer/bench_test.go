package authorizer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/jwtverify/jwttest"
	"github.com/shortfuse/shortfuse/shared/store"
)

// benchFixture is shared by the benchmarks so that every figure in one run
// is measured on the same key and tokens.
type benchFixture struct {
	f      *fixture
	tokens []string // distinct tokens, for cache misses
	token  string   // one token, for cache hits and the baselines
	arn    string
}

var (
	benchOnce sync.Once
	benchFx   *benchFixture
)

const benchPool = 512

func getBenchFixture(b *testing.B) *benchFixture {
	benchOnce.Do(func() {
		iss := jwttest.NewIssuer(b, "RS256")
		f := newFixtureFor(&onceTB{TB: b}, iss, ModeExchange, iss.JWKS())
		now := time.Now()
		for i := range 100 {
			f.log.add(store.RevokeSession, fmt.Sprint("revoked-", i), now)
		}
		if err := f.set.Refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
		claims := map[string]any{"groups": []string{"users"}, "scope": "openid profile orders:read", "username": "ada@example.com"}
		fx := &benchFixture{f: f, token: iss.AccessToken(claims), arn: testPrefix + "/GET/hello"}
		for range benchPool {
			fx.tokens = append(fx.tokens, iss.AccessToken(claims))
		}
		benchFx = fx
	})
	if benchFx == nil {
		b.Fatal("bench fixture failed")
	}
	return benchFx
}

// onceTB keeps the shared fixture alive past the first benchmark: its
// cleanups never run (the process ends with the benchmarks).
type onceTB struct{ testing.TB }

func (onceTB) Cleanup(func()) {}

// BenchmarkSignatureRS256 is the baseline: SHA-256 of the signing input and
// the RSA PKCS#1 v1.5 check of an already decoded signature, nothing else.
func BenchmarkSignatureRS256(b *testing.B) {
	fx := getBenchFixture(b)
	i := strings.LastIndexByte(fx.token, '.')
	input := []byte(fx.token[:i])
	sig, err := base64.RawURLEncoding.DecodeString(fx.token[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	pub := fx.f.iss.Public().(*rsa.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecisionFresh: the REST TOKEN handler on tokens it has not seen
// (verification, revocation check, route policy, policy document).
func BenchmarkDecisionFresh(b *testing.B) {
	fx := getBenchFixture(b)
	ctx := context.Background()
	evs := make([]events.APIGatewayCustomAuthorizerRequest, len(fx.tokens))
	for i, t := range fx.tokens {
		evs[i] = events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + t, MethodArn: fx.arn}
	}
	fx.f.a.cache.reset()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(evs)
		if j == 0 && i > 0 {
			b.StopTimer()
			fx.f.a.cache.reset()
			b.StartTimer()
		}
		resp, err := fx.f.a.RESTToken(ctx, evs[j])
		if err != nil || len(resp.PolicyDocument.Statement) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecisionRepeated: the same handler on a token in the cache.
func BenchmarkDecisionRepeated(b *testing.B) {
	fx := getBenchFixture(b)
	ctx := context.Background()
	ev := events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + fx.token, MethodArn: fx.arn}
	if _, err := fx.f.a.RESTToken(ctx, ev); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := fx.f.a.RESTToken(ctx, ev)
		if err != nil || resp.PrincipalID == "" {
			b.Fatal(err)
		}
	}
}

// BenchmarkJWTVerify: shared/jwtverify alone, for its owner.
func BenchmarkJWTVerify(b *testing.B) {
	fx := getBenchFixture(b)
	v, err := jwtverify.New(jwtverify.Config{Keys: fx.f.iss.Keys(), Issuer: fx.f.iss.Issuer,
		Audiences: []string{fx.f.iss.Audience}, Type: "at+jwt"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, fx.token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJWXParse: a plain jwx jwt.Parse with validation, for reference.
func BenchmarkJWXParse(b *testing.B) {
	fx := getBenchFixture(b)
	tok := []byte(fx.token)
	pub := fx.f.iss.Public()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jwt.Parse(tok, jwt.WithKey(jwa.RS256(), pub)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJWXVerify: jwx signature verification only, for reference.
func BenchmarkJWXVerify(b *testing.B) {
	fx := getBenchFixture(b)
	tok := []byte(fx.token)
	pub := fx.f.iss.Public()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jws.Verify(tok, jws.WithKey(jwa.RS256(), pub)); err != nil {
			b.Fatal(err)
		}
	}
}

var (
	nodeOnce   sync.Once
	nodeResult struct {
		Fresh    float64 `json:"fresh_ns_per_op"`
		Repeated float64 `json:"repeated_ns_per_op"`
	}
	nodeErr error
)

// BenchmarkAWSJWTVerify runs aws-jwt-verify (Node) on the same tokens and
// reports its ns/op; the Go loop itself does nothing.
func BenchmarkAWSJWTVerify(b *testing.B) {
	fx := getBenchFixture(b)
	nodeOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		in, _ := json.Marshal(map[string]any{
			"issuer": fx.f.iss.Issuer, "audience": fx.f.iss.Audience, "jwks": string(fx.f.iss.JWKS()),
			"fresh": fx.tokens, "repeated": fx.token, "ms": 1500,
		})
		cmd := exec.Command("node", filepath.Join(filepath.Dir(file), "bench", "awsjwtverify.mjs"))
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			nodeErr = fmt.Errorf("node: %v: %s", err, stderr.String())
			return
		}
		nodeErr = json.Unmarshal(out, &nodeResult)
	})
	if nodeErr != nil {
		b.Fatal(nodeErr)
	}
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(nodeResult.Fresh, "ns/op")
	})
	b.Run("repeated", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(nodeResult.Repeated, "ns/op")
	})
}

// BenchmarkFreshVsSignature interleaves a bare signature check and a fresh
// decision on the same token, alternating their order, so that both see the
// same machine load; it reports their ratio.
func BenchmarkFreshVsSignature(b *testing.B) {
	fx := getBenchFixture(b)
	ctx := context.Background()
	pub := fx.f.iss.Public().(*rsa.PublicKey)
	type item struct {
		input, sig []byte
		ev         events.APIGatewayCustomAuthorizerRequest
	}
	items := make([]item, len(fx.tokens))
	for i, t := range fx.tokens {
		k := strings.LastIndexByte(t, '.')
		sig, err := base64.RawURLEncoding.DecodeString(t[k+1:])
		if err != nil {
			b.Fatal(err)
		}
		items[i] = item{[]byte(t[:k]), sig, events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + t, MethodArn: fx.arn}}
	}
	check := func(it *item) {
		h := sha256.Sum256(it.input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], it.sig); err != nil {
			b.Fatal(err)
		}
	}
	decide := func(it *item) {
		if _, err := fx.f.a.RESTToken(ctx, it.ev); err != nil {
			b.Fatal(err)
		}
	}
	v, err := jwtverify.New(jwtverify.Config{Keys: fx.f.iss.Keys(), Issuer: fx.f.iss.Issuer,
		Audiences: []string{fx.f.iss.Audience}, Type: "at+jwt"})
	if err != nil {
		b.Fatal(err)
	}
	verify := func(it *item) {
		if _, err := v.Verify(ctx, it.ev.AuthorizationToken[len("Bearer "):]); err != nil {
			b.Fatal(err)
		}
	}
	fx.f.a.cache.reset()
	// Medians, not sums: a preemption or a GC cycle landing in one sample
	// must not decide the ratio.
	var sigs, decs, vers []time.Duration
	i := 0
	for b.Loop() {
		j := i % len(items)
		if j == 0 && i > 0 {
			fx.f.a.cache.reset()
		}
		it := &items[j]
		if i%2 == 0 {
			t0 := time.Now()
			check(it)
			t1 := time.Now()
			decide(it)
			t2 := time.Now()
			sigs, decs = append(sigs, t1.Sub(t0)), append(decs, t2.Sub(t1))
		} else {
			t0 := time.Now()
			decide(it)
			t1 := time.Now()
			check(it)
			t2 := time.Now()
			decs, sigs = append(decs, t1.Sub(t0)), append(sigs, t2.Sub(t1))
		}
		t0 := time.Now()
		verify(it)
		vers = append(vers, time.Since(t0))
		i++
	}
	sig, dec := median(sigs), median(decs)
	b.ReportMetric(float64(sig.Nanoseconds()), "sig-ns/op")
	b.ReportMetric(float64(dec.Nanoseconds()), "decision-ns/op")
	b.ReportMetric(float64(dec)/float64(sig), "ratio")
	b.ReportMetric(float64(median(vers))/float64(sig), "jwtverify-ratio")
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
