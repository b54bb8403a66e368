package tokensvc

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/dev/dpoptest"
	"github.com/shortfuse/shortfuse/shared/dpop"
	"github.com/shortfuse/shortfuse/shared/store"
)

// dpopClient is a browser holding a DPoP key.
type dpopClient struct {
	e *env
	k *dpoptest.Client
}

func (e *env) dpopClient(alg string) *dpopClient {
	k := dpoptest.New(e.t, alg)
	k.Now = e.clock.Now
	return &dpopClient{e: e, k: k}
}

// send makes a request with the given Authorization value and DPoP proofs.
func (e *env) send(method, path string, form url.Values, authorization string, proofs ...string) *response {
	e.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	for _, p := range proofs {
		r.Header.Add("DPoP", p)
	}
	return e.do(r)
}

// proof is a proof for the service's URL of path.
func (c *dpopClient) proof(method, path, accessToken, nonce string) string {
	return c.k.Proof(method, testIssuer+path, accessToken, nonce)
}

// login exchanges an ID token with a proof.
func (c *dpopClient) login(sub string, claims map[string]any) TokenResponse {
	c.e.t.Helper()
	resp := c.e.send("POST", "/token", exchangeForm(c.e.idToken(sub, claims)), "", c.proof("POST", "/token", "", ""))
	return c.e.tokenResponse(resp)
}

func (c *dpopClient) refresh(rt string, proofs ...string) *response {
	return c.e.send("POST", "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "", proofs...)
}

// payload decodes a JWT's claims without verifying them.
func payload(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func jktOf(t testing.TB, tok string) string {
	cnf, _ := payload(t, tok)["cnf"].(map[string]any)
	s, _ := cnf["jkt"].(string)
	return s
}

func TestDPoPExchangeAndRefresh(t *testing.T) {
	e := newEnv(t)
	c := e.dpopClient("ES256")
	tr := c.login("alice", map[string]any{"acr": "urn:x:mfa", "amr": []string{"pwd", "otp"}})
	if tr.TokenType != "DPoP" || jktOf(t, tr.AccessToken) != c.k.JKT {
		t.Fatalf("token_type %s, cnf.jkt %q want %q", tr.TokenType, jktOf(t, tr.AccessToken), c.k.JKT)
	}
	if p := payload(t, tr.AccessToken); p["acr"] != "urn:x:mfa" || len(p["amr"].([]any)) != 2 {
		t.Fatalf("acr/amr not carried: %v", p)
	}
	sid := strings.SplitN(tr.RefreshToken, ".", 2)[0]
	sess, err := e.store.GetSession(t.Context(), sid)
	if err != nil || sess.JKT != c.k.JKT {
		t.Fatalf("session jkt %q, %v", sess.JKT, err)
	}

	other := e.dpopClient("ES256")
	used := c.proof("POST", "/token", "", "")
	for name, tc := range map[string]struct {
		proofs []string
		code   string
	}{
		"no proof":                   {nil, dpop.CodeInvalidProof},
		"proof by another key":       {[]string{other.proof("POST", "/token", "", "")}, dpop.CodeInvalidProof},
		"proof for another endpoint": {[]string{c.proof("POST", "/revoke", "", "")}, dpop.CodeInvalidProof},
		"two proofs":                 {[]string{c.proof("POST", "/token", "", ""), c.proof("POST", "/token", "", "")}, dpop.CodeInvalidProof},
	} {
		wantError(t, c.refresh(tr.RefreshToken, tc.proofs...), http.StatusBadRequest, tc.code)
		_ = name
	}
	// None of the refused refreshes used the refresh token up.
	next := e.tokenResponse(c.refresh(tr.RefreshToken, used))
	if next.TokenType != "DPoP" || jktOf(t, next.AccessToken) != c.k.JKT {
		t.Fatalf("refresh: %+v", next)
	}
	wantError(t, c.refresh(next.RefreshToken, used), http.StatusBadRequest, dpop.CodeInvalidProof) // replayed proof

	// Without a proof the default policy (allowed) issues Bearer tokens.
	plain := e.login("bob", nil)
	if plain.TokenType != "Bearer" || jktOf(t, plain.AccessToken) != "" {
		t.Fatalf("plain exchange: %+v", plain)
	}
	if r := e.refresh(plain.RefreshToken); r.Code != http.StatusOK {
		t.Fatalf("plain refresh: %d %s", r.Code, r.Body)
	}
}

func TestDPoPClientPolicy(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *Config) {
		c.ClientDPoP = map[string]string{testClient: "required", shortClient: "off"}
	}})
	wantError(t, e.post("/token", exchangeForm(e.idToken("alice", nil)), ""), http.StatusBadRequest, dpop.CodeInvalidProof)
	c := e.dpopClient("EdDSA")
	if tr := c.login("alice", nil); tr.TokenType != "DPoP" {
		t.Fatalf("required: %+v", tr)
	}
	e.cog.ClientID = shortClient
	if tr := c.login("bob", nil); tr.TokenType != "Bearer" || jktOf(t, tr.AccessToken) != "" {
		t.Fatalf("off: %+v", tr)
	}
}

func TestDPoPNonces(t *testing.T) {
	e := newEnv(t, envOption{opts: []Option{WithDPoPNonceKey([]byte(strings.Repeat("n", 32)))}})
	c := e.dpopClient("ES256")
	resp := e.send("POST", "/token", exchangeForm(e.idToken("alice", nil)), "", c.proof("POST", "/token", "", ""))
	wantError(t, resp, http.StatusBadRequest, dpop.CodeUseNonce)
	nonce := resp.Header().Get("DPoP-Nonce")
	if nonce == "" {
		t.Fatal("use_dpop_nonce without a DPoP-Nonce header")
	}
	resp = e.send("POST", "/token", exchangeForm(e.idToken("alice", nil)), "", c.proof("POST", "/token", "", nonce))
	tr := e.tokenResponse(resp)
	if tr.TokenType != "DPoP" || resp.Header().Get("DPoP-Nonce") == "" {
		t.Fatalf("with nonce: %+v %v", tr, resp.Header())
	}
	// A resource endpoint asks for a nonce with 401 and a DPoP challenge.
	r := e.send("GET", "/sessions", nil, "DPoP "+tr.AccessToken, c.proof("GET", "/sessions", tr.AccessToken, ""))
	if r.Code != http.StatusUnauthorized || !strings.Contains(r.Header().Get("WWW-Authenticate"), `error="use_dpop_nonce"`) || r.Header().Get("DPoP-Nonce") == "" {
		t.Fatalf("sessions without nonce: %d %v", r.Code, r.Header())
	}
	if r := e.send("GET", "/sessions", nil, "DPoP "+tr.AccessToken, c.proof("GET", "/sessions", tr.AccessToken, nonce)); r.Code != http.StatusOK {
		t.Fatalf("sessions with nonce: %d %s", r.Code, r.Body)
	}
}

func TestDPoPResourceEndpoints(t *testing.T) {
	e := newEnv(t)
	c := e.dpopClient("RS256")
	tr := c.login("admin-1", map[string]any{"cognito:groups": []string{adminGroup}})
	tok := tr.AccessToken
	challenge := func(r *response) string { return r.Header().Get("WWW-Authenticate") }

	if r := e.send("GET", "/sessions", nil, "DPoP "+tok, c.proof("GET", "/sessions", tok, "")); r.Code != http.StatusOK {
		t.Fatalf("sessions with proof: %d %s", r.Code, r.Body)
	}
	for name, tc := range map[string]struct {
		auth   string
		proofs []string
		code   string
	}{
		"bound token as Bearer":   {"Bearer " + tok, nil, "invalid_token"},
		"no proof":                {"DPoP " + tok, nil, dpop.CodeInvalidProof},
		"proof without ath":       {"DPoP " + tok, []string{c.proof("GET", "/sessions", "", "")}, dpop.CodeInvalidProof},
		"proof for POST":          {"DPoP " + tok, []string{c.proof("POST", "/sessions", tok, "")}, dpop.CodeInvalidProof},
		"proof as access token":   {"DPoP " + c.proof("GET", "/sessions", "", ""), []string{c.proof("GET", "/sessions", tok, "")}, "invalid_token"},
		"unbound token as DPoP":   {"DPoP " + e.login("bob", nil).AccessToken, []string{c.proof("GET", "/sessions", tok, "")}, "invalid_token"},
		"access token as a proof": {"DPoP " + tok, []string{tok}, dpop.CodeInvalidProof},
	} {
		r := e.send("GET", "/sessions", nil, tc.auth, tc.proofs...)
		if r.Code != http.StatusUnauthorized || r.json["error"] != tc.code || !strings.HasPrefix(challenge(r), "DPoP ") {
			t.Errorf("%s: %d %s %q", name, r.Code, r.Body, challenge(r))
		}
	}

	// Introspection by a bound admin token shows a bound token's key.
	r := e.send("POST", "/introspect", url.Values{"token": {tok}}, "DPoP "+tok, c.proof("POST", "/introspect", tok, ""))
	cnf, _ := r.json["cnf"].(map[string]any)
	if r.Code != http.StatusOK || r.json["token_type"] != "DPoP" || cnf["jkt"] != c.k.JKT {
		t.Fatalf("introspect: %d %s", r.Code, r.Body)
	}
	r = e.send("POST", "/introspect", url.Values{"token": {tr.RefreshToken}}, "DPoP "+tok, c.proof("POST", "/introspect", tok, ""))
	if cnf, _ := r.json["cnf"].(map[string]any); r.Code != http.StatusOK || cnf["jkt"] != c.k.JKT {
		t.Fatalf("introspect refresh token: %d %s", r.Code, r.Body)
	}
	// Admin endpoints take bound tokens with their proofs.
	path := "/admin/users/bob/sessions"
	if r := e.send("GET", path, nil, "DPoP "+tok, c.proof("GET", path, tok, "")); r.Code != http.StatusOK {
		t.Fatalf("admin: %d %s", r.Code, r.Body)
	}

	// Revoking a bound token needs its proof too.
	wantError(t, e.send("POST", "/revoke", url.Values{"token": {tr.RefreshToken}}, ""), http.StatusBadRequest, dpop.CodeInvalidProof)
	if r := e.send("POST", "/revoke", url.Values{"token": {tr.RefreshToken}}, "", c.proof("POST", "/revoke", "", "")); r.Code != http.StatusOK {
		t.Fatalf("revoke with proof: %d %s", r.Code, r.Body)
	}
	sess, err := e.store.GetSession(t.Context(), strings.SplitN(tr.RefreshToken, ".", 2)[0])
	if err != nil || sess.RevokedAt.IsZero() {
		t.Fatalf("session not revoked: %v", err)
	}
}

func TestDPoPPublicBaseURL(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *Config) { c.PublicBaseURL = "https://public.example.org/auth" }})
	c := e.dpopClient("ES256")
	wantError(t, e.send("POST", "/token", exchangeForm(e.idToken("alice", nil)), "", c.proof("POST", "/token", "", "")),
		http.StatusBadRequest, dpop.CodeInvalidProof)
	resp := e.send("POST", "/token", exchangeForm(e.idToken("alice", nil)), "", c.k.Proof("POST", "https://public.example.org/auth/token", "", ""))
	if tr := e.tokenResponse(resp); tr.TokenType != "DPoP" {
		t.Fatalf("%+v", tr)
	}
}

func TestDPoPMetadata(t *testing.T) {
	e := newEnv(t)
	r := e.get("GET", "/.well-known/oauth-authorization-server", "")
	algs, _ := r.json["dpop_signing_alg_values_supported"].([]any)
	if len(algs) != 3 || algs[0] != "ES256" {
		t.Fatalf("metadata: %s", r.Body)
	}
}

// The session store keeps the binding and the login's acr and amr.
func TestDPoPSessionRoundTrip(t *testing.T) {
	e := newEnv(t)
	c := e.dpopClient("ES256")
	tr := c.login("carol", map[string]any{"amr": []string{"mfa"}})
	sess, err := e.store.GetSession(t.Context(), strings.SplitN(tr.RefreshToken, ".", 2)[0])
	if err != nil || sess.JKT != c.k.JKT || len(sess.AMR) != 1 || sess.AMR[0] != "mfa" {
		t.Fatalf("%+v %v", sess, err)
	}
	var _ = store.ErrNotFound
}
