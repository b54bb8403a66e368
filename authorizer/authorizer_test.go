package authorizer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/internal/dev/devgateway"
	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/internal/dev/testclock"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/revset"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// TestHostileReasons checks that refusals happen for the right reason, not
// by accident.
func TestHostileReasons(t *testing.T) {
	want := map[string]error{
		"no authorization": ErrNoCredential,
		"alg none":         jwtverify.ErrAlgorithm,
		"alg nOnE":         jwtverify.ErrAlgorithm,
		"HS256 keyed with the RSA public key (PEM)": jwtverify.ErrAlgorithm,
		"unknown kid":                         jwtverify.ErrUnknownKey,
		"kid with SQL":                        jwtverify.ErrUnknownKey,
		"jku header":                          jwtverify.ErrHeader,
		"x5u header":                          jwtverify.ErrHeader,
		"x5c header":                          jwtverify.ErrHeader,
		"unknown crit":                        jwtverify.ErrHeader,
		"typ JWT in exchange mode":            jwtverify.ErrHeader,
		"at+jwt in direct mode":               jwtverify.ErrHeader,
		"key rotated out past its grace":      jwtverify.ErrUnknownKey,
		"same kid, different key":             jwtverify.ErrSignature,
		"wrong iss":                           jwtverify.ErrIssuer,
		"wrong aud":                           jwtverify.ErrAudience,
		"wrong client_id":                     jwtverify.ErrAudience,
		"Cognito access token in direct mode": jwtverify.ErrTokenUse,
		"expired":                             jwtverify.ErrExpired,
		"nbf in the future":                   jwtverify.ErrNotYetValid,
		"iat in the future":                   jwtverify.ErrNotYetValid,
		"max age exceeded":                    jwtverify.ErrTooOld,
		"exp as string":                       jwtverify.ErrClaims,
		"missing exp":                         jwtverify.ErrClaims,
		"over 8 KiB":                          jwtverify.ErrTooLarge,
		"two segments":                        jwtverify.ErrMalformed,
		"payload swapped":                     jwtverify.ErrSignature,
		"revoked session":                     revset.ErrRevoked,
		"revoked jti":                         revset.ErrRevoked,
		"revoked origin_jti":                  revset.ErrRevoked,
		"revoked user":                        revset.ErrRevoked,
		"route needs a group":                 ErrRoute,
	}
	iss := jwttest.NewIssuer(t, "RS256")
	seen := 0
	for _, c := range hostileCases() {
		w, ok := want[c.name]
		if !ok {
			continue
		}
		seen++
		t.Run(c.name, func(t *testing.T) {
			f := newFixtureFor(t, iss, c.mode, iss.JWKS())
			tok, _ := tokenspec.BearerToken(c.auth(t, f))
			path := c.path
			if path == "" {
				path = "/hello"
			}
			d := f.a.Decide(context.Background(), tok, MethodARN{Prefix: testPrefix, Resource: "GET" + path})
			if !errors.Is(d.Reason, w) {
				t.Fatalf("reason %v, want %v", d.Reason, w)
			}
		})
	}
	if seen != len(want) {
		t.Fatalf("%d of %d named cases found", seen, len(want))
	}
}

func TestContextPerShape(t *testing.T) {
	f := newFixture(t, ModeExchange)
	tok := f.iss.AccessToken(map[string]any{"sub": "s-1", "username": "ada", "sid": "sid-1",
		"groups": []string{"users", "admin"}, "scope": "openid orders:write"})
	for _, shape := range Shapes {
		got := invoke(t, f.a, shape, bearer(tok), "GET", "/hello")
		if got.status != http.StatusOK {
			t.Fatalf("%s: status %d", shape, got.status)
		}
		wantGroups := any("users,admin")
		if shape == ShapeHTTPSimple {
			wantGroups = []any{"users", "admin"}
		}
		want := map[string]any{"sub": "s-1", "username": "ada", "sid": "sid-1", "groups": wantGroups, "scope": "openid orders:write"}
		want["groupsHeader"] = "users,admin"
		if !reflect.DeepEqual(got.context, want) {
			t.Fatalf("%s: context %v, want %v", shape, got.context, want)
		}
		if shape != ShapeHTTPSimple {
			for k, v := range got.context {
				switch v.(type) {
				case string, float64, bool:
				default:
					t.Fatalf("%s: context %s has type %T, REST allows strings, numbers and booleans", shape, k, v)
				}
			}
		}
	}
}

func TestPolicyIsRouteIndependent(t *testing.T) {
	// API Gateway caches the policy by token and applies it to every route
	// of the stage: evaluating the policy built for one route must give, for
	// every other route, the answer Decide gives for that route.
	f := newFixture(t, ModeExchange)
	paths := []string{"/hello", "/users", "/users/1", "/users/1/secrets", "/users/1/secrets/x", "/admin", "/admin/x",
		"/orders", "/orders/1", "/", "/hello/x"}
	methods := []string{"GET", "POST", "DELETE"}
	groupSets := [][]string{{}, {"users"}, {"admin"}, {"users", "admin"}, {"other"}}
	scopes := []string{"", "orders:write", "openid orders:write"}
	for _, groups := range groupSets {
		for _, scope := range scopes {
			tok := f.iss.AccessToken(map[string]any{"groups": groups, "scope": scope})
			first := invoke(t, f.a, ShapeRESTToken, bearer(tok), "GET", "/hello")
			resp := parsePolicy(t, first.raw)
			for _, m := range methods {
				for _, p := range paths {
					arn := testPrefix + "/" + m + p
					d := f.a.Decide(context.Background(), tok, MethodARN{Prefix: testPrefix, Resource: m + p})
					if got, want := devgateway.PolicyAllows(resp, arn), d.Effect == Allow; got != want {
						t.Errorf("groups %v scope %q %s %s: cached policy allows=%v, decision %v", groups, scope, m, p, got, d.Effect)
					}
				}
			}
		}
	}
}

func TestPolicyDocument(t *testing.T) {
	f := newFixture(t, ModeExchange)
	tok := f.iss.AccessToken(map[string]any{"groups": []string{"users"}, "scope": "openid"})
	got := parsePolicy(t, invoke(t, f.a, ShapeRESTToken, bearer(tok), "GET", "/hello").raw)
	var allow, deny []string
	for _, st := range got.Statement {
		if !reflect.DeepEqual(st.Action, []string{"execute-api:Invoke"}) {
			t.Fatalf("action %v", st.Action)
		}
		switch st.Effect {
		case "Allow":
			allow = append(allow, st.Resource...)
		case "Deny":
			deny = append(deny, st.Resource...)
		}
	}
	var wantAllow []string
	wantAllow = append(wantAllow, testPrefix+"/GET/hello")
	for _, m := range allMethods {
		wantAllow = append(wantAllow, testPrefix+"/"+m+"/users/*")
	}
	if !reflect.DeepEqual(allow, wantAllow) {
		t.Fatalf("allow %v\nwant %v", allow, wantAllow)
	}
	if want := []string{testPrefix + "/GET/users/*/secrets"}; !reflect.DeepEqual(deny, want) {
		t.Fatalf("deny %v, want %v", deny, want)
	}

	// A token that may call nothing gets one Deny for the whole stage.
	f2 := newFixtureWithRoutes(t, `[{"route": "GET /x", "groups": ["g"]}]`)
	tok = f2.iss.AccessToken(nil)
	got = parsePolicy(t, invoke(t, f2.a, ShapeRESTToken, bearer(tok), "GET", "/x").raw)
	if len(got.Statement) != 1 || got.Statement[0].Effect != "Deny" || got.Statement[0].Resource[0] != testPrefix+"/*" {
		t.Fatalf("policy %+v", got)
	}
}

// TestPolicyStaysInItsAPIAndStage: the policy is built on the API and stage
// of the method ARN, so it must never name other APIs, stages or accounts,
// even when the ARN it is built for holds IAM wildcards there.
func TestPolicyStaysInItsAPIAndStage(t *testing.T) {
	f := newFixture(t, ModeExchange)
	tok := f.iss.AccessToken(nil)
	const other = "arn:aws:execute-api:us-east-1:123456789012:api123/dev/GET/hello"
	for _, tt := range []struct {
		name, methodARN string
	}{
		{"exact", testPrefix + "/GET/hello"},
		{"stage *", "arn:aws:execute-api:us-east-1:123456789012:api123/*/GET/hello"},
		{"stage ?", "arn:aws:execute-api:us-east-1:123456789012:api123/???/GET/hello"},
		{"api *", "arn:aws:execute-api:us-east-1:123456789012:*/dev/GET/hello"},
		{"account *", "arn:aws:execute-api:us-east-1:*:api123/dev/GET/hello"},
		{"region *", "arn:aws:execute-api:*:123456789012:api123/dev/GET/hello"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.a.RESTToken(context.Background(), events.APIGatewayCustomAuthorizerRequest{
				Type: "TOKEN", AuthorizationToken: bearer(tok), MethodArn: tt.methodARN,
			})
			if err != nil {
				return // refused: nothing for API Gateway to cache
			}
			if devgateway.PolicyAllows(resp.PolicyDocument, other) {
				t.Fatalf("policy built for %s allows %s: %+v", tt.methodARN, other, resp.PolicyDocument)
			}
		})
	}
}

func newFixtureWithRoutes(t *testing.T, routes string) *fixture {
	r, err := ParseRoutes([]byte(routes))
	if err != nil {
		t.Fatal(err)
	}
	return newFixture(t, ModeExchange, func(c *Config) { c.Routes = r })
}

// countingVerifier counts verifications.
type countingVerifier struct {
	v Verifier
	n atomic.Int64
}

func (c *countingVerifier) Verify(ctx context.Context, tok string) (*jwtverify.Claims, error) {
	c.n.Add(1)
	return c.v.Verify(ctx, tok)
}

// newCountingAuthorizer returns an authorizer with a token cache of 8 and
// no revocations, for iss's access tokens (maxAge 0) or ID tokens, and the
// clock it and iss share, standing at the present.
func newCountingAuthorizer(t *testing.T, iss *jwttest.Issuer, maxAge time.Duration) (*Authorizer, *countingVerifier, *testclock.Clock) {
	t.Helper()
	clock := testclock.New(time.Now())
	now := clock.Now
	iss.Now = now
	cfg := jwtverify.Config{Keys: iss.Keys(), Issuer: iss.Issuer, Audiences: []string{iss.Audience}, Type: "at+jwt", Now: now}
	if maxAge > 0 {
		cfg = jwtverify.Config{Keys: iss.Keys(), Issuer: iss.Issuer, Audiences: []string{iss.ClientID}, TokenUse: "id", MaxAge: maxAge, Now: now}
	}
	v, err := jwtverify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cv := &countingVerifier{v: v}
	routes, _ := ParseRoutes([]byte(testRoutes))
	a, err := New(Options{Verifier: cv, Revocations: okChecker{}, Routes: routes, CacheSize: 8, MaxAge: maxAge, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return a, cv, clock
}

type okChecker struct{}

func (okChecker) Check(context.Context, revset.Token) error { return nil }

func TestTokenCache(t *testing.T) {
	iss := jwttest.NewIssuer(t, "RS256")
	a, cv, clock := newCountingAuthorizer(t, iss, 0)
	start := clock.Now()
	ctx := context.Background()
	hello := MethodARN{Prefix: testPrefix, Resource: "GET/hello"}
	tok := iss.AccessToken(nil)
	for range 5 {
		if d := a.Decide(ctx, tok, hello); d.Effect != Allow {
			t.Fatalf("decision %v: %v", d.Effect, d.Reason)
		}
	}
	if got := cv.n.Load(); got != 1 {
		t.Fatalf("%d verifications for one token, want 1", got)
	}
	// The route is still checked on a cache hit.
	if d := a.Decide(ctx, tok, MethodARN{Prefix: testPrefix, Resource: "GET/admin/x"}); d.Effect != Deny {
		t.Fatalf("cached token on a forbidden route: %v", d.Effect)
	}
	// Any other byte string is a miss, even one that verifies to the same claims.
	if d := a.Decide(ctx, tok+"x", hello); d.Effect != Unauthorized {
		t.Fatalf("altered token: %v", d.Effect)
	}
	// Past exp the cached entry is not used: the token is verified again and refused.
	clock.Set(start.Add(400 * time.Second))
	if d := a.Decide(ctx, tok, hello); d.Effect != Unauthorized || !errors.Is(d.Reason, jwtverify.ErrExpired) {
		t.Fatalf("after exp: %v %v", d.Effect, d.Reason)
	}
	// Bounded size.
	clock.Set(start)
	for range 50 {
		a.Decide(ctx, iss.AccessToken(nil), hello)
	}
	if n := a.cache.len(); n > 8 {
		t.Fatalf("cache holds %d entries, bound 8", n)
	}
}

func TestTokenCacheBound(t *testing.T) {
	for _, size := range []int{1, 2, 3, 4, 7, 8} {
		c := newTokenCache(size)
		for i := range 5 * size {
			tok := fmt.Sprint("tok-", i)
			g := &grant{sub: tok}
			c.put(tok, g)
			if n := c.len(); n > size {
				t.Fatalf("size %d: %d entries after %d puts", size, n, i+1)
			}
			// The entry just stored is served, to its own token only.
			if got := c.get(tok); got != g {
				t.Fatalf("size %d: get(%q) = %v", size, tok, got)
			}
			if got := c.get(tok + "x"); got != nil {
				t.Fatalf("size %d: another token served %q's grant", size, tok)
			}
		}
	}
}

func TestTokenCacheMaxAge(t *testing.T) {
	iss := jwttest.NewIssuer(t, "RS256")
	a, _, clock := newCountingAuthorizer(t, iss, time.Minute)
	start := clock.Now()
	hello := MethodARN{Prefix: testPrefix, Resource: "GET/hello"}
	tok := iss.CognitoIDToken(nil) // exp in an hour
	if d := a.Decide(context.Background(), tok, hello); d.Effect != Allow {
		t.Fatalf("%v %v", d.Effect, d.Reason)
	}
	clock.Set(start.Add(61 * time.Second))
	if d := a.Decide(context.Background(), tok, hello); !errors.Is(d.Reason, jwtverify.ErrTooOld) {
		t.Fatalf("cached ID token past max age: %v %v", d.Effect, d.Reason)
	}
}

// TestLeeway: exp is honoured within SHORTFUSE_LEEWAY, no further.
func TestLeeway(t *testing.T) {
	for _, tt := range []struct {
		name   string
		leeway time.Duration
		past   time.Duration // how long ago the token expired
		want   Effect
	}{
		{"default, 4 s past exp", 0, 4 * time.Second, Allow},
		{"default, 6 s past exp", 0, 6 * time.Second, Unauthorized},
		{"30 s, 20 s past exp", 30 * time.Second, 20 * time.Second, Allow},
		{"1 s, 2 s past exp", time.Second, 2 * time.Second, Unauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, ModeExchange, func(c *Config) { c.Leeway = tt.leeway })
			now := time.Now()
			tok := f.good(map[string]any{"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(-tt.past).Unix()})
			d := f.a.Decide(context.Background(), tok, MethodARN{Prefix: testPrefix, Resource: "GET/hello"})
			if d.Effect != tt.want {
				t.Fatalf("%v %v, want %v", d.Effect, d.Reason, tt.want)
			}
			if tt.want == Unauthorized && !errors.Is(d.Reason, jwtverify.ErrExpired) {
				t.Fatalf("reason %v", d.Reason)
			}
		})
	}
}

func TestRevocationCheckedOnCacheHit(t *testing.T) {
	f := newFixture(t, ModeExchange)
	tok := f.iss.AccessToken(map[string]any{"sid": "s-42"})
	if got := invoke(t, f.a, ShapeRESTToken, bearer(tok), "GET", "/hello"); got.status != 200 {
		t.Fatalf("status %d", got.status)
	}
	f.revoke(t, store.RevokeSession, "s-42", time.Now())
	for _, shape := range Shapes {
		if got := invoke(t, f.a, shape, bearer(tok), "GET", "/hello"); got.status != 401 {
			t.Fatalf("%s: revoked cached token: status %d", shape, got.status)
		}
	}
}

func TestFailClosed(t *testing.T) {
	iss := jwttest.NewIssuer(t, "RS256")
	routes, _ := ParseRoutes([]byte(testRoutes))
	t.Run("revocation state stale", func(t *testing.T) {
		a, err := Open(context.Background(), Config{Mode: ModeExchange, Issuer: iss.Issuer, Audiences: []string{iss.Audience},
			JWKS: iss.JWKS(), Routes: routes, TokenCacheSize: 8}, Deps{Revocations: staleChecker{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, shape := range Shapes {
			if got := invoke(t, a, shape, bearer(iss.AccessToken(nil)), "GET", "/hello"); got.status != 500 {
				t.Fatalf("%s: status %d, want 500", shape, got.status)
			}
		}
	})
	t.Run("keys unreachable", func(t *testing.T) {
		a, err := Open(context.Background(), Config{Mode: ModeExchange, Issuer: iss.Issuer, Audiences: []string{iss.Audience},
			JWKSURL: "http://127.0.0.1:1/.well-known/jwks.json", Routes: routes}, Deps{Revocations: okChecker{}})
		if err != nil {
			t.Fatal(err)
		}
		if got := invoke(t, a, ShapeRESTToken, bearer(iss.AccessToken(nil)), "GET", "/hello"); got.status != 500 {
			t.Fatalf("status %d, want 500", got.status)
		}
	})
	t.Run("log unreachable at cold start", func(t *testing.T) {
		log := &memLog{}
		log.fail(store.ErrUnavailable)
		set := revset.New(revset.SourceFunc(log.RevocationsSince), revset.Options{Poll: time.Hour, Grace: 2 * time.Hour,
			InitWait: 50 * time.Millisecond, LoadWait: time.Millisecond})
		defer set.Close()
		if err := set.Start(context.Background()); err == nil {
			t.Fatal("load succeeded")
		}
		a, err := Open(context.Background(), Config{Mode: ModeExchange, Issuer: iss.Issuer, Audiences: []string{iss.Audience},
			JWKS: iss.JWKS(), Routes: routes}, Deps{Revocations: set})
		if err != nil {
			t.Fatal(err)
		}
		if got := invoke(t, a, ShapeHTTPSimple, bearer(iss.AccessToken(nil)), "GET", "/hello"); got.status != 500 {
			t.Fatalf("status %d, want 500", got.status)
		}
	})
}

// TestKeyRotatedOut: the token service rotates its signing key and, once
// the old key's grace has passed, drops it from its JWK Set. The authorizer
// fetched the set while both keys were in it; past the set's lifetime it
// refuses new tokens signed with the old key, with no unknown kid to prompt
// a refetch.
// TestKeyRotatedOut: a key dropped from the fetched set stops verifying
// once the set is refetched, in new tokens and in tokens already cached.
func TestKeyRotatedOut(t *testing.T) {
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("cached=%v", cached), func(t *testing.T) { testKeyRotatedOut(t, cached) })
	}
}

func testKeyRotatedOut(t *testing.T, cached bool) {
	start := time.Now()
	clock := testclock.New(start)
	now, advance := clock.Now, clock.Add
	next := jwttest.NewIssuer(t, "RS256")
	old := jwttest.NewIssuer(t, "RS256")
	old.Issuer, old.Audience, old.ClientID = next.Issuer, next.Audience, next.ClientID
	old.Now, next.Now = now, now
	var body atomic.Pointer[[]byte]
	both := jwttest.JoinJWKS(old.JWKS(), next.JWKS())
	body.Store(&both)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(*body.Load())
	}))
	t.Cleanup(srv.Close)
	routes, _ := ParseRoutes([]byte(testRoutes))
	a, err := Open(context.Background(), Config{Mode: ModeExchange, Issuer: next.Issuer, Audiences: []string{next.Audience},
		JWKSURL: srv.URL, Routes: routes, TokenCacheSize: 8}, Deps{Revocations: okChecker{}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	hello := MethodARN{Prefix: testPrefix, Resource: "GET/hello"}
	// A cached token is the same one every time, valid for an hour.
	long := map[string]any{"exp": start.Add(time.Hour).Unix()}
	oldTok := old.AccessToken(long)
	decide := func(iss *jwttest.Issuer) Decision {
		tok := iss.AccessToken(long)
		if cached && iss == old {
			tok = oldTok
		}
		return a.Decide(context.Background(), tok, hello)
	}
	for _, iss := range []*jwttest.Issuer{old, next} {
		if d := decide(iss); d.Effect != Allow {
			t.Fatalf("both keys published: %v %v", d.Effect, d.Reason)
		}
	}
	nextOnly := next.JWKS()
	body.Store(&nextOnly)
	advance(jwtverify.DefaultMaxAge / 2)
	if d := decide(old); d.Effect != Allow {
		t.Fatalf("old key within the set's lifetime: %v %v", d.Effect, d.Reason)
	}
	advance(jwtverify.DefaultMaxAge / 2)
	if d := decide(old); d.Effect != Unauthorized || !errors.Is(d.Reason, jwtverify.ErrUnknownKey) {
		t.Fatalf("old key rotated out: %v %v, want unauthorized, unknown key", d.Effect, d.Reason)
	}
	if d := decide(next); d.Effect != Allow {
		t.Fatalf("current key: %v %v", d.Effect, d.Reason)
	}
}

func TestLoadConfig(t *testing.T) {
	base := map[string]string{
		"SHORTFUSE_ISSUER":   "https://tokens.example.com",
		"SHORTFUSE_AUDIENCE": "shortfuse",
		"SHORTFUSE_JWKS_URL": "https://tokens.example.com/.well-known/jwks.json",
		"SHORTFUSE_ROUTES":   `[{"route":"GET /hello"}]`,
		"SHORTFUSE_TABLE":    "shortfuse",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	c, err := LoadConfig(config.FromMap(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeExchange || c.Shape != ShapeRESTToken || c.Poll != time.Second || c.Grace != 10*time.Second ||
		c.TokenCacheSize != DefaultTokenCacheSize || c.Strict || c.Leeway != 5*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	if c, err := LoadConfig(config.FromMap(with("SHORTFUSE_LEEWAY", "30"))); err != nil || c.Leeway != 30*time.Second {
		t.Fatalf("SHORTFUSE_LEEWAY=30: %v %v", c.Leeway, err)
	}
	c, err = LoadConfig(config.FromMap(with("SHORTFUSE_AUTHORIZER_MODE", "direct", "SHORTFUSE_COGNITO_ISSUER",
		"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", "SHORTFUSE_CLIENTS", "c1,c2", "SHORTFUSE_JWKS_URL", "")))
	if err != nil {
		t.Fatal(err)
	}
	if c.JWKSURL != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json" || c.MaxAge != time.Minute ||
		!reflect.DeepEqual(c.Audiences, []string{"c1", "c2"}) {
		t.Fatalf("direct: %+v", c)
	}
	// Direct mode loads as far back as a revoked login must be remembered,
	// the same bound the writers keep entries for.
	want := revoke.Policy{AccessTokenTTL: revoke.MaxAccessTokenTTL, DirectMaxAge: time.Minute}.MaxEntryLifetime()
	if c.Lookback != want {
		t.Fatalf("direct lookback %s, want %s", c.Lookback, want)
	}
	// One environment serves both modes: in direct mode the token
	// service's keys (SHORTFUSE_JWKS_URL, SHORTFUSE_JWKS) are not used, and
	// Cognito's come from the issuer unless SHORTFUSE_COGNITO_JWKS_URL says
	// otherwise.
	for _, tt := range []struct {
		name, override, want string
	}{
		{"token service keys ignored", "", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json"},
		{"Cognito keys overridden", "https://keys.example.com/jwks.json", "https://keys.example.com/jwks.json"},
	} {
		c, err = LoadConfig(config.FromMap(with("SHORTFUSE_AUTHORIZER_MODE", "direct", "SHORTFUSE_COGNITO_ISSUER",
			"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", "SHORTFUSE_CLIENTS", "c1",
			"SHORTFUSE_JWKS", `{"keys":[]}`, "SHORTFUSE_COGNITO_JWKS_URL", tt.override)))
		if err != nil || c.JWKSURL != tt.want || c.JWKS != nil {
			t.Fatalf("direct, %s: %+v %v", tt.name, c, err)
		}
	}
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{with("SHORTFUSE_AUTHORIZER_MODE", "both"), "SHORTFUSE_AUTHORIZER_MODE"},
		{with("SHORTFUSE_AUTHORIZER_SHAPE", "websocket"), "SHORTFUSE_AUTHORIZER_SHAPE"},
		{with("SHORTFUSE_ISSUER", ""), "SHORTFUSE_ISSUER"},
		{with("SHORTFUSE_AUDIENCE", ""), "SHORTFUSE_AUDIENCE"},
		{with("SHORTFUSE_JWKS_URL", ""), "SHORTFUSE_JWKS"},
		// Keys are never fetched in clear text over a network.
		{with("SHORTFUSE_JWKS_URL", "http://tokens.example.com/.well-known/jwks.json"), "SHORTFUSE_JWKS_URL"},
		{with("SHORTFUSE_AUTHORIZER_MODE", "direct", "SHORTFUSE_CLIENTS", "c1",
			"SHORTFUSE_COGNITO_ISSUER", "http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"), "SHORTFUSE_COGNITO_ISSUER"},
		{with("SHORTFUSE_AUTHORIZER_MODE", "direct", "SHORTFUSE_CLIENTS", "c1",
			"SHORTFUSE_COGNITO_ISSUER", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
			"SHORTFUSE_COGNITO_JWKS_URL", "http://10.0.0.1/jwks.json"), "SHORTFUSE_COGNITO_JWKS_URL"},
		{with("SHORTFUSE_JWKS", `{"keys":[]}`), "SHORTFUSE_JWKS"},
		{with("SHORTFUSE_ROUTES", `[{"route":"GET /x","group":["a"]}]`), "SHORTFUSE_ROUTES"},
		{with("SHORTFUSE_ROUTES", "file:/nonexistent/routes.json"), "SHORTFUSE_ROUTES"},
		{with("SHORTFUSE_ROUTES", ""), "SHORTFUSE_ROUTES"},
		{with("SHORTFUSE_TABLE", ""), "SHORTFUSE_TABLE"},
		{with("SHORTFUSE_REVOCATION_POLL", "5", "SHORTFUSE_REVOCATION_GRACE", "2"), "SHORTFUSE_REVOCATION_GRACE"},
		{with("SHORTFUSE_REVOCATION_STRICT", "maybe"), "SHORTFUSE_REVOCATION_STRICT"},
		{with("SHORTFUSE_TOKEN_CACHE_SIZE", "-1"), "SHORTFUSE_TOKEN_CACHE_SIZE"},
		{with("SHORTFUSE_LEEWAY", "0"), "SHORTFUSE_LEEWAY"},
		{with("SHORTFUSE_LEEWAY", "10m"), "SHORTFUSE_LEEWAY"},
		{with("SHORTFUSE_AUTHORIZER_MODE", "direct"), "SHORTFUSE_COGNITO_ISSUER"},
		{with("SHORTFUSE_AUTHORIZER_MODE", "direct", "SHORTFUSE_COGNITO_ISSUER", "https://x.test/p"), "SHORTFUSE_CLIENTS"},
		{with("SHORTFUSE_AUTHORIZER_MODE", "direct", "SHORTFUSE_COGNITO_ISSUER", "https://x.test/p", "SHORTFUSE_CLIENTS", "c",
			"SHORTFUSE_REVOCATION_RETENTION", "168h"), "SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY"},
		{with("SHORTFUSE_AUTHORIZER_MODE", "direct", "SHORTFUSE_COGNITO_ISSUER", "https://x.test/p", "SHORTFUSE_CLIENTS", "c",
			"SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY", "1s"), "SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY"},
	} {
		_, err := LoadConfig(config.FromMap(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("env %v: error %v, want one naming %s", tt.env, err, tt.want)
		}
	}
	// A bad client list is reported once, not also as a missing one.
	_, err = LoadConfig(config.FromMap(with("SHORTFUSE_AUTHORIZER_MODE", "direct",
		"SHORTFUSE_COGNITO_ISSUER", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", "SHORTFUSE_CLIENTS", "abc:1")))
	if err == nil || strings.Count(err.Error(), "SHORTFUSE_CLIENTS") != 1 {
		t.Errorf("SHORTFUSE_CLIENTS=abc:1: %v, want one error naming it", err)
	}
}

func TestRoutesTable(t *testing.T) {
	for _, bad := range []string{
		`[]`, `{}`, `[{"route":"GET"}]`, `[{"route":"FETCH /x"}]`, `[{"route":"GET x"}]`, `[{"route":"GET /x?y"}]`,
		`[{"route":"GET /{id}"}]`, `[{"route":"GET /x"},{"route":"get /x"}]`, `[{"route":"GET /x","groups":[""]}]`,
		`[{"route":"GET /x","scopes":["a b"]}]`, `[{"route":"GET /x"}] []`, `[{"route":"GET /x","extra":1}]`,
	} {
		if _, err := ParseRoutes([]byte(bad)); err == nil {
			t.Errorf("ParseRoutes(%s) succeeded", bad)
		}
	}
	r, err := ParseRoutes([]byte(`[{"route":"any /a/*","groups":["g"]},{"route":"GET *"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.routes[0].resources; len(got) != 7 || got[0] != "DELETE/a/*" {
		t.Fatalf("ANY expanded to %v", got)
	}
	if got := r.routes[1].resources; !reflect.DeepEqual(got, []string{"GET/*"}) {
		t.Fatalf("GET * compiled to %v", got)
	}
}

func TestGlob(t *testing.T) {
	for _, tt := range []struct {
		p, s string
		want bool
	}{
		{"GET/a", "GET/a", true}, {"GET/a", "GET/ab", false}, {"GET/*", "GET/", true}, {"GET/*", "GET/a/b", true},
		{"GET/a/*/c", "GET/a/b/x/c", true}, {"GET/a/*/c", "GET/a/c", false}, {"*", "", true}, {"a*b*c", "abbbc", true},
		{"a*b*c", "acb", false}, {"GET/a", "POST/a", false},
	} {
		if got := globMatch(tt.p, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"GET/a/*", "GET/a/b/secrets", true}, {"GET/a/*", "GET/b/*", false}, {"GET/*/x", "GET/a/*", true},
		{"GET/a", "GET/a", true}, {"GET/a", "POST/a", false}, {"*x", "y*", true}, {"a*", "b*", false},
	} {
		if got := globsIntersect(tt.a, tt.b); got != tt.want {
			t.Errorf("globsIntersect(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
	// Cross-check globsIntersect against brute force on a small alphabet.
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(alpha string, n int) string {
		b := make([]byte, rng.IntN(n))
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		return string(b)
	}
	for range 2000 {
		a, b := gen("ab*", 5), gen("ab*", 5)
		want := false
		for range 300 {
			s := gen("ab", 7)
			if globMatch(a, s) && globMatch(b, s) {
				want = true
				break
			}
		}
		if want && !globsIntersect(a, b) {
			t.Fatalf("globsIntersect(%q, %q) = false, but a common string exists", a, b)
		}
	}
}

func TestParseMethodARN(t *testing.T) {
	for _, tt := range []struct {
		in, prefix, resource string
	}{
		{"arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/hello", "arn:aws:execute-api:us-east-1:123456789012:abc/prod", "GET/hello"},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/", "arn:aws:execute-api:us-east-1:123456789012:abc/prod", "GET/"},
		{"arn:aws:execute-api:us-east-1:123456789012:abc/$default/POST/a/b", "arn:aws:execute-api:us-east-1:123456789012:abc/$default", "POST/a/b"},
		{"arn:aws-cn:execute-api:cn-north-1:1:abc/prod/GET/x", "arn:aws-cn:execute-api:cn-north-1:1:abc/prod", "GET/x"},
		// Wildcards in the path are only matched, never copied into a policy.
		{"arn:aws:execute-api:us-east-1:1:abc/prod/GET/a*b?c", "arn:aws:execute-api:us-east-1:1:abc/prod", "GET/a*b?c"},
	} {
		got, err := ParseMethodARN(tt.in)
		if err != nil || got.Prefix != tt.prefix || got.Resource != tt.resource {
			t.Errorf("ParseMethodARN(%q) = %+v, %v", tt.in, got, err)
		}
	}
	for _, bad := range []string{"", "arn", "arn:aws:lambda:us-east-1:1:abc/prod/GET/x", "arn:aws:execute-api:us-east-1:1:abc",
		"arn:aws:execute-api:us-east-1:1:abc/prod", "arn:aws:execute-api:us-east-1:1:/prod/GET/x", "arn:aws:execute-api::1:abc/prod/GET/x",
		"arn:aws:execute-api:us-east-1:1:abc/prod//x",
		// IAM wildcards in the part copied into policies.
		"arn:aws:execute-api:us-east-1:1:abc/*/GET/x", "arn:aws:execute-api:us-east-1:1:*/prod/GET/x",
		"arn:aws:execute-api:us-east-1:1:ab?/prod/GET/x", "arn:aws:execute-api:us-east-1:*:abc/prod/GET/x",
		"arn:aws:execute-api:*:1:abc/prod/GET/x", "arn:*:execute-api:us-east-1:1:abc/prod/GET/x",
		"arn:aws:execute-api:us-east-1:1:abc/pr*d/GET/x"} {
		if _, err := ParseMethodARN(bad); err == nil {
			t.Errorf("ParseMethodARN(%q) succeeded", bad)
		}
	}
}

func TestHeaderValue(t *testing.T) {
	if _, ok := headerValue(map[string]string{"Authorization": "a", "authorization": "b"}, nil, "Authorization"); ok {
		t.Error("two casings accepted")
	}
	if _, ok := headerValue(nil, map[string][]string{"Authorization": {"a", "b"}}, "Authorization"); ok {
		t.Error("two values accepted")
	}
	if v, ok := headerValue(map[string]string{"AUTHORIZATION": "a"}, map[string][]string{"AUTHORIZATION": {"a"}}, "authorization"); !ok || v != "a" {
		t.Error("single header refused")
	}
}

func ExampleParseRoutes() {
	r, err := ParseRoutes([]byte(`[
		{"route": "GET /hello"},
		{"route": "ANY /admin/*", "groups": ["admin"]},
		{"route": "POST /orders", "scopes": ["orders:write"]}
	]`))
	fmt.Println(len(r.routes), err)
	// Output: 3 <nil>
}
