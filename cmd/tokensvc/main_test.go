package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/tokensvc"
)

// TestLambda builds the function as main does and drives it with API
// Gateway HTTP API events, then as the plain HTTP server.
func TestLambda(t *testing.T) {
	ctx := context.Background()
	d := testenv.Dynalite(t)
	storetest.CreateTable(t, d, "shortfuse")
	cog := jwttest.NewIssuer(t, "RS256")
	jwksURL := cog.Serve(t)
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := keys.MarshalPrivateJWK(k)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(keyFile, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	env := config.FromMap(map[string]string{
		"SHORTFUSE_TABLE":                "shortfuse",
		"SHORTFUSE_AWS_ENDPOINT":         d.Endpoint,
		"SHORTFUSE_ISSUER":               "https://auth.example.com",
		"SHORTFUSE_COGNITO_ISSUER":       cog.Issuer,
		"SHORTFUSE_COGNITO_JWKS_URL":     jwksURL,
		"SHORTFUSE_CLIENTS":              cog.ClientID + ":60",
		"SHORTFUSE_SIGNING_KEY":          "file:" + keyFile,
		"SHORTFUSE_ADMIN_GLOBAL_SIGNOUT": "false",
		"SHORTFUSE_HTTP_ADDR":            "127.0.0.1:0",
	})
	h, _, err := function.New(ctx, "tokensvc", env, function.Options{Log: io.Discard}, tokensvc.Function)
	if err != nil {
		t.Fatal(err)
	}
	if cog.Fetches() != 1 {
		t.Errorf("JWKS fetched %d times at init, want 1", cog.Fetches())
	}
	lh, ok := h.(lambda.Handler)
	if !ok {
		t.Fatalf("handler %T is not a lambda.Handler", h)
	}
	a := invoker{lh}

	ev := func(method, path, body string, b64 bool) events.APIGatewayV2HTTPRequest {
		e := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RawPath: path, Body: body, IsBase64Encoded: b64,
			Headers: map[string]string{"content-type": "application/x-www-form-urlencoded", "host": "auth.example.com"},
		}
		e.RequestContext.HTTP.Method = method
		e.RequestContext.HTTP.SourceIP = "198.51.100.1"
		return e
	}

	resp, err := a.Handle(ctx, ev("GET", "/.well-known/jwks.json", "", false))
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, k.KID) {
		t.Fatalf("jwks: %+v %v", resp, err)
	}
	form := url.Values{
		"grant_type":         {tokensvc.GrantTokenExchange},
		"subject_token":      {cog.CognitoIDToken(nil)},
		"subject_token_type": {tokensvc.TokenTypeIDToken},
	}.Encode()
	resp, err = a.Handle(ctx, ev("POST", "/token", base64.StdEncoding.EncodeToString([]byte(form)), true))
	var tr tokensvc.TokenResponse
	if err != nil || resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &tr) != nil || tr.ExpiresIn != 60 {
		t.Fatalf("exchange: %+v %v", resp, err)
	}
	if resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("headers %v", resp.Headers)
	}
	// The adapter refuses an oversized body in the service's own error format.
	resp, _ = a.Handle(ctx, ev("POST", "/token", strings.Repeat("a", 9000), false))
	if resp.StatusCode != 413 || !strings.Contains(resp.Body, `"error":"invalid_request"`) {
		t.Fatalf("oversized: %+v", resp)
	}

	// The same service as a plain HTTP server on loopback.
	hs, ok := h.(interface{ HTTPServer() *http.Server })
	if fs, isServer := h.(function.Server); !ok || !isServer || hs.HTTPServer() == nil || fs.ListenAddr() != "127.0.0.1:0" {
		t.Fatalf("SHORTFUSE_HTTP_ADDR set, but no HTTP server: %T", h)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := hs.HTTPServer()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	base := "http://" + ln.Addr().String()
	post := func(body io.Reader, size int64) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, "POST", base+"/token", body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Body.Close() })
		return r
	}
	exchange := url.Values{
		"grant_type":         {tokensvc.GrantTokenExchange},
		"subject_token":      {cog.CognitoIDToken(nil)},
		"subject_token_type": {tokensvc.TokenTypeIDToken},
	}.Encode()
	if r := post(strings.NewReader(exchange), int64(len(exchange))); r.StatusCode != 200 {
		b, _ := io.ReadAll(r.Body)
		t.Fatalf("exchange over HTTP: %d %s", r.StatusCode, b)
	}
	// Oversized bodies, announced or streamed without a length, are refused
	// before they are read in full.
	for _, size := range []int64{9000, -1} {
		r := post(strings.NewReader(strings.Repeat("a", 9000)), size)
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != 413 || !strings.Contains(string(b), `"error":"invalid_request"`) {
			t.Fatalf("oversized over HTTP (length %d): %d %s", size, r.StatusCode, b)
		}
	}
}

// invoker drives the Lambda handler with one event, as the runtime does.
type invoker struct{ h lambda.Handler }

func (i invoker) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var resp events.APIGatewayV2HTTPResponse
	in, err := json.Marshal(ev)
	if err != nil {
		return resp, err
	}
	out, err := i.h.Invoke(ctx, in)
	if err != nil {
		return resp, err
	}
	return resp, json.Unmarshal(out, &resp)
}

// A configuration error names every variable at fault, the common ones
// included, before any I/O.
func TestConfigErrors(t *testing.T) {
	_, _, err := function.New(context.Background(), "tokensvc", config.FromMap(map[string]string{"SHORTFUSE_LOG_LEVEL": "verbose"}),
		function.Options{Log: io.Discard}, tokensvc.Function)
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"SHORTFUSE_LOG_LEVEL", "SHORTFUSE_TABLE", "SHORTFUSE_ISSUER", "SHORTFUSE_COGNITO_ISSUER", "SHORTFUSE_CLIENTS", "SHORTFUSE_SIGNING_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}
