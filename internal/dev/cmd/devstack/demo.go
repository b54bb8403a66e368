package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
)

// The demo page (clients/web/demo) and the built browser SDK
// (clients/web/dist) are served from their own origin, which the gateway's
// CORS policy allows, with the stack's endpoints at /config.json.
func init() {
	services = append(services, Service{Name: "demo", Port: 8095, New: newDemo, Walkthrough: demoWalkthrough})
}

// Where the demo's files live, from the repository root.
const (
	demoDir = "clients/web/demo"
	sdkDir  = "clients/web/dist"
)

// demoConfig is /config.json: what the page needs to reach the stack.
type demoConfig struct {
	TokenServiceURL string `json:"tokenServiceUrl"`
	APIURL          string `json:"apiUrl"`
	CognitoEndpoint string `json:"cognitoEndpoint"`
	UserPoolID      string `json:"userPoolId"`
	ClientID        string `json:"clientId"`
	Region          string `json:"region"`
	ProtectedPath   string `json:"protectedPath"`
	SESWebURL       string `json:"sesWebUrl"`
	AdminGroup      string `json:"adminGroup"`
	// How long a revocation takes to reach the gateway at most: the
	// authorizer's poll plus the gateway's cache.
	RevocationBoundSeconds float64 `json:"revocationBoundSeconds"`
	// Whether the page binds its tokens to a DPoP key: true unless the
	// stack's configuration refuses bound tokens at the gateway.
	DPoP bool `json:"dpop"`
}

func newDemo(_ context.Context, env Env) (http.Handler, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	eff, err := effectiveConfig(env)
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(demoConfig{
		TokenServiceURL: env.TokenServiceURL, APIURL: env.APIGatewayURL,
		CognitoEndpoint: env.CognitoEndpoint, UserPoolID: env.UserPoolID, ClientID: env.ClientID, Region: env.Region,
		ProtectedPath: "/userinfo", SESWebURL: env.SESWebURL, AdminGroup: eff.AdminGroup,
		RevocationBoundSeconds: eff.RevocationBound().Seconds(), DPoP: eff.BoundTokens(),
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(cfg)
	})
	mux.Handle("GET /sdk/", http.StripPrefix("/sdk/", staticDir(filepath.Join(root, sdkDir), "the SDK is not built: run `make web`")))
	mux.Handle("GET /", staticDir(filepath.Join(root, demoDir), "no demo in "+demoDir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		mux.ServeHTTP(w, r)
	}), nil
}

// staticDir serves the files under dir, or explains what is missing.
func staticDir(dir, missing string) http.Handler {
	files := http.FileServerFS(os.DirFS(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(dir); err != nil {
			http.Error(w, missing, http.StatusNotFound)
			return
		}
		files.ServeHTTP(w, r)
	})
}

func demoWalkthrough(env Env) Section {
	return Section{
		Title: "Demo app (browser)",
		Commands: "# Open " + env.DemoURL + " in a browser: sign up and in against cognito-local, call " +
			env.APIGatewayURL + "/userinfo\n# through the gateway, list and end sessions. Its settings:\n" +
			"curl -sS -w '\\n' " + env.DemoURL + "config.json",
	}
}
