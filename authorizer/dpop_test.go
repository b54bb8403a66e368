package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/shortfuse/shortfuse/internal/dev/devgateway"
	"github.com/shortfuse/shortfuse/internal/dev/dpoptest"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/dpop"
)

const (
	testHost  = "api.example.com"
	testStage = "prod"
)

// dpopRequest is a request as a client sends it.
type dpopRequest struct {
	authorization string
	proofs        []string
	method, path  string
}

// addressed is the URL a client of the test API addresses: the execute-api
// style URL with the stage in the path.
func addressed(path string) string { return "https://" + testHost + "/" + testStage + path }

// invokeRequest runs a request-seeing shape's handler on the event API
// Gateway would send, and applies the answer as API Gateway would.
func invokeRequest(t testing.TB, a *Authorizer, shape Shape, r dpopRequest) result {
	t.Helper()
	arn := testPrefix + "/" + r.method + r.path
	headers := map[string]string{"Host": testHost, "X-Forwarded-Proto": "https"}
	var multi map[string][]string
	if r.authorization != "" {
		headers["Authorization"] = r.authorization
	}
	switch len(r.proofs) {
	case 0:
	case 1:
		headers["DPoP"] = r.proofs[0]
	default:
		// REST sends every value in the multi-value map and the last in
		// the single one; HTTP APIs join them with commas.
		headers["DPoP"] = r.proofs[len(r.proofs)-1]
		multi = map[string][]string{"DPoP": r.proofs}
		if shape != ShapeRESTRequest {
			headers["DPoP"] = strings.Join(r.proofs, ",")
		}
	}
	full := "/" + testStage + r.path
	var ev any
	switch shape {
	case ShapeRESTRequest:
		ev = events.APIGatewayCustomAuthorizerRequestTypeRequest{Type: "REQUEST", MethodArn: arn, HTTPMethod: r.method, Path: r.path,
			Headers: headers, MultiValueHeaders: multi,
			RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{Path: full, Stage: testStage, HTTPMethod: r.method}}
	case ShapeHTTPIAM:
		ev = events.APIGatewayV2CustomAuthorizerV1Request{Version: "1.0", Type: "REQUEST", MethodArn: arn, HTTPMethod: r.method, Path: full, Headers: headers,
			RequestContext: events.APIGatewayV2CustomAuthorizerV1RequestTypeRequestContext{Path: full, Stage: testStage, HTTPMethod: r.method}}
	case ShapeHTTPSimple:
		ev = events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", RouteArn: arn, RawPath: full, Headers: headers,
			RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: testHost, Stage: testStage,
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.method, Path: full}}}
	case ShapeRESTToken:
		ev = events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: r.authorization, MethodArn: arn}
	}
	return deliver(t, a, shape, arn, ev)
}

// TestDPoPBoundTokens runs the binding rules through every shape that sees
// the request.
func TestDPoPBoundTokens(t *testing.T) {
	for _, shape := range []Shape{ShapeRESTRequest, ShapeHTTPIAM, ShapeHTTPSimple} {
		t.Run(string(shape), func(t *testing.T) {
			var logs testenv.Buffer
			f := newFixture(t, ModeExchange)
			f.a.log = slog.New(slog.NewJSONHandler(&logs, nil))
			c := dpoptest.New(t, "ES256")
			other := dpoptest.New(t, "ES256")
			tok := f.good(map[string]any{"cnf": map[string]any{"jkt": c.JKT}})
			plain := f.good(nil)
			proof := func(method, path, token string) string { return c.Proof(method, addressed(path), token, "") }
			do := func(r dpopRequest) int { return invokeRequest(t, f.a, shape, r).status }

			used := proof("GET", "/hello", tok)
			if s := do(dpopRequest{"DPoP " + tok, []string{used}, "GET", "/hello"}); s != http.StatusOK {
				t.Fatalf("valid DPoP request: %d", s)
			}
			// The token is cached now; every proof is still checked.
			for _, tc := range []struct {
				name string
				r    dpopRequest
				want int
			}{
				{"fresh proof, cached token", dpopRequest{"DPoP " + tok, []string{proof("GET", "/hello", tok)}, "GET", "/hello"}, http.StatusOK},
				{"replayed proof", dpopRequest{"DPoP " + tok, []string{used}, "GET", "/hello"}, http.StatusUnauthorized},
				{"bound token as Bearer", dpopRequest{"Bearer " + tok, []string{proof("GET", "/hello", tok)}, "GET", "/hello"}, http.StatusUnauthorized},
				{"no proof", dpopRequest{"DPoP " + tok, nil, "GET", "/hello"}, http.StatusUnauthorized},
				{"two proofs", dpopRequest{"DPoP " + tok, []string{proof("GET", "/hello", tok), proof("GET", "/hello", tok)}, "GET", "/hello"}, http.StatusUnauthorized},
				{"proof for another path", dpopRequest{"DPoP " + tok, []string{proof("GET", "/users/1", tok)}, "GET", "/hello"}, http.StatusUnauthorized},
				{"proof for another method", dpopRequest{"DPoP " + tok, []string{proof("POST", "/hello", tok)}, "GET", "/hello"}, http.StatusUnauthorized},
				{"proof without ath", dpopRequest{"DPoP " + tok, []string{proof("GET", "/hello", "")}, "GET", "/hello"}, http.StatusUnauthorized},
				{"proof for another token", dpopRequest{"DPoP " + tok, []string{proof("GET", "/hello", plain)}, "GET", "/hello"}, http.StatusUnauthorized},
				{"proof by another key", dpopRequest{"DPoP " + tok, []string{other.Proof("GET", addressed("/hello"), tok, "")}, "GET", "/hello"}, http.StatusUnauthorized},
				{"bad signature, cached token", dpopRequest{"DPoP " + tok, []string{other.Sign(c.Header(), c.Claims("GET", addressed("/hello"), tok, ""))}, "GET", "/hello"}, http.StatusUnauthorized},
				{"proof as the access token", dpopRequest{"DPoP " + used, []string{proof("GET", "/hello", used)}, "GET", "/hello"}, http.StatusUnauthorized},
				{"unbound token with the DPoP scheme", dpopRequest{"DPoP " + plain, []string{proof("GET", "/hello", plain)}, "GET", "/hello"}, http.StatusUnauthorized},
				{"unbound token as Bearer", dpopRequest{"Bearer " + plain, nil, "GET", "/hello"}, http.StatusOK},
				{"bound token, route not allowed", dpopRequest{"DPoP " + tok, []string{proof("GET", "/admin/x", tok)}, "GET", "/admin/x"}, http.StatusForbidden},
			} {
				if got := do(tc.r); got != tc.want {
					t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
				}
			}
			if !strings.Contains(logs.String(), `error=\"invalid_dpop_proof\"`) || !strings.Contains(logs.String(), "sent as a Bearer token") {
				t.Errorf("refusals not logged with their challenge:\n%s", logs.String())
			}
			if strings.Contains(logs.String(), tok) || strings.Contains(logs.String(), used) {
				t.Error("a token or proof was logged")
			}
			if shape != ShapeHTTPSimple {
				// A bound token's policy names this request's method ARN only.
				r := invokeRequest(t, f.a, shape, dpopRequest{"DPoP " + tok, []string{proof("GET", "/users/1", tok)}, "GET", "/users/1"})
				pol := parsePolicy(t, r.raw)
				if r.status != http.StatusOK || len(pol.Statement) != 1 || len(pol.Statement[0].Resource) != 1 ||
					pol.Statement[0].Resource[0] != testPrefix+"/GET/users/1" {
					t.Fatalf("bound policy: %d %+v", r.status, pol)
				}
			}
		})
	}
}

// TestDPoPRESTToken: the rest-token shape sees no proof, so it refuses
// bound tokens whatever the scheme, with the reason logged.
func TestDPoPRESTToken(t *testing.T) {
	var logs testenv.Buffer
	f := newFixture(t, ModeExchange)
	f.a.log = slog.New(slog.NewJSONHandler(&logs, nil))
	c := dpoptest.New(t, "ES256")
	tok := f.good(map[string]any{"cnf": map[string]any{"jkt": c.JKT}})
	for _, auth := range []string{"Bearer " + tok, "DPoP " + tok} {
		if r := invokeRequest(t, f.a, ShapeRESTToken, dpopRequest{authorization: auth, method: "GET", path: "/hello"}); r.status != http.StatusUnauthorized {
			t.Fatalf("%s: %d", auth[:5], r.status)
		}
	}
	if !strings.Contains(logs.String(), "cannot see the DPoP proof") {
		t.Fatalf("reason not logged:\n%s", logs.String())
	}
	if r := invokeRequest(t, f.a, ShapeRESTToken, dpopRequest{authorization: "Bearer " + f.good(nil), method: "GET", path: "/hello"}); r.status != http.StatusOK {
		t.Fatalf("bearer token: %d", r.status)
	}
}

// TestDPoPPublicBaseURL: behind a custom domain the proof names the public
// URL, which the authorizer rebuilds from SHORTFUSE_PUBLIC_BASE_URL and the
// path within the API.
func TestDPoPPublicBaseURL(t *testing.T) {
	f := newFixture(t, ModeExchange, func(c *Config) { c.PublicBaseURL = "https://Auth.Example.ORG/v1/" })
	c := dpoptest.New(t, "EdDSA")
	tok := f.good(map[string]any{"cnf": map[string]any{"jkt": c.JKT}})
	for _, shape := range []Shape{ShapeRESTRequest, ShapeHTTPIAM, ShapeHTTPSimple} {
		ok := c.Proof("GET", "https://auth.example.org/v1/hello", tok, "")
		if r := invokeRequest(t, f.a, shape, dpopRequest{"DPoP " + tok, []string{ok}, "GET", "/hello"}); r.status != http.StatusOK {
			t.Errorf("%s: public URL refused: %d", shape, r.status)
		}
		direct := c.Proof("GET", addressed("/hello"), tok, "")
		if r := invokeRequest(t, f.a, shape, dpopRequest{"DPoP " + tok, []string{direct}, "GET", "/hello"}); r.status != http.StatusUnauthorized {
			t.Errorf("%s: execute-api URL accepted behind a public base URL: %d", shape, r.status)
		}
	}
}

func TestChallenge(t *testing.T) {
	f := newFixture(t, ModeExchange)
	for _, tc := range []struct {
		d    Decision
		r    Request
		want string
	}{
		{Decision{Effect: Unauthorized, Reason: dpop.ErrReplay}, Request{DPoP: true}, `DPoP algs="ES256 EdDSA RS256", error="invalid_dpop_proof", error_description="DPoP proof jti was already used"`},
		{Decision{Effect: Unauthorized, Reason: errors.Join(dpop.ErrNonce)}, Request{DPoP: true}, `DPoP algs="ES256 EdDSA RS256", error="use_dpop_nonce", error_description="DPoP proof lacks the server's current nonce"`},
		{Decision{Effect: Unauthorized, Reason: ErrBoundAsBearer}, Request{}, `DPoP algs="ES256 EdDSA RS256", error="invalid_token", error_description="the token is DPoP-bound: send it with the DPoP scheme and a proof"`},
		{Decision{Effect: Unauthorized, Reason: ErrNoCredential}, Request{}, `Bearer`},
		{Decision{Effect: Unauthorized, Reason: errors.New("x")}, Request{}, `Bearer error="invalid_token"`},
		{Decision{Effect: Allow}, Request{}, ``},
	} {
		if got := f.a.Challenge(tc.d, &tc.r); got != tc.want {
			t.Errorf("%v: %s", tc.d.Reason, got)
		}
	}
}

// handlerInvoker runs a Lambda handler in process, with the Invoke API's
// error convention.
type handlerInvoker struct {
	h interface {
		Invoke(context.Context, []byte) ([]byte, error)
	}
}

func (i handlerInvoker) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	out, err := i.h.Invoke(ctx, in.Payload)
	if err != nil {
		b, _ := json.Marshal(map[string]string{"errorMessage": err.Error()})
		return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: b}, nil
	}
	return &lambda.InvokeOutput{StatusCode: 200, Payload: out}, nil
}

// TestDPoPThroughLocalGateway: the local gateway passes what the
// authorizer needs (Host, X-Forwarded-Proto, the DPoP header) for a bound
// token to be accepted with a proof for the URL the client addressed, and
// a copied token and proof replayed are refused.
func TestDPoPThroughLocalGateway(t *testing.T) {
	for _, shape := range []Shape{ShapeRESTRequest, ShapeHTTPIAM, ShapeHTTPSimple} {
		t.Run(string(shape), func(t *testing.T) {
			var base string
			var gw http.Handler
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { gw.ServeHTTP(w, r) }))
			defer srv.Close()
			base = srv.URL
			f := newFixture(t, ModeExchange, func(c *Config) { c.PublicBaseURL = base })
			h, err := f.a.Handler(shape)
			if err != nil {
				t.Fatal(err)
			}
			g, err := devgateway.New(devgateway.Options{Invoker: handlerInvoker{h}, Shape: string(shape), Stage: testStage, CacheTTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			gw = g
			c := dpoptest.New(t, "ES256")
			tok := f.good(map[string]any{"cnf": map[string]any{"jkt": c.JKT}})
			call := func(scheme, proof string) int {
				req, _ := http.NewRequest("GET", base+"/hello?x=1", nil)
				req.Header.Set("Authorization", scheme+" "+tok)
				if proof != "" {
					req.Header.Set("DPoP", proof)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			p := c.Proof("GET", base+"/hello", tok, "")
			if s := call("DPoP", p); s != http.StatusOK {
				t.Fatalf("bound token with its proof: %d", s)
			}
			if s := call("DPoP", c.Proof("GET", base+"/hello", tok, "")); s != http.StatusOK {
				t.Fatalf("second proof: %d", s)
			}
			if s := call("Bearer", ""); s != http.StatusUnauthorized {
				t.Fatalf("copied token as Bearer: %d", s)
			}
			if s := call("DPoP", c.Proof("GET", base+"/other", tok, "")); s != http.StatusUnauthorized {
				t.Fatalf("proof for another URL: %d", s)
			}
		})
	}
}

// TestDPoPRefusedWhileGatewayCaches: a cached answer would serve a bound
// token without its proof, so bound tokens are refused while API Gateway
// caches answers; bearer tokens are not affected.
func TestDPoPRefusedWhileGatewayCaches(t *testing.T) {
	var logs testenv.Buffer
	f := newFixture(t, ModeExchange, func(c *Config) { c.GatewayCacheTTL = time.Minute })
	f.a.log = slog.New(slog.NewJSONHandler(&logs, nil))
	c := dpoptest.New(t, "ES256")
	tok := f.good(map[string]any{"cnf": map[string]any{"jkt": c.JKT}})
	r := dpopRequest{"DPoP " + tok, []string{c.Proof("GET", addressed("/hello"), tok, "")}, "GET", "/hello"}
	if s := invokeRequest(t, f.a, ShapeHTTPSimple, r).status; s != http.StatusUnauthorized {
		t.Fatalf("bound token with a caching gateway: %d", s)
	}
	if !strings.Contains(logs.String(), "SHORTFUSE_GATEWAY_CACHE_TTL") {
		t.Fatalf("reason not logged:\n%s", logs.String())
	}
	if s := invokeRequest(t, f.a, ShapeHTTPSimple, dpopRequest{authorization: "Bearer " + f.good(nil), method: "GET", path: "/hello"}).status; s != http.StatusOK {
		t.Fatalf("bearer token: %d", s)
	}
}
