// Package devgateway is a local stand-in for API Gateway in front of a
// Lambda authorizer, for the dev stack and end-to-end tests.
//
// For each request it builds the authorizer event API Gateway would send
// (REST TOKEN or REQUEST, HTTP API payload 1.0 or 2.0), invokes the
// authorizer through the Lambda Invoke API with the AWS SDK, enforces the
// answer as API Gateway does (401 for an "Unauthorized" error, 403 when the
// policy does not allow the method ARN or isAuthorized is false, 500 for any
// other function error) and hands allowed requests to a backend, with the
// authorizer's context in the X-Shortfuse-Authorizer header. It can also
// cache authorizer results by identity source for a TTL, like API Gateway,
// to show how the cache adds to the revocation delay.
//
// It is a development tool: it listens where it is told and trusts the
// Lambda host it talks to.
package devgateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/shortfuse/shortfuse/shared/cors"
)

// ContextHeader carries the authorizer's context, as a JSON object, to the
// backend. Any copy sent by the client is removed first.
const ContextHeader = "X-Shortfuse-Authorizer"

// Shapes of authorizer events, named as in the authorizer's configuration.
const (
	ShapeRESTToken   = "rest-token"
	ShapeRESTRequest = "rest-request"
	ShapeHTTPSimple  = "http-simple"
	ShapeHTTPIAM     = "http-iam"
)

// Invoker invokes a Lambda function; *lambda.Client implements it.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Options configure a Gateway.
type Options struct {
	// Invoker calls the authorizer; nil builds an SDK client for InvokeURL.
	Invoker Invoker
	// InvokeURL is the Lambda Invoke API endpoint (the dev Lambda host).
	InvokeURL string
	// AWS is the SDK configuration for the built client; the zero value
	// means static dummy credentials in us-east-1.
	AWS aws.Config
	// Function is the authorizer's name (default "authorizer").
	Function string
	// Shape is the event shape the authorizer expects (default rest-token).
	Shape string
	// Backend receives allowed requests (default DemoBackend()).
	Backend http.Handler
	// Region, AccountID, APIID and Stage make up the method ARNs
	// (defaults us-east-1, 000000000000, "devapi", "dev").
	Region, AccountID, APIID, Stage string
	// CacheTTL caches authorizer results by identity source, as API Gateway
	// does (simple responses by route as well); 0 (the default) disables
	// the cache.
	CacheTTL time.Duration
	// Public lists routes ("METHOD /path", exact) that reach the backend
	// without the authorizer, like routes with AuthorizationType NONE.
	Public []string
	// CORS answers preflights before any authorizer, and adds its headers
	// to every response (the authorizer's refusals included), as an HTTP
	// API with a CorsConfiguration does; nil or empty: no CORS.
	CORS *cors.Policy
	// Timeout bounds one authorizer invocation (default 10s).
	Timeout time.Duration
	Logger  *slog.Logger
	Now     func() time.Time
}

// Gateway is the http.Handler of the local gateway.
type Gateway struct {
	o      Options
	prefix string // arn:aws:execute-api:REGION:ACCOUNT:API/STAGE

	mu    sync.Mutex
	cache map[string]cached
	stats Stats
}

// Stats count authorizer invocations and outcomes.
type Stats struct {
	Invocations int64
	CacheHits   int64
	Allowed     int64
	Refused     int64
}

type cached struct {
	res     result
	expires time.Time
}

// result is an authorizer answer, before it is applied to a route.
type result struct {
	status    int                                      // 0: look at policy/simple; else refuse with it
	policy    *events.APIGatewayCustomAuthorizerPolicy // IAM shapes
	simple    *bool                                    // payload 2.0 simple response
	principal string
	context   map[string]any
}

// New returns a Gateway.
func New(o Options) (*Gateway, error) {
	if o.Function == "" {
		o.Function = "authorizer"
	}
	if o.Shape == "" {
		o.Shape = ShapeRESTToken
	}
	switch o.Shape {
	case ShapeRESTToken, ShapeRESTRequest, ShapeHTTPSimple, ShapeHTTPIAM:
	default:
		return nil, fmt.Errorf("devgateway: unknown shape %q", o.Shape)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.AccountID == "" {
		o.AccountID = "000000000000"
	}
	if o.APIID == "" {
		o.APIID = "devapi"
	}
	if o.Stage == "" {
		o.Stage = "dev"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Backend == nil {
		o.Backend = DemoBackend()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Invoker == nil {
		if o.InvokeURL == "" {
			return nil, errors.New("devgateway: InvokeURL or Invoker is required")
		}
		cfg := o.AWS.Copy()
		if cfg.Region == "" {
			cfg.Region = o.Region
		}
		if cfg.Credentials == nil {
			cfg.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
		}
		url := o.InvokeURL
		o.Invoker = lambda.NewFromConfig(cfg, func(lo *lambda.Options) { lo.BaseEndpoint = aws.String(url) })
	}
	return &Gateway{
		o:      o,
		prefix: fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s", o.Region, o.AccountID, o.APIID, o.Stage),
		cache:  map[string]cached{},
	}, nil
}

// Stats returns the counters so far.
func (g *Gateway) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// ServeHTTP authorizes the request and passes it to the backend.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.o.CORS.Enabled() {
		if cors.IsPreflight(r) {
			g.o.CORS.Preflight(w, r)
			return
		}
		g.o.CORS.Decorate(w.Header(), r.Header.Get("Origin"))
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	if slices.Contains(g.o.Public, r.Method+" "+path) {
		r2 := r.Clone(r.Context())
		r2.Header.Del(ContextHeader)
		g.o.Backend.ServeHTTP(w, r2)
		return
	}
	arn := g.prefix + "/" + r.Method + path
	identity := strings.Join(r.Header.Values("Authorization"), ",")
	var res result
	if identity == "" {
		// API Gateway refuses a request without its identity source
		// before invoking the authorizer.
		res = result{status: http.StatusUnauthorized}
	} else {
		res = g.authorize(r, arn, identity)
	}
	status := res.status
	if status == 0 {
		status = http.StatusForbidden
		switch {
		case res.simple != nil && *res.simple:
			status = http.StatusOK
		case res.policy != nil && PolicyAllows(*res.policy, arn):
			status = http.StatusOK
		}
	}
	g.mu.Lock()
	if status == http.StatusOK {
		g.stats.Allowed++
	} else {
		g.stats.Refused++
	}
	g.mu.Unlock()
	switch status {
	case http.StatusOK:
	case http.StatusUnauthorized:
		writeError(w, status, "UnauthorizedException", "Unauthorized")
		return
	case http.StatusForbidden:
		writeError(w, status, "AccessDeniedException", "User is not authorized to access this resource")
		return
	default:
		writeError(w, http.StatusInternalServerError, "AuthorizerConfigurationException", "Internal server error")
		return
	}
	ctx := map[string]any{}
	for k, v := range res.context {
		ctx[k] = v
	}
	if res.principal != "" {
		ctx["principalId"] = res.principal
	}
	b, _ := json.Marshal(ctx)
	r2 := r.Clone(r.Context())
	r2.Header.Del(ContextHeader)
	r2.Header.Set(ContextHeader, string(b))
	g.o.Backend.ServeHTTP(w, r2)
}

func writeError(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", errType)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": msg})
	_, _ = w.Write(b)
}

func (g *Gateway) authorize(r *http.Request, arn, identity string) result {
	now := g.o.Now()
	// The DPoP header is an identity source too, as a deployment that
	// accepts DPoP-bound tokens must configure it: a proof is single-use,
	// so an answer cached for one proof must not serve another request.
	key := identity + "\x00" + strings.Join(r.Header.Values("DPoP"), ",")
	if g.o.Shape == ShapeHTTPSimple {
		// A simple response answers for one route only: like an HTTP API
		// whose identity sources include $context.routeKey, key it by
		// route too (here every method and path is its own route).
		key += "\x00" + arn
	}
	if g.o.CacheTTL > 0 {
		g.mu.Lock()
		c, ok := g.cache[key]
		if ok && now.Before(c.expires) {
			g.stats.CacheHits++
			g.mu.Unlock()
			return c.res
		}
		g.mu.Unlock()
	}
	res := g.invoke(r, arn, identity)
	if g.o.CacheTTL > 0 && res.status == 0 {
		g.mu.Lock()
		if len(g.cache) > 10000 {
			clear(g.cache)
		}
		g.cache[key] = cached{res: res, expires: now.Add(g.o.CacheTTL)}
		g.mu.Unlock()
	}
	return res
}

func (g *Gateway) invoke(r *http.Request, arn, identity string) result {
	ev, err := g.event(r, arn, identity)
	if err != nil {
		g.o.Logger.Error("build authorizer event", "error", err.Error())
		return result{status: http.StatusInternalServerError}
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return result{status: http.StatusInternalServerError}
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.o.Timeout)
	defer cancel()
	g.mu.Lock()
	g.stats.Invocations++
	g.mu.Unlock()
	out, err := g.o.Invoker.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(g.o.Function), Payload: payload})
	if err != nil {
		g.o.Logger.Error("invoke authorizer", "error", err.Error())
		return result{status: http.StatusInternalServerError}
	}
	if out.FunctionError != nil {
		var fe struct {
			ErrorMessage string `json:"errorMessage"`
		}
		_ = json.Unmarshal(out.Payload, &fe)
		if fe.ErrorMessage == "Unauthorized" {
			return result{status: http.StatusUnauthorized}
		}
		g.o.Logger.Warn("authorizer failed", "error", fe.ErrorMessage)
		return result{status: http.StatusInternalServerError}
	}
	if g.o.Shape == ShapeHTTPSimple {
		var s struct {
			IsAuthorized *bool          `json:"isAuthorized"`
			Context      map[string]any `json:"context"`
		}
		if err := json.Unmarshal(out.Payload, &s); err != nil || s.IsAuthorized == nil {
			g.o.Logger.Warn("malformed simple response")
			return result{status: http.StatusInternalServerError}
		}
		return result{simple: s.IsAuthorized, context: s.Context}
	}
	doc, principal, c, err := parsePolicyResponse(out.Payload)
	if err != nil {
		g.o.Logger.Warn("malformed policy response", "error", err.Error())
		return result{status: http.StatusInternalServerError}
	}
	return result{policy: &doc, principal: principal, context: c}
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
