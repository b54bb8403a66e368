package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestRequestIDLogged: a refusal's log line carries API Gateway's request
// id, the one the access log and a private backend's x-shortfuse-request-id
// header carry, and never the token.
func TestRequestIDLogged(t *testing.T) {
	f := newFixture(t, ModeExchange)
	var buf bytes.Buffer
	f.a.log = slog.New(slog.NewJSONHandler(&buf, nil))
	ev := events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", RouteArn: testPrefix + "/GET/hello",
		RawPath: "/hello", Headers: map[string]string{"authorization": "Bearer not.a.token"}}
	ev.RequestContext.RequestID = "Kx1ZfgYHIAMEVhw="
	payload, _ := json.Marshal(ev)
	h, err := f.a.Handler(ShapeHTTPSimple)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Invoke(context.Background(), payload); err == nil {
		t.Fatal("a bad token was not refused")
	}
	if !strings.Contains(buf.String(), `"request_id":"Kx1ZfgYHIAMEVhw="`) || strings.Contains(buf.String(), "not.a.token") {
		t.Fatalf("log: %s", buf.String())
	}
}
