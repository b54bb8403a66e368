package devgateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/shortfuse/shortfuse/shared/cors"
)

// fakeInvoker answers every invocation with a fixed reply and records the
// payloads.
type fakeInvoker struct {
	mu       sync.Mutex
	payloads [][]byte
	reply    func(payload []byte) (*lambda.InvokeOutput, error)
}

func (f *fakeInvoker) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.mu.Lock()
	f.payloads = append(f.payloads, in.Payload)
	f.mu.Unlock()
	if aws.ToString(in.FunctionName) != "authorizer" {
		return nil, errors.New("wrong function")
	}
	return f.reply(in.Payload)
}

func (f *fakeInvoker) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.payloads) }

const prefix = "arn:aws:execute-api:us-east-1:000000000000:devapi/dev"

func policyReply(effect string, resources ...string) func([]byte) (*lambda.InvokeOutput, error) {
	return func([]byte) (*lambda.InvokeOutput, error) {
		b, _ := json.Marshal(events.APIGatewayCustomAuthorizerResponse{
			PrincipalID: "user-1",
			PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{
				{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: resources}}},
			Context: map[string]any{"sub": "user-1", "groups": "users"},
		})
		return &lambda.InvokeOutput{StatusCode: 200, Payload: b}, nil
	}
}

func errorReply(msg string) func([]byte) (*lambda.InvokeOutput, error) {
	return func([]byte) (*lambda.InvokeOutput, error) {
		b, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": "errorString"})
		return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: b}, nil
	}
}

func do(t *testing.T, g *Gateway, method, path, auth string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	return w
}

func TestEnforcesPolicy(t *testing.T) {
	inv := &fakeInvoker{reply: policyReply("Allow", prefix+"/GET/hello", prefix+"/*/users/*")}
	g, err := New(Options{Invoker: inv})
	if err != nil {
		t.Fatal(err)
	}
	w := do(t, g, "GET", "/hello", "Bearer t", ContextHeader, `{"sub":"forged"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var body struct {
		Authorizer map[string]any `json:"authorizer"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Authorizer["sub"] != "user-1" || body.Authorizer["principalId"] != "user-1" {
		t.Fatalf("backend saw context %v", body.Authorizer)
	}
	if w := do(t, g, "DELETE", "/users/7/x", "Bearer t"); w.Code != http.StatusOK {
		t.Fatalf("wildcard route: %d", w.Code)
	}
	if w := do(t, g, "GET", "/admin", "Bearer t"); w.Code != http.StatusForbidden || w.Header().Get("X-Amzn-ErrorType") != "AccessDeniedException" {
		t.Fatalf("route outside the policy: %d", w.Code)
	}
}

func TestRefusals(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply func([]byte) (*lambda.InvokeOutput, error)
		auth  string
		want  int
		calls int
	}{
		{"no credential, not invoked", policyReply("Allow", "*"), "", 401, 0},
		{"Unauthorized error", errorReply("Unauthorized"), "Bearer t", 401, 1},
		{"other function error", errorReply("boom"), "Bearer t", 500, 1},
		{"explicit deny", policyReply("Deny", prefix+"/*"), "Bearer t", 403, 1},
		{"invoke fails", func([]byte) (*lambda.InvokeOutput, error) { return nil, errors.New("down") }, "Bearer t", 500, 1},
		{"malformed reply", func([]byte) (*lambda.InvokeOutput, error) {
			return &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{"policyDocument":7}`)}, nil
		}, "Bearer t", 500, 1},
		{"empty policy", func([]byte) (*lambda.InvokeOutput, error) {
			return &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{"principalId":"x","policyDocument":{"Version":"2012-10-17","Statement":[]}}`)}, nil
		}, "Bearer t", 500, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{reply: tt.reply}
			g, _ := New(Options{Invoker: inv})
			if w := do(t, g, "GET", "/hello", tt.auth); w.Code != tt.want {
				t.Fatalf("status %d, want %d", w.Code, tt.want)
			}
			if inv.count() != tt.calls {
				t.Fatalf("%d invocations, want %d", inv.count(), tt.calls)
			}
		})
	}
}

func TestEventShapes(t *testing.T) {
	arn := prefix + "/GET/hello"
	for _, shape := range []string{ShapeRESTToken, ShapeRESTRequest, ShapeHTTPIAM, ShapeHTTPSimple} {
		t.Run(shape, func(t *testing.T) {
			reply := policyReply("Allow", arn)
			if shape == ShapeHTTPSimple {
				reply = func([]byte) (*lambda.InvokeOutput, error) {
					return &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{"isAuthorized":true,"context":{"sub":"u"}}`)}, nil
				}
			}
			inv := &fakeInvoker{reply: reply}
			g, err := New(Options{Invoker: inv, Shape: shape})
			if err != nil {
				t.Fatal(err)
			}
			if w := do(t, g, "GET", "/hello?x=1", "Bearer tok"); w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			p := inv.payloads[0]
			switch shape {
			case ShapeRESTToken:
				var ev events.APIGatewayCustomAuthorizerRequest
				mustDecode(t, p, &ev)
				if ev.Type != "TOKEN" || ev.AuthorizationToken != "Bearer tok" || ev.MethodArn != arn {
					t.Fatalf("%+v", ev)
				}
			case ShapeRESTRequest:
				var ev events.APIGatewayCustomAuthorizerRequestTypeRequest
				mustDecode(t, p, &ev)
				if ev.Type != "REQUEST" || ev.Headers["Authorization"] != "Bearer tok" || ev.MethodArn != arn ||
					ev.QueryStringParameters["x"] != "1" || ev.HTTPMethod != "GET" {
					t.Fatalf("%+v", ev)
				}
			case ShapeHTTPIAM:
				var ev events.APIGatewayV2CustomAuthorizerV1Request
				mustDecode(t, p, &ev)
				if ev.Version != "1.0" || ev.Headers["authorization"] != "Bearer tok" || ev.MethodArn != arn {
					t.Fatalf("%+v", ev)
				}
			case ShapeHTTPSimple:
				var ev events.APIGatewayV2CustomAuthorizerV2Request
				mustDecode(t, p, &ev)
				if ev.Version != "2.0" || ev.Headers["authorization"] != "Bearer tok" || ev.RouteArn != arn ||
					ev.RawQueryString != "x=1" || ev.RequestContext.HTTP.Method != "GET" {
					t.Fatalf("%+v", ev)
				}
			}
		})
	}
	if _, err := New(Options{Invoker: &fakeInvoker{}, Shape: "websocket"}); err == nil {
		t.Fatal("unknown shape accepted")
	}
}

func mustDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestCacheTTL(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	inv := &fakeInvoker{reply: policyReply("Allow", prefix+"/GET/hello")}
	g, _ := New(Options{Invoker: inv, CacheTTL: 30 * time.Second, Now: clock})
	do(t, g, "GET", "/hello", "Bearer t")
	// The cached policy still decides per route, as in API Gateway.
	if w := do(t, g, "GET", "/other", "Bearer t"); w.Code != http.StatusForbidden {
		t.Fatalf("cached policy on another route: %d", w.Code)
	}
	if inv.count() != 1 {
		t.Fatalf("%d invocations within the TTL", inv.count())
	}
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	do(t, g, "GET", "/hello", "Bearer t")
	if inv.count() != 2 {
		t.Fatalf("%d invocations after the TTL", inv.count())
	}
	if s := g.Stats(); s.CacheHits != 1 || s.Invocations != 2 || s.Allowed != 2 || s.Refused != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// TestCacheTTLSimple: a simple response decides one route, so a cached one
// must not decide another (API Gateway keys it by $context.routeKey too).
func TestCacheTTLSimple(t *testing.T) {
	inv := &fakeInvoker{reply: func(payload []byte) (*lambda.InvokeOutput, error) {
		var ev events.APIGatewayV2CustomAuthorizerV2Request
		_ = json.Unmarshal(payload, &ev)
		b, _ := json.Marshal(events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: ev.RouteArn == prefix+"/GET/hello"})
		return &lambda.InvokeOutput{StatusCode: 200, Payload: b}, nil
	}}
	g, _ := New(Options{Invoker: inv, Shape: ShapeHTTPSimple, CacheTTL: 30 * time.Second})
	for _, tt := range []struct {
		method, path string
		want         int
		invocations  int
	}{
		{"GET", "/hello", http.StatusOK, 1},
		{"GET", "/hello", http.StatusOK, 1}, // cached
		{"GET", "/admin", http.StatusForbidden, 2},
		{"POST", "/hello", http.StatusForbidden, 3},
		{"GET", "/admin", http.StatusForbidden, 3}, // cached
	} {
		if w := do(t, g, tt.method, tt.path, "Bearer t"); w.Code != tt.want {
			t.Fatalf("%s %s: status %d, want %d", tt.method, tt.path, w.Code, tt.want)
		}
		if n := inv.count(); n != tt.invocations {
			t.Fatalf("%s %s: %d invocations, want %d", tt.method, tt.path, n, tt.invocations)
		}
	}
}

func TestPolicyAllows(t *testing.T) {
	doc := func(sts ...events.IAMPolicyStatement) events.APIGatewayCustomAuthorizerPolicy {
		return events.APIGatewayCustomAuthorizerPolicy{Statement: sts}
	}
	allow := func(r ...string) events.IAMPolicyStatement {
		return events.IAMPolicyStatement{Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: r}
	}
	deny := func(r ...string) events.IAMPolicyStatement {
		return events.IAMPolicyStatement{Action: []string{"execute-api:Invoke"}, Effect: "Deny", Resource: r}
	}
	arn := prefix + "/GET/users/1/secrets"
	for _, tt := range []struct {
		name string
		doc  events.APIGatewayCustomAuthorizerPolicy
		want bool
	}{
		{"exact", doc(allow(arn)), true},
		{"star crosses slashes", doc(allow(prefix + "/GET/users/*")), true},
		{"question mark", doc(allow(prefix + "/GET/users/?/secrets")), true},
		{"explicit deny wins", doc(allow(prefix+"/*"), deny(prefix+"/GET/users/*/secrets")), false},
		{"no statement matches", doc(allow(prefix + "/GET/hello")), false},
		{"other action", doc(events.IAMPolicyStatement{Action: []string{"s3:GetObject"}, Effect: "Allow", Resource: []string{"*"}}), false},
		{"effect is case-sensitive", doc(events.IAMPolicyStatement{Action: []string{"execute-api:Invoke"}, Effect: "allow", Resource: []string{"*"}}), false},
		{"empty", doc(), false},
	} {
		if got := PolicyAllows(tt.doc, arn); got != tt.want {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
	// API Gateway accepts a string where a list is expected.
	d, p, _, err := parsePolicyResponse([]byte(`{"principalId":"u","policyDocument":{"Version":"2012-10-17",
		"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"` + arn + `"}]}}`))
	if err != nil || p != "u" || !PolicyAllows(d, arn) {
		t.Fatalf("string fields: %v %v", err, d)
	}
}

func TestDemoBackend(t *testing.T) {
	r := httptest.NewRequest("GET", "/hello", nil)
	r.Header.Set(ContextHeader, `{"username":"ada"}`)
	w := httptest.NewRecorder()
	DemoBackend().ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), "hello, ada") {
		t.Fatalf("%s", w.Body)
	}
}

func FuzzParsePolicyResponse(f *testing.F) {
	f.Add([]byte(`{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["*"]}]},"context":{"a":1}}`))
	f.Add([]byte(`{"policyDocument":{"Statement":[{"Action":["x"],"Effect":"Deny","Resource":"a*b?"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, _, _, err := parsePolicyResponse(b)
		if err != nil {
			return
		}
		_ = PolicyAllows(d, prefix+"/GET/hello")
	})
}

func FuzzWildcard(f *testing.F) {
	f.Add("a*b?c", "axxbyc")
	f.Add("*", "")
	f.Fuzz(func(t *testing.T, p, s string) {
		if !strings.ContainsAny(p, "*?") && wildcardMatch(p, s) != (p == s) {
			t.Fatalf("literal %q vs %q", p, s)
		}
		if wildcardMatch(p, s) && !wildcardMatch(strings.ReplaceAll(p, "?", "*"), s) {
			t.Fatalf("widening %q lost %q", p, s)
		}
	})
}

// Preflights are answered before any authorizer, refusals carry the CORS
// headers so a page can read its 401, and public routes skip the
// authorizer but never pass a forged context on.
func TestCORSAndPublicRoutes(t *testing.T) {
	const app = "http://127.0.0.1:8095"
	p, err := cors.New([]string{app})
	if err != nil {
		t.Fatal(err)
	}
	inv := &fakeInvoker{reply: errorReply("Unauthorized")}
	g, err := New(Options{Invoker: inv, CORS: p, Public: []string{"POST /token"}})
	if err != nil {
		t.Fatal(err)
	}
	w := do(t, g, "OPTIONS", "/sessions", "", "Origin", app, "Access-Control-Request-Method", "GET",
		"Access-Control-Request-Headers", "authorization")
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != app || inv.count() != 0 {
		t.Fatalf("preflight: %d %v, %d invocations", w.Code, w.Header(), inv.count())
	}
	w = do(t, g, "GET", "/sessions", "Bearer t", "Origin", app)
	if w.Code != http.StatusUnauthorized || w.Header().Get("Access-Control-Allow-Origin") != app ||
		w.Header().Get("Access-Control-Expose-Headers") != "WWW-Authenticate, DPoP-Nonce" {
		t.Fatalf("refusal: %d %v", w.Code, w.Header())
	}
	w = do(t, g, "GET", "/sessions", "Bearer t", "Origin", "https://evil.example")
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin: %v", w.Header())
	}
	n := inv.count()
	w = do(t, g, "POST", "/token", "", ContextHeader, `{"sub":"forged"}`)
	var body struct {
		Authorizer map[string]any `json:"authorizer"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != http.StatusOK || inv.count() != n || len(body.Authorizer) != 0 {
		t.Fatalf("public route: %d %s, %d invocations", w.Code, w.Body, inv.count()-n)
	}
	if w := do(t, g, "GET", "/token", ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("another method of a public path is not public: %d", w.Code)
	}
}
