package authorizer

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
)

func FuzzParseMethodARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/hello",
		"arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/",
		"arn:aws:execute-api:us-east-1:1:abc/$default/ANY/a/b/c",
		"arn:aws:execute-api:::/",
		"arn:aws:execute-api:r:a:i/s/V",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseMethodARN(s)
		if err != nil {
			return
		}
		if a.Prefix+"/"+a.Resource != s && a.Prefix+"/"+a.Resource != s+"/" {
			t.Fatalf("%q split into %+v", s, a)
		}
		if strings.Count(a.Prefix, "/") != 1 || !strings.Contains(a.Resource, "/") {
			t.Fatalf("%q split into %+v", s, a)
		}
	})
}

func FuzzParseRoutes(f *testing.F) {
	f.Add([]byte(testRoutes))
	f.Add([]byte(`[{"route":"ANY *"}]`))
	f.Add([]byte(`[{"route":"GET /a/*/b","groups":["x"],"scopes":["s"]},{"route":"POST /a"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRoutes(b)
		if err != nil {
			return
		}
		for i := range r.routes {
			for _, res := range r.routes[i].resources {
				if !globsIntersect(res, res) {
					t.Fatalf("%q does not intersect itself", res)
				}
			}
		}
		ok := r.satisfied([]string{"x"}, "s")
		allow, deny := r.resources(ok)
		_ = allow
		for _, i := range deny {
			if ok.has(i) {
				t.Fatalf("route %d both satisfied and denied", i)
			}
		}
	})
}

// FuzzHandlers feeds arbitrary event JSON to every shape's handler: none may
// panic, and none may let a request through, since no seed holds a token
// the fixture's key signed.
func FuzzHandlers(f *testing.F) {
	iss := jwttest.NewIssuer(f, "RS256")
	evil := jwttest.NewIssuer(f, "RS256")
	evil.Issuer = iss.Issuer
	forged := evil.AccessToken(nil)
	unsigned := jwttest.Unsigned(map[string]any{"alg": "none", "typ": "at+jwt"}, map[string]any{"sub": "x"})
	arn := testPrefix + "/GET/hello"
	seed := func(v any) []byte { b, _ := json.Marshal(v); return b }
	for _, tok := range []string{forged, unsigned, "", "a.b.c"} {
		f.Add(uint8(0), seed(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + tok, MethodArn: arn}))
		f.Add(uint8(1), seed(events.APIGatewayCustomAuthorizerRequestTypeRequest{Type: "REQUEST", MethodArn: arn,
			Headers: map[string]string{"Authorization": "Bearer " + tok}, MultiValueHeaders: map[string][]string{"authorization": {"Bearer " + tok}}}))
		f.Add(uint8(2), seed(events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", RouteArn: arn, Headers: map[string]string{"authorization": "Bearer " + tok}}))
		f.Add(uint8(3), seed(events.APIGatewayV2CustomAuthorizerV1Request{Version: "1.0", MethodArn: arn, Headers: map[string]string{"authorization": "Bearer " + tok}}))
	}
	f.Add(uint8(0), []byte(`{"authorizationToken": 7}`))
	f.Add(uint8(2), []byte(`{"headers": {"authorization": null}, "routeArn": []}`))
	fx := newFixtureFor(f, iss, ModeExchange, iss.JWKS())
	handlers := make([]func([]byte) ([]byte, error), len(Shapes))
	for i, s := range Shapes {
		h, err := fx.a.Handler(s)
		if err != nil {
			f.Fatal(err)
		}
		handlers[i] = func(b []byte) ([]byte, error) { return h.Invoke(context.Background(), b) }
	}
	f.Fuzz(func(t *testing.T, shape uint8, payload []byte) {
		i := int(shape) % len(Shapes)
		out, err := handlers[i](payload)
		if err != nil {
			return
		}
		if Shapes[i] == ShapeHTTPSimple {
			var r events.APIGatewayV2CustomAuthorizerSimpleResponse
			if json.Unmarshal(out, &r) == nil && r.IsAuthorized {
				t.Fatalf("authorized: %s", payload)
			}
			return
		}
		var r events.APIGatewayCustomAuthorizerResponse
		if json.Unmarshal(out, &r) != nil {
			t.Fatalf("undecodable response %s", out)
		}
		for _, st := range r.PolicyDocument.Statement {
			if st.Effect == "Allow" {
				t.Fatalf("allow statement for %s", payload)
			}
		}
	})
}
