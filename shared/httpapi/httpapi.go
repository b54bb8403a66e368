// Package httpapi runs an http.Handler behind API Gateway HTTP APIs (Lambda
// proxy integration, payload format 2.0).
//
// An event becomes an *http.Request, the handler writes into a recorder, and
// the recording becomes the response event. The same handler therefore serves
// a plain HTTP server and a Lambda function without knowing which. Requests
// are checked strictly: a malformed event or an oversized body is answered
// by the adapter and never reaches the handler.
package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Default limits. API Gateway itself caps request headers near 10 KiB and a
// Lambda response at 6 MB; the body limit is meant to be lowered per service.
const (
	DefaultMaxBodyBytes     = 1 << 20
	DefaultMaxHeaderBytes   = 16 << 10
	DefaultMaxResponseBytes = 4 << 20 // base64 of this still fits in 6 MB
)

// Errors the adapter reports to its ErrorFunc.
var (
	ErrBadEvent         = errors.New("httpapi: malformed request event")
	ErrBodyTooLarge     = errors.New("httpapi: request body too large")
	ErrHeadersTooLarge  = errors.New("httpapi: request headers too large")
	ErrResponseTooLarge = errors.New("httpapi: response too large")
)

// ErrorFunc writes the response for a request the adapter refuses itself
// (status 400, 413 or 431) or for a handler that panicked or answered too
// much (status 500).
type ErrorFunc func(w http.ResponseWriter, status int, err error)

// Adapter turns API Gateway HTTP API events into calls of an http.Handler.
type Adapter struct {
	h         http.Handler
	maxBody   int
	maxHeader int
	maxResp   int
	onError   ErrorFunc
}

// Option configures an Adapter.
type Option func(*Adapter)

// WithMaxBodyBytes limits the decoded request body.
func WithMaxBodyBytes(n int) Option { return func(a *Adapter) { a.maxBody = n } }

// WithMaxHeaderBytes limits the total size of header names, values and cookies.
func WithMaxHeaderBytes(n int) Option { return func(a *Adapter) { a.maxHeader = n } }

// WithMaxResponseBytes limits the response body the handler may write.
func WithMaxResponseBytes(n int) Option { return func(a *Adapter) { a.maxResp = n } }

// WithErrorFunc replaces the default error responses ({"message": "..."}).
func WithErrorFunc(f ErrorFunc) Option { return func(a *Adapter) { a.onError = f } }

// New returns an Adapter serving h.
func New(h http.Handler, opts ...Option) *Adapter {
	a := &Adapter{
		h:         h,
		maxBody:   DefaultMaxBodyBytes,
		maxHeader: DefaultMaxHeaderBytes,
		maxResp:   DefaultMaxResponseBytes,
		onError:   defaultError,
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

type ctxKey struct{}

// RequestContext returns the API Gateway request context of a request built
// by the adapter.
func RequestContext(ctx context.Context) (events.APIGatewayV2HTTPRequestContext, bool) {
	rc, ok := ctx.Value(ctxKey{}).(events.APIGatewayV2HTTPRequestContext)
	return rc, ok
}

// Handle serves one event. Its signature is the one lambda.Start expects.
// It returns an error only when the handler panicked, so that the runtime
// logs it; the response then is a 500.
func (a *Adapter) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	rec := newRecorder(a.maxResp)
	r, status, rerr := a.Request(ctx, ev)
	if rerr != nil {
		a.onError(rec, status, rerr)
		return rec.response(), nil
	}
	defer func() {
		if p := recover(); p != nil {
			fresh := newRecorder(a.maxResp)
			a.onError(fresh, http.StatusInternalServerError, fmt.Errorf("httpapi: handler panic: %v", p))
			resp, err = fresh.response(), fmt.Errorf("httpapi: handler panic: %v", p)
		}
	}()
	a.h.ServeHTTP(rec, r)
	if rec.overflow {
		fresh := newRecorder(a.maxResp)
		a.onError(fresh, http.StatusInternalServerError, ErrResponseTooLarge)
		return fresh.response(), nil
	}
	return rec.response(), nil
}

// Request converts an event into an *http.Request. On failure it returns the
// HTTP status the client should get and an error wrapping ErrBadEvent,
// ErrBodyTooLarge or ErrHeadersTooLarge.
func (a *Adapter) Request(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, int, error) {
	method := ev.RequestContext.HTTP.Method
	if !validToken(method) {
		return nil, http.StatusBadRequest, fmt.Errorf("%w: method %q", ErrBadEvent, method)
	}
	raw := ev.RawPath
	if raw == "" {
		raw = ev.RequestContext.HTTP.Path
	}
	if !strings.HasPrefix(raw, "/") || strings.ContainsAny(raw, "?# \t\r\n") {
		return nil, http.StatusBadRequest, fmt.Errorf("%w: path", ErrBadEvent)
	}
	uri := raw
	if ev.RawQueryString != "" {
		if strings.ContainsAny(ev.RawQueryString, "# \t\r\n") {
			return nil, http.StatusBadRequest, fmt.Errorf("%w: query", ErrBadEvent)
		}
		uri += "?" + ev.RawQueryString
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}

	hdr := make(http.Header, len(ev.Headers)+1)
	size := 0
	for k, v := range ev.Headers {
		size += len(k) + len(v)
		if !validToken(k) || !validHeaderValue(v) {
			return nil, http.StatusBadRequest, fmt.Errorf("%w: header %q", ErrBadEvent, k)
		}
		hdr.Add(k, v)
	}
	if len(ev.Cookies) > 0 {
		for _, c := range ev.Cookies {
			size += len(c) + 2
			if !validHeaderValue(c) {
				return nil, http.StatusBadRequest, fmt.Errorf("%w: cookie", ErrBadEvent)
			}
		}
		// Payload 2.0 moves the Cookie header into its own field.
		hdr.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	if size > a.maxHeader {
		return nil, http.StatusRequestHeaderFieldsTooLarge, ErrHeadersTooLarge
	}

	var body []byte
	if ev.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(ev.Body)) > a.maxBody+2 {
			return nil, http.StatusRequestEntityTooLarge, ErrBodyTooLarge
		}
		body, err = base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("%w: body is not base64", ErrBadEvent)
		}
	} else {
		body = []byte(ev.Body)
	}
	if len(body) > a.maxBody {
		return nil, http.StatusRequestEntityTooLarge, ErrBodyTooLarge
	}

	r, err := http.NewRequestWithContext(context.WithValue(ctx, ctxKey{}, ev.RequestContext), method, uri, bytes.NewReader(body))
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	r.URL = u
	r.RequestURI = uri
	r.Header = hdr
	r.ContentLength = int64(len(body))
	if len(body) == 0 {
		r.Body = http.NoBody
	}
	r.Host = hdr.Get("Host")
	if r.Host == "" {
		r.Host = ev.RequestContext.DomainName
	}
	if major, minor, ok := http.ParseHTTPVersion(ev.RequestContext.HTTP.Protocol); ok {
		r.Proto, r.ProtoMajor, r.ProtoMinor = ev.RequestContext.HTTP.Protocol, major, minor
	}
	if ip := ev.RequestContext.HTTP.SourceIP; ip != "" {
		r.RemoteAddr = net.JoinHostPort(ip, "0")
	}
	return r, 0, nil
}

func defaultError(w http.ResponseWriter, status int, _ error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": http.StatusText(status)})
	_, _ = w.Write(b)
}

// recorder is an http.ResponseWriter that keeps the response in memory, up
// to a limit.
type recorder struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	max      int
	overflow bool
}

func newRecorder(max int) *recorder { return &recorder{header: make(http.Header), max: max} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.body.Len()+len(p) > r.max {
		r.overflow = true
		return 0, ErrResponseTooLarge
	}
	return r.body.Write(p)
}

func (r *recorder) response() events.APIGatewayV2HTTPResponse {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	out := events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: make(map[string]string, len(r.header))}
	for k, vs := range r.header {
		if len(vs) == 0 {
			continue
		}
		if http.CanonicalHeaderKey(k) == "Set-Cookie" {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		// Payload 2.0 has no multi-value headers: values are joined.
		out.Headers[k] = strings.Join(vs, ",")
	}
	if r.body.Len() > 0 {
		if textual(r.header.Get("Content-Type")) && utf8.Valid(r.body.Bytes()) {
			out.Body = r.body.String()
		} else {
			out.Body = base64.StdEncoding.EncodeToString(r.body.Bytes())
			out.IsBase64Encoded = true
		}
	}
	return out
}

// textual reports whether a body of this media type can travel as a string.
func textual(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}

// validToken reports whether s is an RFC 9110 token (method, header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// validHeaderValue refuses control characters other than horizontal tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
