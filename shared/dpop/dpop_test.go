package dpop_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/dpoptest"
	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/dpop"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

var testNow = time.Unix(1_800_000_000, 0)

const (
	testURL    = "https://api.example.com/v1/orders"
	testMethod = "POST"
)

func clock() time.Time { return testNow }

func newVerifier(t testing.TB, edit func(*dpop.Config)) *dpop.Verifier {
	t.Helper()
	cfg := dpop.Config{Now: clock}
	if edit != nil {
		edit(&cfg)
	}
	v, err := dpop.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newClient(t testing.TB, alg string) *dpoptest.Client {
	c := dpoptest.New(t, alg)
	c.Now = clock
	return c
}

func nonces(t testing.TB, key string) *dpop.Nonces {
	n, err := dpop.NewNonces([]byte(strings.Repeat(key, 32)), time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// hostileCase is one proof that must be refused with want.
type hostileCase struct {
	name string
	// header is the DPoP header's values; proof builds a single one when
	// header is nil.
	header []string
	proof  func() string
	req    func(*dpop.Request)
	v      *dpop.Verifier // default: a fresh verifier without nonces
	want   *dpop.Error
}

func TestHostileProofs(t *testing.T) {
	c := newClient(t, jwtverify.ES256)
	other := newClient(t, jwtverify.ES256)
	iss := jwttest.NewIssuer(t, jwtverify.ES256)
	iss.Now = clock
	token := iss.AccessToken(map[string]any{"cnf": map[string]any{"jkt": c.JKT}})
	good := func() map[string]any { return c.Claims(testMethod, testURL, token, "") }
	with := func(edit func(h, cl map[string]any)) func() string {
		return func() string {
			h, cl := c.Header(), good()
			edit(h, cl)
			return c.Sign(h, cl)
		}
	}
	ns := nonces(t, "k")
	nonceV := newVerifier(t, func(cfg *dpop.Config) { cfg.Nonces = ns })
	replayV := newVerifier(t, nil)
	replayed := c.Proof(testMethod, testURL, token, "")
	if _, err := replayV.Check(replayed, dpop.Request{Method: testMethod, URL: testURL, AccessToken: token, JKT: c.JKT}); err != nil {
		t.Fatalf("first use of the replayed proof: %v", err)
	}
	stale, err := dpop.NewNonces([]byte(strings.Repeat("k", 32)), time.Minute, func() time.Time { return testNow.Add(-3 * time.Minute) })
	if err != nil {
		t.Fatal(err)
	}
	forged := nonces(t, "x")
	rsa := newClient(t, jwtverify.RS256)

	cases := []hostileCase{
		{name: "no DPoP header", header: []string{}, want: dpop.ErrMissing},
		{name: "empty DPoP header", header: []string{" "}, want: dpop.ErrMissing},
		{name: "two DPoP headers", header: []string{c.Sign(c.Header(), good()), c.Sign(c.Header(), good())}, want: dpop.ErrMultiple},
		{name: "two proofs joined by a comma", header: []string{c.Sign(c.Header(), good()) + "," + c.Sign(c.Header(), good())}, want: dpop.ErrMultiple},
		{name: "no typ", proof: with(func(h, _ map[string]any) { delete(h, "typ") }), want: dpop.ErrType},
		{name: "typ JWT", proof: with(func(h, _ map[string]any) { h["typ"] = "JWT" }), want: dpop.ErrType},
		{name: "typ dpop+jwt+x", proof: with(func(h, _ map[string]any) { h["typ"] = "dpop+jwtx" }), want: dpop.ErrType},
		{name: "access token used as a proof", proof: func() string { return token }, want: dpop.ErrType},
		{name: "alg none", proof: func() string {
			h := c.Header()
			h["alg"] = "none"
			return jwttest.Unsigned(h, good())
		}, want: dpop.ErrAlgorithm},
		{name: "alg HS256 keyed with the public jwk", proof: func() string {
			h := c.Header()
			h["alg"] = "HS256"
			return jwttest.HMAC(h, good(), []byte(c.JWK["x"].(string)))
		}, want: dpop.ErrAlgorithm},
		{name: "alg ES384 unsupported", proof: with(func(h, _ map[string]any) { h["alg"] = "ES384" }), want: dpop.ErrAlgorithm},
		{name: "alg RS256 over an EC jwk", proof: with(func(h, _ map[string]any) { h["alg"] = "RS256" }), want: dpop.ErrAlgorithm},
		{name: "alg not allowed by configuration", proof: func() string { return rsa.Proof(testMethod, testURL, token, "") },
			v: newVerifier(t, func(cfg *dpop.Config) { cfg.Algorithms = []string{"ES256"} }), want: dpop.ErrAlgorithm},
		{name: "private d in the EC jwk", proof: with(func(h, _ map[string]any) { h["jwk"].(map[string]any)["d"] = "AAAA" }), want: dpop.ErrKey},
		{name: "private p in an RSA jwk", proof: func() string {
			h := rsa.Header()
			h["jwk"].(map[string]any)["p"] = "AAAA"
			return rsa.Sign(h, rsa.Claims(testMethod, testURL, token, ""))
		}, want: dpop.ErrKey},
		{name: "symmetric jwk", proof: with(func(h, _ map[string]any) { h["jwk"] = map[string]any{"kty": "oct", "k": "c2VjcmV0"} }), want: dpop.ErrKey},
		{name: "no jwk", proof: with(func(h, _ map[string]any) { delete(h, "jwk") }), want: dpop.ErrKey},
		{name: "jwk is a string", proof: with(func(h, _ map[string]any) { h["jwk"] = "key" }), want: dpop.ErrKey},
		{name: "jku instead of jwk", proof: with(func(h, _ map[string]any) { h["jku"] = "https://evil.example/jwks" }), want: dpop.ErrKey},
		{name: "x5c beside jwk", proof: with(func(h, _ map[string]any) { h["x5c"] = []string{"MIIB"} }), want: dpop.ErrKey},
		{name: "P-384 jwk", proof: with(func(h, _ map[string]any) { h["jwk"].(map[string]any)["crv"] = "P-384" }), want: dpop.ErrKey},
		{name: "jwk point not on the curve", proof: with(func(h, _ map[string]any) {
			h["jwk"].(map[string]any)["y"] = other.JWK["y"]
		}), want: dpop.ErrKey},
		{name: "signed by another key than its jwk", proof: func() string { return other.Sign(c.Header(), good()) }, want: dpop.ErrSignature},
		{name: "signature cut short", proof: func() string { p := c.Sign(c.Header(), good()); return p[:len(p)-2] }, want: dpop.ErrSignature},
		{name: "thumbprint is not the token's cnf.jkt", proof: func() string { return other.Proof(testMethod, testURL, token, "") }, want: dpop.ErrKeyMismatch},
		{name: "htm GET for a POST", proof: with(func(_, cl map[string]any) { cl["htm"] = "GET" }), want: dpop.ErrMethod},
		{name: "htm in lower case", proof: with(func(_, cl map[string]any) { cl["htm"] = "post" }), want: dpop.ErrMethod},
		{name: "no htm", proof: with(func(_, cl map[string]any) { delete(cl, "htm") }), want: dpop.ErrClaims},
		{name: "htu another path", proof: with(func(_, cl map[string]any) { cl["htu"] = "https://api.example.com/v1/users" }), want: dpop.ErrURL},
		{name: "htu path smuggled in the query", proof: with(func(_, cl map[string]any) { cl["htu"] = "https://api.example.com/v1?/orders" }), want: dpop.ErrURL},
		{name: "htu path smuggled in the fragment", proof: with(func(_, cl map[string]any) { cl["htu"] = "https://api.example.com/v1#/orders" }), want: dpop.ErrURL},
		{name: "htu trailing slash", proof: with(func(_, cl map[string]any) { cl["htu"] = testURL + "/" }), want: dpop.ErrURL},
		{name: "htu path case", proof: with(func(_, cl map[string]any) { cl["htu"] = "https://api.example.com/v1/Orders" }), want: dpop.ErrURL},
		{name: "htu another port", proof: with(func(_, cl map[string]any) { cl["htu"] = "https://api.example.com:8443/v1/orders" }), want: dpop.ErrURL},
		{name: "htu http for https", proof: with(func(_, cl map[string]any) { cl["htu"] = "http://api.example.com/v1/orders" }), want: dpop.ErrURL},
		{name: "htu another host", proof: with(func(_, cl map[string]any) { cl["htu"] = "https://api.example.org/v1/orders" }), want: dpop.ErrURL},
		{name: "htu with user information", proof: with(func(_, cl map[string]any) { cl["htu"] = "https://api.example.com@evil.example/v1/orders" }), want: dpop.ErrURL},
		{name: "htu relative", proof: with(func(_, cl map[string]any) { cl["htu"] = "/v1/orders" }), want: dpop.ErrURL},
		{name: "htu dot segments", proof: with(func(_, cl map[string]any) { cl["htu"] = "https://api.example.com/v1/x/../orders" }), want: dpop.ErrURL},
		{name: "no ath with an access token", proof: with(func(_, cl map[string]any) { delete(cl, "ath") }), want: dpop.ErrAccessTokenHash},
		{name: "ath of another token", proof: with(func(_, cl map[string]any) { cl["ath"] = dpoptest.ATH(token + "x") }), want: dpop.ErrAccessTokenHash},
		{name: "iat 61 s old", proof: with(func(_, cl map[string]any) { cl["iat"] = testNow.Add(-61 * time.Second).Unix() }), want: dpop.ErrTooOld},
		{name: "iat 6 s ahead", proof: with(func(_, cl map[string]any) { cl["iat"] = testNow.Add(6 * time.Second).Unix() }), want: dpop.ErrFuture},
		{name: "no iat", proof: with(func(_, cl map[string]any) { delete(cl, "iat") }), want: dpop.ErrClaims},
		{name: "iat as a string", proof: with(func(_, cl map[string]any) { cl["iat"] = "1800000000" }), want: dpop.ErrClaims},
		{name: "no jti", proof: with(func(_, cl map[string]any) { delete(cl, "jti") }), want: dpop.ErrClaims},
		{name: "replayed jti", proof: func() string { return replayed }, v: replayV, want: dpop.ErrReplay},
		{name: "duplicate htu claim", proof: func() string {
			h, _ := jsonOf(c.Header())
			return c.SignRaw(h, []byte(`{"htm":"POST","htu":"`+testURL+`","htu":"https://evil.example/","iat":1800000000,"jti":"abcdefgh","ath":"`+dpoptest.ATH(token)+`"}`))
		}, want: dpop.ErrClaims},
		{name: "duplicate jwk header", proof: func() string {
			jwk, _ := jsonOf(c.JWK)
			cl, _ := jsonOf(good())
			return c.SignRaw([]byte(`{"typ":"dpop+jwt","alg":"ES256","jwk":`+string(jwk)+`,"jwk":`+string(jwk)+`}`), cl)
		}, want: dpop.ErrMalformed},
		{name: "nonce missing", proof: func() string { return c.Proof(testMethod, testURL, token, "") }, v: nonceV, want: dpop.ErrNonce},
		{name: "nonce stale", proof: func() string { return c.Proof(testMethod, testURL, token, stale.Current()) }, v: nonceV, want: dpop.ErrNonce},
		{name: "nonce forged", proof: func() string { return c.Proof(testMethod, testURL, token, forged.Current()) }, v: nonceV, want: dpop.ErrNonce},
		{name: "oversized proof", proof: with(func(_, cl map[string]any) { cl["pad"] = strings.Repeat("a", 4096) }), want: dpop.ErrTooLarge},
		{name: "not a JWS", proof: func() string { return "not-a-proof" }, want: dpop.ErrMalformed},
		{name: "JWS JSON serialization", proof: func() string { return `{"payload":"e30"}` }, want: dpop.ErrMalformed},
		{name: "four segments", proof: func() string { return c.Proof(testMethod, testURL, token, "") + ".e30" }, want: dpop.ErrMalformed},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.v
			if v == nil {
				v = newVerifier(t, nil)
			}
			req := dpop.Request{Method: testMethod, URL: testURL, AccessToken: token, JKT: c.JKT}
			if tc.req != nil {
				tc.req(&req)
			}
			header := tc.header
			if header == nil {
				header = []string{tc.proof()}
			}
			p, err := dpop.ProofFromHeader(header)
			if err == nil {
				var got *dpop.Proof
				got, err = v.Check(p, req)
				if got != nil {
					t.Fatal("accepted")
				}
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var e *dpop.Error
			if !errors.As(err, &e) || e.Code != tc.want.Code {
				t.Fatalf("code: %v", err)
			}
			for _, w := range []*dpop.Error{dpop.ErrKey, dpop.ErrURL, dpop.ErrClaims, dpop.ErrSignature} {
				if w != tc.want && errors.Is(err, w) {
					t.Fatalf("%v also wraps %v", err, w)
				}
			}
		})
	}
	t.Logf("%d hostile proofs refused", len(cases))
}

// TestProofAsAccessToken: a proof is no access token. The access token
// verifier refuses it on its typ and its embedded key.
func TestProofAsAccessToken(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.ES256)
	c := newClient(t, jwtverify.ES256)
	v, err := jwtverify.New(jwtverify.Config{Keys: iss.Keys(), Issuer: iss.Issuer, Type: "at+jwt", Algorithms: []string{"ES256"}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Header()
	h["kid"] = iss.KID
	cl := c.Claims("GET", testURL, "", "")
	cl["iss"], cl["sub"], cl["exp"] = iss.Issuer, "u", testNow.Add(time.Minute).Unix()
	for _, tok := range []string{c.Sign(h, cl), iss.Sign(h, cl)} {
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, jwtverify.ErrHeader) {
			t.Fatalf("proof accepted as an access token: %v", err)
		}
	}
}

func TestAcceptedProofs(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.ES256)
	token := iss.AccessToken(nil)
	ns := nonces(t, "k")
	for _, tc := range []struct {
		name, alg, htu, url string
		edit                func(h, cl map[string]any)
		nonce               bool
	}{
		{name: "ES256", alg: "ES256", htu: testURL, url: testURL},
		{name: "EdDSA", alg: "EdDSA", htu: testURL, url: testURL},
		{name: "RS256", alg: "RS256", htu: testURL, url: testURL},
		{name: "query and fragment ignored", alg: "ES256", htu: testURL + "?a=1#f", url: testURL + "?b=2"},
		{name: "scheme and host case, default port", alg: "ES256", htu: "HTTPS://API.Example.COM:443/v1/orders", url: testURL},
		{name: "percent-encoding normalised", alg: "ES256", htu: "https://api.example.com/v1/%6Frders%2f", url: "https://api.example.com/v1/orders%2F"},
		{name: "empty path is /", alg: "ES256", htu: "https://api.example.com", url: "https://api.example.com/"},
		{name: "media type typ", alg: "ES256", htu: testURL, url: testURL, edit: func(h, _ map[string]any) { h["typ"] = "application/DPoP+JWT" }},
		{name: "extra jwk members", alg: "ES256", htu: testURL, url: testURL, edit: func(h, _ map[string]any) {
			h["jwk"].(map[string]any)["use"] = "sig"
			h["jwk"].(map[string]any)["alg"] = "ES256"
		}},
		{name: "current nonce", alg: "ES256", htu: testURL, url: testURL, nonce: true},
		{name: "iat 60 s old", alg: "ES256", htu: testURL, url: testURL, edit: func(_, cl map[string]any) { cl["iat"] = testNow.Add(-60 * time.Second).Unix() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.alg)
			v := newVerifier(t, func(cfg *dpop.Config) {
				if tc.nonce {
					cfg.Nonces = ns
				}
			})
			nonce := ""
			if tc.nonce {
				nonce = ns.Current()
			}
			h, cl := c.Header(), c.Claims(testMethod, tc.htu, token, nonce)
			if tc.edit != nil {
				tc.edit(h, cl)
			}
			p, err := v.Check(c.Sign(h, cl), dpop.Request{Method: testMethod, URL: tc.url, AccessToken: token, JKT: c.JKT})
			if err != nil {
				t.Fatal(err)
			}
			if p.JKT != c.JKT {
				t.Fatalf("thumbprint %s, jwx says %s", p.JKT, c.JKT)
			}
		})
	}
}

func TestReplayCacheBounded(t *testing.T) {
	now := testNow
	v := newVerifier(t, func(cfg *dpop.Config) {
		cfg.ReplayCapacity = 3
		cfg.Now = func() time.Time { return now }
	})
	c := newClient(t, jwtverify.EdDSA)
	c.Now = func() time.Time { return now }
	req := dpop.Request{Method: "GET", URL: testURL}
	for i := range 3 {
		if _, err := v.Check(c.Proof("GET", testURL, "", ""), req); err != nil {
			t.Fatalf("proof %d: %v", i, err)
		}
	}
	if _, err := v.Check(c.Proof("GET", testURL, "", ""), req); !errors.Is(err, dpop.ErrReplayFull) {
		t.Fatalf("full cache: %v", err)
	}
	now = now.Add(dpop.DefaultMaxAge + time.Second)
	p := c.Proof("GET", testURL, "", "")
	if _, err := v.Check(p, req); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if _, err := v.Check(p, req); !errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
}

func TestNonces(t *testing.T) {
	now := testNow
	n, err := dpop.NewNonces([]byte(strings.Repeat("k", 32)), time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	cur := n.Current()
	if !n.Valid(cur) {
		t.Fatal("current nonce refused")
	}
	now = now.Add(time.Minute)
	if !n.Valid(cur) {
		t.Fatal("previous period's nonce refused")
	}
	now = now.Add(time.Minute)
	if n.Valid(cur) {
		t.Fatal("nonce two periods old accepted")
	}
	for _, bad := range []string{"", "x", cur + "A", strings.ToUpper(cur)} {
		if n.Valid(bad) {
			t.Fatalf("%q accepted", bad)
		}
	}
	if _, err := dpop.NewNonces([]byte("short"), 0, nil); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestChallenge(t *testing.T) {
	got := dpop.Challenge([]string{"ES256", "EdDSA"}, dpop.CodeInvalidProof, `bad "proof"`)
	want := `DPoP algs="ES256 EdDSA", error="invalid_dpop_proof", error_description="bad proof"`
	if got != want {
		t.Fatalf("got %s", got)
	}
}
