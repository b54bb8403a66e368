package tokensvc

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testclock"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
)

// *store.Store must keep satisfying every storage interface of the service.
var _ Storage = (*store.Store)(nil)

// sharedDB is one dynalite for the whole package; each test gets its own
// table.
var sharedDB testenv.SharedDynalite

func TestMain(m *testing.M) { os.Exit(sharedDB.Run(m)) }

// newClock returns the settable clock an env's service, store and test
// issuer share.
func newClock() *testclock.Clock { return testclock.New(time.Now().Truncate(time.Second)) }

const (
	testIssuer  = "https://tokens.example.com"
	testClient  = "client-1"
	shortClient = "short-client"
	adminGroup  = "shortfuse-admin"
)

type env struct {
	t      testing.TB
	svc    *Service
	store  *store.Store
	db     *testenv.Dynamo
	table  string
	cog    *jwttest.Issuer
	clock  *testclock.Clock
	logs   *testenv.Buffer
	cfg    Config
	tokens []string // every token handed out, to check the logs never hold one
}

func testConfig() Config {
	return Config{
		Table:               "unused",
		Issuer:              testIssuer,
		Audience:            testIssuer,
		CognitoIssuer:       "https://cognito.example.com/pool",
		Clients:             map[string]time.Duration{testClient: 300 * time.Second, shortClient: 30 * time.Second},
		AccessTokenTTL:      300 * time.Second,
		SessionIdleTTL:      time.Hour,
		SessionMaxTTL:       24 * time.Hour,
		AdminGroup:          adminGroup,
		RevocationRetention: time.Hour,
		MaxBodyBytes:        8192,
		Scopes:              []string{"read", "write"},
		Leeway:              5 * time.Second,
	}
}

type envOption struct {
	cfg   func(*Config)
	opts  []Option
	dyn   *testenv.Dynamo
	store []store.Option
}

func newEnv(t testing.TB, eo ...envOption) *env {
	t.Helper()
	e := &env{t: t, clock: newClock(), logs: &testenv.Buffer{}, cfg: testConfig()}
	var d *testenv.Dynamo
	var sopts []store.Option
	var opts []Option
	for _, o := range eo {
		if o.cfg != nil {
			o.cfg(&e.cfg)
		}
		if o.dyn != nil {
			d = o.dyn
		}
		sopts = append(sopts, o.store...)
		opts = append(opts, o.opts...)
	}
	if d == nil {
		d = sharedDB.Get(t)
	}
	e.db, e.table = d, storetest.NewTable(t, d)
	e.store = store.New(d.Client, e.table, append([]store.Option{store.WithClock(e.clock.Now)}, sopts...)...)
	e.cog = jwttest.NewIssuer(t, "RS256")
	e.cog.Issuer = e.cfg.CognitoIssuer
	e.cog.ClientID = testClient
	e.cog.Now = e.clock.Now
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keys.NewSet("", k)
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = New(e.cfg, e.store, ks, append([]Option{
		WithClock(e.clock.Now),
		WithLogger(obs.NewLogger(e.logs, "debug")),
		WithCognitoKeys(e.cog.Keys()),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		logs := e.logs.String()
		for _, tok := range e.tokens {
			if tok != "" && strings.Contains(logs, tok) {
				t.Errorf("a token reached the log")
			}
		}
	})
	return e
}

// session reads the session of the refresh token rt.
func (e *env) session(rt string) *store.Session {
	e.t.Helper()
	sess, err := e.store.GetSession(context.Background(), strings.Split(rt, ".")[0])
	if err != nil {
		e.t.Fatal(err)
	}
	return sess
}

// idToken mints a Cognito ID token for sub.
func (e *env) idToken(sub string, overrides map[string]any) string {
	return e.cognitoToken(e.cog.CognitoIDToken, map[string]any{"sub": sub, "cognito:username": sub}, overrides)
}

// cognitoAccessToken mints a Cognito access token of the test pool for sub.
func (e *env) cognitoAccessToken(sub string, overrides map[string]any) string {
	return e.cognitoToken(e.cog.CognitoAccessToken, map[string]any{"sub": sub, "username": sub}, overrides)
}

// cognitoToken mints a token of the test pool with claims, overrides
// applied, and remembers it so that the log check can look for it.
func (e *env) cognitoToken(mint func(map[string]any) string, claims, overrides map[string]any) string {
	maps.Copy(claims, overrides)
	tok := mint(claims)
	e.tokens = append(e.tokens, tok)
	return tok
}

type response struct {
	*httptest.ResponseRecorder
	json map[string]any
}

func (e *env) do(r *http.Request) *response {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.svc.ServeHTTP(rec, r)
	resp := &response{ResponseRecorder: rec}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &resp.json); err != nil {
			e.t.Fatalf("response is not a JSON object: %v: %s", err, rec.Body)
		}
	}
	return resp
}

func (e *env) post(path string, form url.Values, bearer string) *response {
	e.t.Helper()
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(r)
}

func (e *env) get(method, path, bearer string) *response {
	e.t.Helper()
	r := httptest.NewRequest(method, path, nil)
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(r)
}

func exchangeForm(idToken string) url.Values {
	return url.Values{
		"grant_type":         {GrantTokenExchange},
		"subject_token":      {idToken},
		"subject_token_type": {TokenTypeIDToken},
	}
}

// tokens decodes a successful token response.
func (e *env) tokenResponse(resp *response) TokenResponse {
	e.t.Helper()
	if resp.Code != http.StatusOK {
		e.t.Fatalf("status %d: %s", resp.Code, resp.Body)
	}
	var tr TokenResponse
	if err := json.Unmarshal(resp.Body.Bytes(), &tr); err != nil {
		e.t.Fatal(err)
	}
	e.tokens = append(e.tokens, tr.AccessToken, tr.RefreshToken)
	return tr
}

// login exchanges a fresh ID token of sub.
func (e *env) login(sub string, overrides map[string]any) TokenResponse {
	e.t.Helper()
	return e.tokenResponse(e.post("/token", exchangeForm(e.idToken(sub, overrides)), ""))
}

func (e *env) adminLogin() TokenResponse {
	e.t.Helper()
	return e.login("admin-"+jwttest.RandomID(), map[string]any{"cognito:groups": []string{adminGroup}})
}

func (e *env) refresh(rt string) *response {
	e.t.Helper()
	return e.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "")
}

// wantError checks an OAuth error response.
func wantError(t testing.TB, resp *response, status int, code string) {
	t.Helper()
	if resp.Code != status || resp.json["error"] != code {
		t.Fatalf("got %d %s, want %d %s", resp.Code, resp.Body, status, code)
	}
	if len(resp.json) > 2 {
		t.Errorf("unexpected members: %s", resp.Body)
	}
	if resp.Header().Get("Cache-Control") != "no-store" || resp.Header().Get("Pragma") != "no-cache" {
		t.Errorf("missing no-store headers: %v", resp.Header())
	}
	if status == http.StatusServiceUnavailable && resp.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}
