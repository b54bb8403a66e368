package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/deploy"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/tokensvc"
)

// SHORTFUSE_CLIENTS means the same to every reader: the token service takes
// the per-client lifetimes, the authorizer (both modes) the ids, and the
// template checker refuses what the functions would refuse. The fourth
// reader, the CLI, is tested beside it (cmd/shortfuse/clients_test.go).
// clientsLine matches the functions' SHORTFUSE_CLIENTS value, whatever
// intrinsic the template uses for it.
var clientsLine = regexp.MustCompile(`(?m)^(\s+SHORTFUSE_CLIENTS: ).*$`)

func TestClientsFormatThroughEveryReader(t *testing.T) {
	const clients = "web,mobile:30,batch:ttl=600"
	wantIDs := []string{"web", "mobile", "batch"}

	ts, err := tokensvc.LoadConfig(config.FromMap(map[string]string{
		"SHORTFUSE_TABLE":                "shortfuse",
		"SHORTFUSE_ISSUER":               "https://auth.example.com",
		"SHORTFUSE_COGNITO_ISSUER":       "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
		"SHORTFUSE_CLIENTS":              clients,
		"SHORTFUSE_SIGNING_KEY":          "ssm:/shortfuse/key",
		"SHORTFUSE_COGNITO_USER_POOL_ID": "eu-west-1_abc",
	}))
	if err != nil {
		t.Fatalf("token service: %v", err)
	}
	if ts.Clients["web"] != ts.AccessTokenTTL || ts.Clients["mobile"] != 30*time.Second || ts.Clients["batch"] != 600*time.Second || len(ts.Clients) != 3 {
		t.Errorf("token service clients = %v", ts.Clients)
	}

	authEnv := map[string]string{
		"SHORTFUSE_ISSUER":         "https://auth.example.com",
		"SHORTFUSE_AUDIENCE":       "https://auth.example.com",
		"SHORTFUSE_JWKS_URL":       "https://auth.example.com/.well-known/jwks.json",
		"SHORTFUSE_ROUTES":         `[{"route":"GET /hello"}]`,
		"SHORTFUSE_TABLE":          "shortfuse",
		"SHORTFUSE_CLIENTS":        clients,
		"SHORTFUSE_COGNITO_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
	}
	az, err := authorizer.LoadConfig(config.FromMap(authEnv))
	if err != nil {
		t.Fatalf("authorizer, exchange mode: %v", err)
	}
	if !slices.Equal(az.ClientIDs, wantIDs) {
		t.Errorf("authorizer client ids = %q, want %q", az.ClientIDs, wantIDs)
	}
	authEnv["SHORTFUSE_AUTHORIZER_MODE"] = "direct"
	az, err = authorizer.LoadConfig(config.FromMap(authEnv))
	if err != nil {
		t.Fatalf("authorizer, direct mode: %v", err)
	}
	if !slices.Equal(az.Audiences, wantIDs) {
		t.Errorf("authorizer direct audiences = %q, want %q", az.Audiences, wantIDs)
	}

	// The template checker: a literal list that a function would refuse is
	// reported; a valid one with per-client lifetimes is not.
	raw, err := os.ReadFile(filepath.Join("..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		value   string
		wantErr bool
	}{{clients, false}, {"web,mobile:1", true}} {
		src := clientsLine.ReplaceAllString(string(raw), "${1}\""+tc.value+"\"")
		if src == string(raw) {
			t.Fatal("template.yaml has no SHORTFUSE_CLIENTS line to rewrite")
		}
		tpl, err := deploy.Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		for _, e := range deploy.CheckConsistency(tpl) {
			if strings.Contains(e.Error(), "SHORTFUSE_CLIENTS") {
				found = append(found, e.Error())
			}
		}
		if (len(found) > 0) != tc.wantErr {
			t.Errorf("template with SHORTFUSE_CLIENTS=%q: checker said %q", tc.value, found)
		}
	}
}
