// Package lambdahost serves Go Lambda handlers over the AWS Lambda Invoke
// API, so that local stand-ins such as cognito-local, and SDK clients with an
// endpoint override, can invoke the project's functions as they would in AWS.
//
// It implements POST /2015-03-31/functions/{name}/invocations for the
// RequestResponse, Event and DryRun invocation types. A handler error, panic
// or timeout is reported the way Lambda reports an unhandled function error:
// status 200, header X-Amz-Function-Error: Unhandled and a body of the form
// {"errorMessage": "...", "errorType": "..."}.
//
// The host is meant for development and tests: it performs no
// authentication and should listen on a loopback address only.
package lambdahost

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

const (
	// DefaultTimeout is the per-invocation deadline, the budget Cognito gives
	// a trigger.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxBodyBytes is Lambda's limit for a synchronous request payload.
	DefaultMaxBodyBytes = 6 << 20

	invokePrefix = "/2015-03-31/functions/"
	invokeSuffix = "/invocations"
	accountID    = "000000000000"
)

// InvokePath returns the Invoke API path for the named function.
func InvokePath(name string) string {
	return invokePrefix + name + invokeSuffix
}

// Host is an http.Handler serving the Lambda Invoke API for a fixed set of
// functions.
type Host struct {
	functions map[string]lambda.Handler
	timeout   time.Duration
	maxBody   int64
	log       *slog.Logger
	region    string
}

// Option configures a Host.
type Option func(*Host)

// WithTimeout sets the deadline of each invocation (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(h *Host) { h.timeout = d } }

// WithMaxBodyBytes sets the largest accepted payload (default DefaultMaxBodyBytes).
func WithMaxBodyBytes(n int64) Option { return func(h *Host) { h.maxBody = n } }

// WithLogger sets the logger for invocation records (default: discard).
func WithLogger(l *slog.Logger) Option { return func(h *Host) { h.log = l } }

// WithRegion sets the region used in function ARNs (default "us-east-1").
func WithRegion(region string) Option { return func(h *Host) { h.region = region } }

// New returns a Host serving functions by name. Register typed handlers with
// lambda.NewHandler(fn); a nil handler is an error at invocation time.
func New(functions map[string]lambda.Handler, opts ...Option) *Host {
	h := &Host{
		functions: make(map[string]lambda.Handler, len(functions)),
		timeout:   DefaultTimeout,
		maxBody:   DefaultMaxBodyBytes,
		log:       slog.New(slog.DiscardHandler),
		region:    "us-east-1",
	}
	for name, fn := range functions {
		h.functions[name] = fn
	}
	for _, o := range opts {
		o(h)
	}
	if h.timeout <= 0 {
		h.timeout = DefaultTimeout
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	return h
}

// ServeHTTP implements the Invoke API.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := functionName(r.URL.Path)
	if !ok {
		writeAPIError(w, http.StatusNotFound, "UnknownOperationException", "Unknown operation "+r.Method+" "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeAPIError(w, http.StatusMethodNotAllowed, "UnknownOperationException", "Invoke requires POST")
		return
	}
	fn, found := h.functions[name]
	if !found {
		writeAPIError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+h.arn(name))
		return
	}
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
				fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", h.maxBody))
			return
		}
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not read request body")
		return
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}

	reqID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	lc := &lambdacontext.LambdaContext{AwsRequestID: reqID, InvokedFunctionArn: h.arn(name)}
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		if raw, err := base64.StdEncoding.DecodeString(cc); err == nil {
			_ = json.Unmarshal(raw, &lc.ClientContext)
		}
	}

	switch t := r.Header.Get("X-Amz-Invocation-Type"); t {
	case "", "RequestResponse":
	case "Event":
		// An Event invocation outlives its request, as in Lambda.
		go h.invoke(context.Background(), name, fn, lc, payload)
		w.WriteHeader(http.StatusAccepted)
		return
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterValueException", "Unsupported invocation type "+t)
		return
	}

	out, ferr := h.invoke(r.Context(), name, fn, lc, payload)
	w.Header().Set("Content-Type", "application/json")
	if ferr != nil {
		body, _ := json.Marshal(ferr)
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// invoke runs fn under the invocation deadline. A handler still running at
// the deadline is abandoned (its context is cancelled) and reported as
// timed out, as Lambda does.
func (h *Host) invoke(parent context.Context, name string, fn lambda.Handler, lc *lambdacontext.LambdaContext, payload []byte) ([]byte, *messages.InvokeResponse_Error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), h.timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, lc)

	type result struct {
		out []byte
		err *messages.InvokeResponse_Error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{err: &messages.InvokeResponse_Error{Message: fmt.Sprint(v), Type: typeName(v)}}
			}
		}()
		if fn == nil {
			done <- result{err: &messages.InvokeResponse_Error{Message: "function " + name + " has no handler", Type: "Runtime.InvalidEntrypoint"}}
			return
		}
		out, err := fn.Invoke(ctx, payload)
		if err != nil {
			done <- result{err: errorResponse(err)}
			return
		}
		done <- result{out: out}
	}()

	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		res.err = &messages.InvokeResponse_Error{
			Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", lc.AwsRequestID, h.timeout.Seconds()),
			Type:    "Sandbox.Timedout",
		}
	}
	attrs := []any{
		slog.String("function", name),
		slog.String("request_id", lc.AwsRequestID),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
	}
	if res.err != nil {
		// Only the type: the message may quote user input, and the function
		// logs its own failures.
		h.log.Warn("invoke failed", append(attrs, slog.String("error_type", res.err.Type))...)
	} else {
		h.log.Info("invoke", attrs...)
	}
	if res.err == nil && len(res.out) == 0 {
		res.out = []byte("null")
	}
	return res.out, res.err
}

// errorResponse shapes err as the Lambda Go runtime does.
func errorResponse(err error) *messages.InvokeResponse_Error {
	var ive messages.InvokeResponse_Error
	if errors.As(err, &ive) {
		return &ive
	}
	var ivp *messages.InvokeResponse_Error
	if errors.As(err, &ivp) && ivp != nil {
		return ivp
	}
	return &messages.InvokeResponse_Error{Message: err.Error(), Type: typeName(err)}
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "nil"
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// functionName extracts the function name from an Invoke path; {name} may
// also be a function ARN, optionally qualified.
func functionName(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, invokePrefix)
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, invokeSuffix)
	if !ok {
		return "", false
	}
	if strings.HasPrefix(name, "arn:") {
		// arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
		parts := strings.Split(name, ":")
		if len(parts) < 7 || parts[5] != "function" {
			return "", false
		}
		name = parts[6]
	} else if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[:i] // name:qualifier
	}
	if name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

func (h *Host) arn(name string) string {
	return "arn:aws:lambda:" + h.region + ":" + accountID + ":function:" + name
}

// writeAPIError writes a Lambda service error in the REST-JSON shape the AWS
// SDKs decode: the code in X-Amzn-ErrorType, the message in the body.
func writeAPIError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Type    string `json:"Type"`
		Message string `json:"Message"`
	}{"User", msg})
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}
