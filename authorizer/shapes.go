package authorizer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Shape names the API Gateway authorizer event and response format.
type Shape string

// The four shapes.
const (
	// ShapeRESTToken: REST API TOKEN authorizer, IAM policy response.
	ShapeRESTToken Shape = "rest-token"
	// ShapeRESTRequest: REST API REQUEST authorizer, IAM policy response.
	ShapeRESTRequest Shape = "rest-request"
	// ShapeHTTPSimple: HTTP API, payload 2.0, simple response.
	ShapeHTTPSimple Shape = "http-simple"
	// ShapeHTTPIAM: HTTP API, payload 1.0, IAM policy response.
	ShapeHTTPIAM Shape = "http-iam"
)

// Shapes lists every supported shape.
var Shapes = []Shape{ShapeRESTToken, ShapeRESTRequest, ShapeHTTPSimple, ShapeHTTPIAM}

// ErrUnauthorized is returned by the handlers to refuse with 401: API
// Gateway maps a function error whose message is exactly "Unauthorized" to
// that status.
var ErrUnauthorized = errors.New("Unauthorized")

// errUnavailable refuses with a plain function error: API Gateway answers
// 500 (AUTHORIZER_FAILURE, which a gateway response can turn into 503) and,
// unlike a Deny, does not cache it.
var errUnavailable = errors.New("authorizer unavailable: refusing until revocation state and keys are current")

// Handler returns the Lambda handler for shape.
func (a *Authorizer) Handler(shape Shape) (lambda.Handler, error) {
	switch shape {
	case ShapeRESTToken:
		return lambda.NewHandler(a.RESTToken), nil
	case ShapeRESTRequest:
		return lambda.NewHandler(a.RESTRequest), nil
	case ShapeHTTPSimple:
		return lambda.NewHandler(a.HTTPSimple), nil
	case ShapeHTTPIAM:
		return lambda.NewHandler(a.HTTPIAM), nil
	}
	return nil, fmt.Errorf("authorizer: unknown shape %q", shape)
}

const policyVersion = "2012-10-17"

// invokeAction is shared by every statement; responses are read-only.
var invokeAction = []string{"execute-api:Invoke"}

// RESTToken handles a REST API TOKEN authorizer event. authorizationToken
// holds the Authorization header value.
func (a *Authorizer) RESTToken(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	// The event holds no method, URL or DPoP header: DPoP-bound tokens
	// are refused (ErrBoundNoRequest), whatever the scheme.
	r := credential(ev.AuthorizationToken, true)
	return a.policyDecision(ctx, &r, ev.MethodArn)
}

// RESTRequest handles a REST API REQUEST authorizer event; the token comes
// from the Authorization header.
func (a *Authorizer) RESTRequest(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	r := credential(headerValue(ev.Headers, ev.MultiValueHeaders, "Authorization"))
	r.Proofs = headerValues(ev.Headers, ev.MultiValueHeaders, "DPoP")
	r.Method = ev.HTTPMethod
	r.URL = a.requestURL(ev.Headers, ev.MultiValueHeaders, "", ev.RequestContext.Path, ev.RequestContext.Stage)
	r.RequestID = ev.RequestContext.RequestID
	return a.policyDecision(ctx, &r, ev.MethodArn)
}

// HTTPIAM handles an HTTP API payload 1.0 event with an IAM policy
// response (the REST-compatible format).
func (a *Authorizer) HTTPIAM(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV1Request) (events.APIGatewayV2CustomAuthorizerIAMPolicyResponse, error) {
	req := credential(headerValue(ev.Headers, nil, "Authorization"))
	req.Proofs = headerValues(ev.Headers, nil, "DPoP")
	req.Method = ev.HTTPMethod
	req.URL = a.requestURL(ev.Headers, nil, "", ev.Path, ev.RequestContext.Stage)
	req.RequestID = ev.RequestContext.RequestID
	r, err := a.policyDecision(ctx, &req, ev.MethodArn)
	return events.APIGatewayV2CustomAuthorizerIAMPolicyResponse{
		PrincipalID:    r.PrincipalID,
		PolicyDocument: r.PolicyDocument,
		Context:        r.Context,
	}, err
}

// HTTPSimple handles an HTTP API payload 2.0 event with a simple response.
// isAuthorized answers for this route only, so API Gateway's cache must be
// keyed by route as well (identity source including $context.routeKey) or
// be off; see the package documentation.
func (a *Authorizer) HTTPSimple(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	r := credential(headerValue(ev.Headers, nil, "Authorization"))
	r.Proofs = headerValues(ev.Headers, nil, "DPoP")
	r.Method = ev.RequestContext.HTTP.Method
	r.URL = a.requestURL(ev.Headers, nil, ev.RequestContext.DomainName, ev.RawPath, ev.RequestContext.Stage)
	r.RequestID = ev.RequestContext.RequestID
	arn, err := ParseMethodARN(ev.RouteArn)
	if err != nil {
		a.log.ErrorContext(ctx, "bad event", "error", err.Error())
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, err
	}
	d := a.DecideRequest(ctx, &r, arn)
	a.record(ctx, d, &r, arn)
	switch d.Effect {
	case Allow, Deny:
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{
			IsAuthorized: d.Effect == Allow,
			Context:      a.simpleContext(d.g),
		}, nil
	case Unavailable:
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, errUnavailable
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, ErrUnauthorized
}

// policyDecision decides and builds the IAM policy response shared by the
// REST shapes and HTTP payload 1.0.
func (a *Authorizer) policyDecision(ctx context.Context, r *Request, methodARN string) (events.APIGatewayCustomAuthorizerResponse, error) {
	arn, err := ParseMethodARN(methodARN)
	if err != nil {
		a.log.ErrorContext(ctx, "bad event", "error", err.Error())
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	d := a.DecideRequest(ctx, r, arn)
	a.record(ctx, d, r, arn)
	switch d.Effect {
	case Allow, Deny:
		if d.g.jkt != "" {
			return a.boundPolicy(d, methodARN), nil
		}
		return a.policy(d, arn.Prefix), nil
	case Unavailable:
		return events.APIGatewayCustomAuthorizerResponse{}, errUnavailable
	}
	return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
}

// policy returns the token's policy for the API and stage in prefix. It
// depends on nothing else, so API Gateway may cache it and reuse it for any
// route of the stage: it allows exactly the routes the token may call and
// explicitly denies those it may not call that overlap them. A request for
// a route outside the Allow list is refused with 403 by API Gateway itself.
//
// With step-up rules the routes the token may call change with time (a
// sign-in gets older), so the policy follows the decision's routes; a cached
// policy can outlive a max_age by the cache's TTL. A step-up refusal's
// context also holds "error" (insufficient_user_authentication) and
// "wwwAuthenticate" (the RFC 9470 challenge), for a gateway response to
// pass on.
func (a *Authorizer) policy(d Decision, prefix string) events.APIGatewayCustomAuthorizerResponse {
	g := d.g
	var stepUp *StepUpError
	if errors.As(d.Reason, &stepUp) {
		r := events.APIGatewayCustomAuthorizerResponse{
			PrincipalID:    g.sub,
			PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: policyVersion, Statement: a.statements(d.ok, prefix)},
			Context:        g.restContext(),
		}
		r.Context["error"] = ErrStepUp.Error()
		r.Context["wwwAuthenticate"] = d.stepUpChallenge(nil)
		return r
	}
	if m := g.memo.Load(); m != nil && m.key == prefix && m.ok == d.ok {
		if r, ok := m.resp.(events.APIGatewayCustomAuthorizerResponse); ok {
			return r
		}
	}
	r := events.APIGatewayCustomAuthorizerResponse{
		PrincipalID:    g.sub,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: policyVersion, Statement: a.statements(d.ok, prefix)},
		Context:        g.restContext(),
	}
	g.memo.Store(&memo{key: prefix, ok: d.ok, resp: r})
	return r
}

// boundPolicy answers for a DPoP-bound token: an Allow or Deny of exactly
// this method ARN. API Gateway caches a response by identity source; the
// proof in it is single-use and good for one method and URL, so a policy
// valid for other routes would let a cached answer serve a replayed proof
// elsewhere. Identity sources should include the DPoP header (or the cache
// be off), see the package documentation.
func (a *Authorizer) boundPolicy(d Decision, methodARN string) events.APIGatewayCustomAuthorizerResponse {
	effect := "Deny"
	if d.Effect == Allow {
		effect = "Allow"
	}
	r := events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: d.g.sub,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: policyVersion, Statement: []events.IAMPolicyStatement{
			{Action: invokeAction, Effect: effect, Resource: []string{methodARN}},
		}},
		Context: d.g.restContext(),
	}
	if errors.Is(d.Reason, ErrStepUp) {
		r.Context["error"] = ErrStepUp.Error()
		r.Context["wwwAuthenticate"] = d.stepUpChallenge(&Request{DPoP: true})
	}
	return r
}

// statements returns the policy statements for a route mask and prefix.
// Every token with the same groups and scopes gets the same statements, so
// they are built once and shared (read-only).
func (a *Authorizer) statements(ok mask, prefix string) []events.IAMPolicyStatement {
	key := policyKey{prefix, ok}
	if st := a.policies.get(key); st != nil {
		return st
	}
	allow, deny := a.routes.resources(ok)
	var stmts []events.IAMPolicyStatement
	if len(allow) == 0 {
		stmts = []events.IAMPolicyStatement{{Action: invokeAction, Effect: "Deny", Resource: []string{prefix + "/*"}}}
	} else {
		stmts = append(stmts, events.IAMPolicyStatement{Action: invokeAction, Effect: "Allow", Resource: a.routeARNs(prefix, allow)})
		if len(deny) > 0 {
			stmts = append(stmts, events.IAMPolicyStatement{Action: invokeAction, Effect: "Deny", Resource: a.routeARNs(prefix, deny)})
		}
	}
	a.policies.put(key, stmts)
	return stmts
}

type policyKey struct {
	prefix string
	ok     mask
}

// policyCache holds statements by policyKey. A deployment sees few
// distinct group and scope combinations; the bound only stops a flood of
// unusual ones from growing it without limit.
type policyCache struct {
	mu sync.RWMutex
	m  map[policyKey][]events.IAMPolicyStatement
}

const maxPolicies = 1024

func (c *policyCache) get(k policyKey) []events.IAMPolicyStatement {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[k]
}

func (c *policyCache) put(k policyKey, st []events.IAMPolicyStatement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxPolicies {
		c.m = make(map[policyKey][]events.IAMPolicyStatement)
	}
	c.m[k] = st
}

func (a *Authorizer) routeARNs(prefix string, idx []int) []string {
	n := 0
	for _, i := range idx {
		n += len(a.routes.routes[i].resources)
	}
	out := make([]string, 0, n)
	for _, i := range idx {
		for _, r := range a.routes.routes[i].resources {
			out = append(out, prefix+"/"+r)
		}
	}
	return out
}

// simpleContext returns the token's payload 2.0 context, built once.
func (a *Authorizer) simpleContext(g *grant) map[string]any {
	const key = "\x00simple"
	if m := g.memo.Load(); m != nil && m.key == key {
		if c, ok := m.resp.(map[string]any); ok {
			return c
		}
	}
	c := g.httpContext()
	g.memo.Store(&memo{key: key, resp: c})
	return c
}
