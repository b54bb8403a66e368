package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/internal/dev/devgateway"
	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/revset"
	"github.com/shortfuse/shortfuse/shared/store"
)

const (
	testPrefix = "arn:aws:execute-api:us-east-1:123456789012:api123/prod"
	testRoutes = `[
		{"route": "GET /hello"},
		{"route": "ANY /users/*", "groups": ["users", "admin"]},
		{"route": "GET /users/*/secrets", "groups": ["admin"]},
		{"route": "ANY /admin/*", "groups": ["admin"]},
		{"route": "POST /orders", "scopes": ["orders:write"]}
	]`
)

// memLog is an in-memory revocation log.
type memLog struct {
	mu      sync.Mutex
	entries []store.Revocation
	err     error
	n       int
}

func (m *memLog) RevocationsSince(ctx context.Context, since, now time.Time) ([]store.Revocation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	var out []store.Revocation
	for _, r := range m.entries {
		if !r.At.Before(since) && r.Until.After(now) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memLog) add(kind, value string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	m.entries = append(m.entries, store.Revocation{
		ID: at.Format(time.RFC3339Nano) + "#" + string(rune('a'+m.n%26)) + kind + value, Kind: kind, Value: value,
		At: at, Until: at.Add(time.Hour),
	})
}

func (m *memLog) fail(err error) { m.mu.Lock(); m.err = err; m.mu.Unlock() }

// fixture is an authorizer over a test issuer and an in-memory log.
type fixture struct {
	iss  *jwttest.Issuer
	log  *memLog
	set  *revset.Set
	a    *Authorizer
	mode string
}

type fixtureOpt func(*Config)

func newFixture(t testing.TB, mode string, opts ...fixtureOpt) *fixture {
	t.Helper()
	iss := jwttest.NewIssuer(t, "RS256")
	return newFixtureFor(t, iss, mode, iss.JWKS(), opts...)
}

func newFixtureFor(t testing.TB, iss *jwttest.Issuer, mode string, jwks []byte, opts ...fixtureOpt) *fixture {
	t.Helper()
	routes, err := ParseRoutes([]byte(testRoutes))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Mode:           mode,
		Issuer:         iss.Issuer,
		JWKS:           jwks,
		Routes:         routes,
		TokenCacheSize: 64,
	}
	switch mode {
	case ModeExchange:
		cfg.Audiences = []string{iss.Audience}
		cfg.ClientIDs = []string{iss.ClientID}
	case ModeDirect:
		cfg.Audiences = []string{iss.ClientID}
		cfg.MaxAge = time.Minute
	}
	for _, o := range opts {
		o(&cfg)
	}
	log := &memLog{}
	set := revset.New(revset.SourceFunc(log.RevocationsSince), revset.Options{Poll: time.Hour, Grace: 2 * time.Hour})
	t.Cleanup(set.Close)
	if err := set.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, Deps{Revocations: set})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return &fixture{iss: iss, log: log, set: set, a: a, mode: mode}
}

// revoke appends a revocation and makes the set see it.
func (f *fixture) revoke(t testing.TB, kind, value string, at time.Time) {
	t.Helper()
	f.log.add(kind, value, at)
	if err := f.set.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// good returns a valid token for the fixture's mode.
func (f *fixture) good(overrides map[string]any) string {
	if f.mode == ModeDirect {
		return f.iss.CognitoIDToken(overrides)
	}
	return f.iss.AccessToken(overrides)
}

// result is what API Gateway would make of a handler's answer.
type result struct {
	status  int
	context map[string]any
	raw     []byte
}

// invoke runs the shape's Lambda handler on the event API Gateway would
// send for authorization, method and path, through JSON as the Lambda
// runtime does, and applies the answer as API Gateway would.
func invoke(t testing.TB, a *Authorizer, shape Shape, authorization, method, path string) result {
	t.Helper()
	arn := testPrefix + "/" + method + path
	var ev any
	headers := map[string]string{}
	if authorization != "" {
		headers["authorization"] = authorization
	}
	switch shape {
	case ShapeRESTToken:
		ev = events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: authorization, MethodArn: arn}
	case ShapeRESTRequest:
		h := map[string]string{}
		if authorization != "" {
			h["Authorization"] = authorization
		}
		ev = events.APIGatewayCustomAuthorizerRequestTypeRequest{Type: "REQUEST", MethodArn: arn, HTTPMethod: method, Path: path, Headers: h}
	case ShapeHTTPIAM:
		ev = events.APIGatewayV2CustomAuthorizerV1Request{Version: "1.0", Type: "REQUEST", MethodArn: arn, HTTPMethod: method, Path: path, Headers: headers}
	case ShapeHTTPSimple:
		ev = events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", RouteArn: arn, RawPath: path, Headers: headers}
	}
	return deliver(t, a, shape, arn, ev)
}

// deliver runs the shape's Lambda handler on ev, through JSON as the Lambda
// runtime does, and applies the answer to arn as API Gateway would.
func deliver(t testing.TB, a *Authorizer, shape Shape, arn string, ev any) result {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	h, err := a.Handler(shape)
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		if err.Error() == "Unauthorized" {
			return result{status: http.StatusUnauthorized}
		}
		return result{status: http.StatusInternalServerError}
	}
	if shape == ShapeHTTPSimple {
		var r events.APIGatewayV2CustomAuthorizerSimpleResponse
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		if r.IsAuthorized {
			return result{status: http.StatusOK, context: r.Context, raw: out}
		}
		return result{status: http.StatusForbidden, context: r.Context, raw: out}
	}
	var r events.APIGatewayCustomAuthorizerResponse
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	if devgateway.PolicyAllows(r.PolicyDocument, arn) {
		return result{status: http.StatusOK, context: r.Context, raw: out}
	}
	return result{status: http.StatusForbidden, context: r.Context, raw: out}
}

// staleChecker always reports the revocation state as unusable.
type staleChecker struct{}

func (staleChecker) Check(context.Context, revset.Token) error {
	return errors.Join(revset.ErrStale, errors.New("test"))
}

func parsePolicy(t testing.TB, raw []byte) events.APIGatewayCustomAuthorizerPolicy {
	t.Helper()
	var r events.APIGatewayCustomAuthorizerResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r.PolicyDocument
}
