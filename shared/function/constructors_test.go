package function_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/cognitoevents"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/tokensvc"
	"github.com/shortfuse/shortfuse/triggers/customauth"
	"github.com/shortfuse/shortfuse/triggers/custommessage"
	"github.com/shortfuse/shortfuse/triggers/presignup"
)

// TestEveryConstructor builds each function as its cmd/<function>/main.go
// does, with a minimal configuration: the constructor returns a handler
// the Lambda runtime accepts, and refuses an unknown log level along with
// its own missing settings. Nothing here answers on the AWS endpoint:
// constructors that read from AWS at init (the authorizer's revocation log)
// log the failure and start, as in an outage.
func TestEveryConstructor(t *testing.T) {
	const dead = "http://127.0.0.1:1"
	t.Setenv("SHORTFUSE_TEST_LINK_KEY", strings.Repeat("k", 32))
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
	table := map[string]string{"SHORTFUSE_TABLE": "t", "SHORTFUSE_AWS_ENDPOINT": dead}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name    string
		build   function.Constructor
		vars    map[string]string
		missing []string // named when the function's own settings are absent
	}{
		{"tokensvc", tokensvc.Function, with(table,
			"SHORTFUSE_ISSUER", "https://auth.example.com", "SHORTFUSE_COGNITO_ISSUER", "https://cognito.example.com/pool",
			"SHORTFUSE_COGNITO_JWKS_URL", dead+"/jwks.json", "SHORTFUSE_CLIENTS", "web", "SHORTFUSE_SIGNING_KEY", "file:"+keyFile,
			"SHORTFUSE_ADMIN_GLOBAL_SIGNOUT", "false"),
			[]string{"SHORTFUSE_TABLE", "SHORTFUSE_ISSUER", "SHORTFUSE_SIGNING_KEY"}},
		{"authorizer", authorizer.Function, with(table,
			"SHORTFUSE_ISSUER", "https://auth.example.com", "SHORTFUSE_AUDIENCE", "https://auth.example.com",
			"SHORTFUSE_JWKS_URL", dead+"/jwks.json", "SHORTFUSE_ROUTES", `[{"route":"ANY /*"}]`,
			"SHORTFUSE_REVOCATION_INIT_WAIT", "100ms"),
			[]string{"SHORTFUSE_TABLE", "SHORTFUSE_ROUTES"}},
		{"cognitoevents", cognitoevents.Function, with(table, "SHORTFUSE_COGNITO_USER_POOL_ID", "us-east-1_abc"),
			[]string{"SHORTFUSE_TABLE", "SHORTFUSE_COGNITO_USER_POOL_ID"}},
		{"presignup", presignup.Function, table, []string{"SHORTFUSE_TABLE"}},
		{"custommessage", custommessage.Function, nil, nil},
		{"defineauth", customauth.DefineFunction, nil, nil},
		{"createauth", customauth.CreateFunction, with(table,
			"SHORTFUSE_MAIL_FROM", "no-reply@example.com", "SHORTFUSE_AUTH_LINK_KEY", "env:SHORTFUSE_TEST_LINK_KEY"),
			[]string{"SHORTFUSE_TABLE", "SHORTFUSE_MAIL_FROM"}},
		{"verifyauth", customauth.VerifyFunction, with(table, "SHORTFUSE_AUTH_LINK_KEY", "env:SHORTFUSE_TEST_LINK_KEY"),
			[]string{"SHORTFUSE_TABLE"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			h, _, err := function.New(ctx, c.name, config.FromMap(c.vars), function.Options{Log: io.Discard}, c.build)
			if err != nil {
				t.Fatal(err)
			}
			if lambda.NewHandler(h) == nil {
				t.Fatalf("handler %T", h)
			}
			if _, err := lambda.NewHandler(h).Invoke(ctx, []byte("not json")); err == nil {
				t.Errorf("%T accepted a payload that is not JSON", h)
			}
			_, _, err = function.New(ctx, c.name, config.FromMap(map[string]string{"SHORTFUSE_LOG_LEVEL": "chatty"}),
				function.Options{Log: io.Discard}, c.build)
			if err == nil {
				t.Fatal("started with an unknown log level")
			}
			for _, name := range append([]string{"SHORTFUSE_LOG_LEVEL"}, c.missing...) {
				if !strings.Contains(err.Error(), name+":") {
					t.Errorf("error does not name %s:\n%v", name, err)
				}
			}
		})
	}
}
