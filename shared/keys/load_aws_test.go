package keys_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/keys"
)

// awsJSON is a loopback stand-in for the JSON 1.1 APIs of SSM and Secrets
// Manager: it answers by X-Amz-Target and records what it was asked.
type awsJSON struct {
	mu      sync.Mutex
	targets []string
	bodies  []map[string]any
	answer  func(target string) (status int, body string)
}

func (a *awsJSON) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	b, _ := io.ReadAll(r.Body)
	var in map[string]any
	_ = json.Unmarshal(b, &in)
	a.mu.Lock()
	a.targets = append(a.targets, target)
	a.bodies = append(a.bodies, in)
	a.mu.Unlock()
	status, body := a.answer(target)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// TestLoadThroughSDK loads keys from SSM and Secrets Manager through the real
// SDK clients, built the way cmd/tokensvc builds them, against a loopback
// server speaking their wire protocol.
func TestLoadThroughSDK(t *testing.T) {
	k := mustGenerate(t, keys.ES256)
	doc, err := keys.MarshalPrivateJWK(k)
	if err != nil {
		t.Fatal(err)
	}
	docJSON, _ := json.Marshal(string(doc))
	fake := &awsJSON{answer: func(target string) (int, string) {
		switch target {
		case "AmazonSSM.GetParameter":
			return 200, `{"Parameter":{"Name":"/shortfuse/signing-key","Type":"SecureString","Value":` + string(docJSON) + `,"Version":3}}`
		case "secretsmanager.GetSecretValue":
			return 200, `{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:key-AbCdEf","Name":"key","SecretString":` + string(docJSON) + `}`
		}
		return 400, `{"__type":"UnknownOperationException","message":"no"}`
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	f := keys.Fetchers{SSM: ssm.NewFromConfig(cfg), Secrets: secretsmanager.NewFromConfig(cfg)}

	for _, source := range []string{"ssm:/shortfuse/signing-key", "secretsmanager:key"} {
		set, err := keys.Load(ctx, source, "", f)
		if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		if set.Active().KID != k.KID {
			t.Fatalf("%s: kid %s, want %s", source, set.Active().KID, k.KID)
		}
	}
	if strings.Join(fake.targets, ",") != "AmazonSSM.GetParameter,secretsmanager.GetSecretValue" {
		t.Fatalf("calls %v", fake.targets)
	}
	if in := fake.bodies[0]; in["Name"] != "/shortfuse/signing-key" || in["WithDecryption"] != true {
		t.Fatalf("GetParameter input %v", in)
	}
	if in := fake.bodies[1]; in["SecretId"] != "key" {
		t.Fatalf("GetSecretValue input %v", in)
	}

	// An AWS error names the source and carries the API's error code.
	fake.answer = func(string) (int, string) {
		return 400, `{"__type":"ParameterNotFound","message":"Parameter /missing not found."}`
	}
	_, err = keys.Load(ctx, "ssm:/missing", "", f)
	if err == nil || !strings.Contains(err.Error(), "ParameterNotFound") || !strings.Contains(err.Error(), "/missing") {
		t.Fatalf("missing parameter: %v", err)
	}
}
