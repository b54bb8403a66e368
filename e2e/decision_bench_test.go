package e2e

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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/internal/dev/benchpair"
	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/revset"
	"github.com/shortfuse/shortfuse/shared/store"
)

// The decision benchmarks run the authorizer in process, as its Lambda
// handler would, on an exchange-mode configuration with a route table of a
// realistic size and a revocation set holding 100 entries.

const benchRoutes = `[
	{"route": "GET /hello"},
	{"route": "ANY /users/*", "groups": ["users", "admin"]},
	{"route": "GET /users/*/secrets", "groups": ["admin"]},
	{"route": "ANY /admin/*", "groups": ["admin"]},
	{"route": "POST /orders", "scopes": ["orders:write"]}
]`

// benchPool is the number of distinct tokens the fresh-token benchmarks
// cycle through; the authorizer is rebuilt, with an empty token cache,
// before each pass over them.
const benchPool = 512

// memRevocations is a revocation log in memory.
type memRevocations []store.Revocation

func (m memRevocations) RevocationsSince(_ context.Context, since, now time.Time) ([]store.Revocation, error) {
	var out []store.Revocation
	for _, r := range m {
		if !r.At.Before(since) && r.Until.After(now) {
			out = append(out, r)
		}
	}
	return out, nil
}

// decisionFixture is shared by the decision benchmarks so that every figure
// of one run is measured on the same key and tokens.
type decisionFixture struct {
	iss    *jwttest.Issuer
	cfg    authorizer.Config
	set    *revset.Set
	tokens []string // distinct tokens, for cache misses
	token  string   // one token, for cache hits and the baselines
	arn    string
}

var (
	decisionOnce sync.Once
	decisionFx   *decisionFixture
	decisionErr  error
)

func getDecisionFixture(b *testing.B) *decisionFixture {
	decisionOnce.Do(func() { decisionFx, decisionErr = newDecisionFixture(b) })
	if decisionErr != nil {
		b.Fatal(decisionErr)
	}
	return decisionFx
}

func newDecisionFixture(b *testing.B) (*decisionFixture, error) {
	iss := jwttest.NewIssuer(b, jwtverify.RS256)
	routes, err := authorizer.ParseRoutes([]byte(benchRoutes))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var log memRevocations
	for i := range 100 {
		log = append(log, store.Revocation{ID: fmt.Sprintf("%d#%03d", now.UnixNano(), i), Kind: store.RevokeSession,
			Value: fmt.Sprint("revoked-", i), At: now, Until: now.Add(time.Hour)})
	}
	// Polled by hand: the benchmarks measure decisions, not polls. The set
	// lives as long as the process.
	set := revset.New(revset.SourceFunc(log.RevocationsSince), revset.Options{Poll: time.Hour, Grace: 2 * time.Hour})
	if err := set.Start(context.Background()); err != nil {
		return nil, err
	}
	fx := &decisionFixture{
		iss: iss,
		cfg: authorizer.Config{
			Mode: authorizer.ModeExchange, Shape: authorizer.ShapeRESTToken, Issuer: iss.Issuer,
			Audiences: []string{iss.Audience}, ClientIDs: []string{iss.ClientID}, JWKS: iss.JWKS(),
			Routes: routes, TokenCacheSize: authorizer.DefaultTokenCacheSize,
		},
		set: set,
		arn: "arn:aws:execute-api:us-east-1:123456789012:api123/prod/GET/hello",
	}
	claims := map[string]any{"groups": []string{"users"}, "scope": "openid profile orders:read", "username": "ada@example.com"}
	fx.token = iss.AccessToken(claims)
	for range benchPool {
		fx.tokens = append(fx.tokens, iss.AccessToken(claims))
	}
	return fx, nil
}

// authorizer returns a new authorizer, its token cache empty.
func (fx *decisionFixture) authorizer(b *testing.B) *authorizer.Authorizer {
	a, err := authorizer.Open(context.Background(), fx.cfg, authorizer.Deps{Revocations: fx.set})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

func (fx *decisionFixture) event(token string) events.APIGatewayCustomAuthorizerRequest {
	return events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + token, MethodArn: fx.arn}
}

// splitSigned returns a token's signing input and decoded signature.
func splitSigned(b *testing.B, token string) (input, sig []byte) {
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	return []byte(token[:i]), sig
}

// BenchmarkSignatureRS256 is the baseline: SHA-256 of the signing input and
// the RSA PKCS#1 v1.5 check of an already decoded signature, nothing else.
func BenchmarkSignatureRS256(b *testing.B) {
	fx := getDecisionFixture(b)
	input, sig := splitSigned(b, fx.token)
	pub := fx.iss.Public().(*rsa.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecisionFresh: the REST TOKEN handler on tokens it has not seen
// (verification, revocation check, route policy, policy document, caching).
func BenchmarkDecisionFresh(b *testing.B) {
	fx := getDecisionFixture(b)
	ctx := context.Background()
	evs := make([]events.APIGatewayCustomAuthorizerRequest, len(fx.tokens))
	for i, t := range fx.tokens {
		evs[i] = fx.event(t)
	}
	a := fx.authorizer(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(evs)
		if j == 0 && i > 0 {
			b.StopTimer()
			a.Close()
			a = fx.authorizer(b)
			b.StartTimer()
		}
		resp, err := a.RESTToken(ctx, evs[j])
		if err != nil || len(resp.PolicyDocument.Statement) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecisionRepeated: the same handler on a token in the cache.
func BenchmarkDecisionRepeated(b *testing.B) {
	fx := getDecisionFixture(b)
	ctx := context.Background()
	a := fx.authorizer(b)
	ev := fx.event(fx.token)
	if _, err := a.RESTToken(ctx, ev); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := a.RESTToken(ctx, ev)
		if err != nil || resp.PrincipalID == "" {
			b.Fatal(err)
		}
	}
}

func (fx *decisionFixture) verifier(b *testing.B) *jwtverify.Verifier {
	v, err := jwtverify.New(jwtverify.Config{Keys: fx.iss.Keys(), Issuer: fx.iss.Issuer,
		Audiences: []string{fx.iss.Audience}, ClientIDs: []string{fx.iss.ClientID}, Type: "at+jwt"})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// BenchmarkJWTVerify: shared/jwtverify alone.
func BenchmarkJWTVerify(b *testing.B) {
	fx := getDecisionFixture(b)
	v := fx.verifier(b)
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
	fx := getDecisionFixture(b)
	tok := []byte(fx.token)
	pub := fx.iss.Public()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jwt.Parse(tok, jwt.WithKey(jwa.RS256(), pub)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJWXVerify: jwx signature verification only, for reference.
func BenchmarkJWXVerify(b *testing.B) {
	fx := getDecisionFixture(b)
	tok := []byte(fx.token)
	pub := fx.iss.Public()
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

// BenchmarkAWSJWTVerify runs aws-jwt-verify (Node, from the repository's
// node_modules) on the same tokens and reports its ns/op; the Go loop itself
// does nothing.
func BenchmarkAWSJWTVerify(b *testing.B) {
	fx := getDecisionFixture(b)
	nodeOnce.Do(func() {
		script, err := filepath.Abs(filepath.Join("testdata", "awsjwtverify.mjs"))
		if err != nil {
			nodeErr = err
			return
		}
		in, _ := json.Marshal(map[string]any{
			"issuer": fx.iss.Issuer, "audience": fx.iss.Audience, "jwks": string(fx.iss.JWKS()),
			"fresh": fx.tokens, "repeated": fx.token, "ms": 1500,
		})
		cmd := exec.Command("node", script)
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
// same machine load; it reports the ratio of their medians, and that of
// jwtverify.Verify alone.
func BenchmarkFreshVsSignature(b *testing.B) {
	fx := getDecisionFixture(b)
	ctx := context.Background()
	pub := fx.iss.Public().(*rsa.PublicKey)
	type item struct {
		input, sig []byte
		token      string
		ev         events.APIGatewayCustomAuthorizerRequest
	}
	items := make([]item, len(fx.tokens))
	for i, t := range fx.tokens {
		input, sig := splitSigned(b, t)
		items[i] = item{input, sig, t, fx.event(t)}
	}
	a := fx.authorizer(b)
	v := fx.verifier(b)
	check := func(it *item) {
		h := sha256.Sum256(it.input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], it.sig); err != nil {
			b.Fatal(err)
		}
	}
	decide := func(it *item) {
		if _, err := a.RESTToken(ctx, it.ev); err != nil {
			b.Fatal(err)
		}
	}
	verify := func(it *item) {
		if _, err := v.Verify(ctx, it.token); err != nil {
			b.Fatal(err)
		}
	}
	var pair benchpair.Pair
	var vers []time.Duration
	i := 0
	for b.Loop() {
		j := i % len(items)
		if j == 0 && i > 0 {
			a.Close()
			a = fx.authorizer(b)
		}
		it := &items[j]
		pair.Time(func() { check(it) }, func() { decide(it) })
		t0 := time.Now()
		verify(it)
		vers = append(vers, time.Since(t0))
		i++
	}
	sig, dec := pair.Medians()
	b.ReportMetric(float64(sig.Nanoseconds()), "sig-ns/op")
	b.ReportMetric(float64(dec.Nanoseconds()), "decision-ns/op")
	b.ReportMetric(float64(dec)/float64(sig), "ratio")
	b.ReportMetric(float64(benchpair.Median(vers))/float64(sig), "jwtverify-ratio")
}
