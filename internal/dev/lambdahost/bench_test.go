package lambdahost_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/internal/dev/lambdahost"
)

func benchHost() *lambdahost.Host {
	return lambdahost.New(map[string]lambda.Handler{
		"echo": lambda.NewHandler(func(_ context.Context, in echoIn) (echoOut, error) {
			return echoOut{Greeting: "hello " + in.Name}, nil
		}),
	})
}

// BenchmarkServeHTTP measures the host's own cost per invocation.
func BenchmarkServeHTTP(b *testing.B) {
	h := benchHost()
	body := []byte(`{"name":"ada"}`)
	path := lambdahost.InvokePath("echo")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkInvokeLoopback measures a full invocation over loopback HTTP, as
// cognito-local makes it.
func BenchmarkInvokeLoopback(b *testing.B) {
	srv := httptest.NewServer(benchHost())
	defer srv.Close()
	url := srv.URL + lambdahost.InvokePath("echo")
	body := []byte(`{"name":"ada"}`)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := srv.Client().Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
