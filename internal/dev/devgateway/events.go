package devgateway

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// event builds the authorizer event for r in the configured shape, with the
// fields API Gateway fills.
func (g *Gateway) event(r *http.Request, arn, identity string) (any, error) {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	reqID := requestID()
	switch g.o.Shape {
	case ShapeRESTToken:
		return events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: identity, MethodArn: arn}, nil

	case ShapeRESTRequest:
		headers, multi := restHeaders(forwarded(r))
		query, multiQuery := restQuery(r)
		return events.APIGatewayCustomAuthorizerRequestTypeRequest{
			Type:                            "REQUEST",
			MethodArn:                       arn,
			Resource:                        path,
			Path:                            path,
			HTTPMethod:                      r.Method,
			Headers:                         headers,
			MultiValueHeaders:               multi,
			QueryStringParameters:           query,
			MultiValueQueryStringParameters: multiQuery,
			RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
				Path: "/" + g.o.Stage + path, AccountID: g.o.AccountID, ResourceID: "dev", Stage: g.o.Stage,
				RequestID: reqID, ResourcePath: path, HTTPMethod: r.Method, APIID: g.o.APIID,
				Identity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: sourceIP},
			},
		}, nil

	case ShapeHTTPIAM:
		query, _ := restQuery(r)
		return events.APIGatewayV2CustomAuthorizerV1Request{
			Version:               "1.0",
			Type:                  "REQUEST",
			MethodArn:             arn,
			IdentitySource:        identity,
			AuthorizationToken:    identity,
			Resource:              path,
			Path:                  path,
			HTTPMethod:            r.Method,
			Headers:               httpHeaders(forwarded(r)),
			QueryStringParameters: query,
			RequestContext: events.APIGatewayV2CustomAuthorizerV1RequestTypeRequestContext{
				Path: path, AccountID: g.o.AccountID, ResourceID: "dev", Stage: g.o.Stage,
				RequestID: reqID, ResourcePath: path, HTTPMethod: r.Method, APIID: g.o.APIID,
				Identity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: sourceIP},
			},
		}, nil

	default: // ShapeHTTPSimple
		query, _ := restQuery(r)
		now := g.o.Now()
		var cookies []string
		for _, c := range r.Cookies() {
			cookies = append(cookies, c.String())
		}
		return events.APIGatewayV2CustomAuthorizerV2Request{
			Version:               "2.0",
			Type:                  "REQUEST",
			RouteArn:              arn,
			IdentitySource:        []string{identity},
			RouteKey:              "$default",
			RawPath:               path,
			RawQueryString:        r.URL.RawQuery,
			Cookies:               cookies,
			Headers:               httpHeaders(forwarded(r)),
			QueryStringParameters: query,
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				RouteKey:   "$default",
				AccountID:  g.o.AccountID,
				Stage:      g.o.Stage,
				RequestID:  reqID,
				APIID:      g.o.APIID,
				DomainName: r.Host,
				Time:       now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
				TimeEpoch:  now.UnixMilli(),
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
					Method: r.Method, Path: path, Protocol: r.Proto, SourceIP: sourceIP, UserAgent: r.UserAgent(),
				},
			},
		}, nil
	}
}

// forwarded returns r's headers as API Gateway passes them on: with Host
// (which net/http keeps apart) and X-Forwarded-Proto, so that the
// authorizer can rebuild the URL the client addressed (a DPoP proof's htu).
func forwarded(r *http.Request) http.Header {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Host", r.Host)
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	h.Set("X-Forwarded-Proto", proto)
	return h
}

// restHeaders returns REST-style headers: the last value of each in
// headers, every value in multi, names as sent.
func restHeaders(h http.Header) (map[string]string, map[string][]string) {
	headers := make(map[string]string, len(h))
	multi := make(map[string][]string, len(h))
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		headers[k] = vs[len(vs)-1]
		multi[k] = append([]string(nil), vs...)
	}
	return headers, multi
}

// httpHeaders returns HTTP API-style headers: lower-case names, repeated
// values joined with commas.
func httpHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		out[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	return out
}

func restQuery(r *http.Request) (map[string]string, map[string][]string) {
	q := r.URL.Query()
	if len(q) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(q))
	for k, vs := range q {
		single[k] = strings.Join(vs, ",")
	}
	return single, q
}

// DemoBackend is the backend of the dev stack: GET /hello greets the caller
// and every other path echoes the request; both show the authorizer context
// the gateway passed on.
func DemoBackend() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		ctx := AuthorizerContext(r)
		name, _ := ctx["username"].(string)
		if name == "" {
			name, _ = ctx["sub"].(string)
		}
		writeJSON(w, map[string]any{"message": "hello, " + name, "authorizer": ctx})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"method": r.Method, "path": r.URL.Path, "authorizer": AuthorizerContext(r)})
	})
	return mux
}

// AuthorizerContext returns the context the gateway passed with r, or an
// empty map.
func AuthorizerContext(r *http.Request) map[string]any {
	ctx := map[string]any{}
	if v := r.Header.Get(ContextHeader); v != "" {
		_ = json.Unmarshal([]byte(v), &ctx)
	}
	return ctx
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
	_ = json.NewEncoder(w).Encode(v)
}

// SampleEvent is the authorizer event the gateway would send for a request
// with method, path and Authorization header, as JSON: for walkthroughs
// that invoke the authorizer directly.
func (g *Gateway) SampleEvent(method, path, authorization string) ([]byte, error) {
	r := httptest.NewRequest(method, path, nil)
	r.Header.Set("Authorization", authorization)
	r.RemoteAddr = "127.0.0.1:1"
	ev, err := g.event(r, g.prefix+"/"+method+path, authorization)
	if err != nil {
		return nil, err
	}
	return json.Marshal(ev)
}
