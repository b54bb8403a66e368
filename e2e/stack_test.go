// Package e2e tests the authorizer end to end on the local stack: the token
// service issues and revokes sessions, the authorizer runs in the dev Lambda
// host and the local gateway invokes it, all against a real dynalite.
package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/internal/dev/devgateway"
	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/internal/dev/lambdahost"
	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/tokensvc"
)

// sharedDB is one dynalite for the package; each stack gets its own table.
var sharedDB testenv.SharedDynalite

func TestMain(m *testing.M) {
	code := m.Run()
	if err := sharedDB.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

const (
	clientID   = "client-1"
	adminGroup = "shortfuse-admin"
	routes     = `[{"route": "GET /hello"}, {"route": "ANY /admin/*", "groups": ["shortfuse-admin"]}]`
)

// countingHTTP counts the HTTP requests an SDK client sends.
type countingHTTP struct {
	n atomic.Int64
	c *http.Client
}

func (c *countingHTTP) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.c.Do(r)
}

// stack is the token service, the authorizer in the Lambda host and the
// gateway, over one dynalite table.
type stack struct {
	t        testing.TB
	table    string
	store    *store.Store
	cognito  *jwttest.Issuer
	tokens   string // token service URL
	gateway  string // gateway URL
	auth     *authorizer.Authorizer
	ddbCalls *countingHTTP
}

type stackOptions struct {
	d     *testenv.Dynamo
	poll  time.Duration
	grace time.Duration
	shape authorizer.Shape
}

func newStack(t testing.TB, o stackOptions) *stack {
	t.Helper()
	o = o.withDefaults(t)
	s := &stack{t: t, table: storetest.NewTable(t, o.d), cognito: jwttest.NewIssuer(t, "RS256")}
	s.cognito.ClientID = clientID
	s.store = store.New(o.d.Client, s.table)

	// The token service, in process.
	var svc http.Handler
	tsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { svc.ServeHTTP(w, r) }))
	t.Cleanup(tsrv.Close)
	s.tokens = tsrv.URL
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keys.NewSet("", k)
	if err != nil {
		t.Fatal(err)
	}
	svc, err = tokensvc.New(tokensvc.Config{
		Table: s.table, Issuer: s.tokens, Audience: s.tokens, CognitoIssuer: s.cognito.Issuer,
		Clients: map[string]time.Duration{clientID: 300 * time.Second}, AccessTokenTTL: 300 * time.Second,
		SessionIdleTTL: time.Hour, SessionMaxTTL: 24 * time.Hour, AdminGroup: adminGroup,
		RevocationRetention: time.Hour, MaxBodyBytes: 8192, Scopes: []string{"read", "write"}, Leeway: 5 * time.Second,
	}, s.store, ks, tokensvc.WithCognitoKeys(s.cognito.Keys()), tokensvc.WithLogger(obs.NewLogger(io.Discard, "error")))
	if err != nil {
		t.Fatal(err)
	}

	s.startAuthorizer(o)
	return s
}

// newStackOn returns a stack sharing base's token service and table, with
// an authorizer and gateway of its own, started now.
func newStackOn(t testing.TB, base *stack, o stackOptions) *stack {
	t.Helper()
	s := *base
	s.t = t
	o = o.withDefaults(t)
	s.startAuthorizer(o)
	return &s
}

func (o stackOptions) withDefaults(t testing.TB) stackOptions {
	if o.d == nil {
		o.d = sharedDB.Get(t)
	}
	if o.poll == 0 {
		o.poll = time.Second
	}
	if o.grace == 0 {
		o.grace = 10 * time.Second
	}
	if o.shape == "" {
		o.shape = authorizer.ShapeRESTToken
	}
	return o
}

// startAuthorizer opens an authorizer on s's table, hosts it in a dev
// Lambda host and puts a gateway in front of it.
func (s *stack) startAuthorizer(o stackOptions) {
	t := s.t
	t.Helper()
	ctx := context.Background()
	// A DynamoDB client whose requests are counted.
	s.ddbCalls = &countingHTTP{c: &http.Client{}}
	db := dynamodb.NewFromConfig(testenv.AWSConfig(), func(do *dynamodb.Options) {
		do.BaseEndpoint = aws.String(o.d.Endpoint)
		do.HTTPClient = s.ddbCalls
	})
	rt, err := authorizer.ParseRoutes([]byte(routes))
	if err != nil {
		t.Fatal(err)
	}
	s.auth, err = authorizer.Open(ctx, authorizer.Config{
		Mode: authorizer.ModeExchange, Shape: o.shape, Issuer: s.tokens, Audiences: []string{s.tokens},
		ClientIDs: []string{clientID}, JWKSURL: s.tokens + "/.well-known/jwks.json",
		Poll: o.poll, Grace: o.grace, Routes: rt, TokenCacheSize: 1024, Table: s.table,
	}, authorizer.Deps{DynamoDB: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.auth.Close)
	h, err := s.auth.Handler(o.shape)
	if err != nil {
		t.Fatal(err)
	}

	// The dev Lambda host and the gateway in front of it.
	lsrv := httptest.NewServer(lambdahost.New(map[string]lambda.Handler{"authorizer": h}))
	t.Cleanup(lsrv.Close)
	gw, err := devgateway.New(devgateway.Options{InvokeURL: lsrv.URL, AWS: testenv.AWSConfig(), Shape: string(o.shape)})
	if err != nil {
		t.Fatal(err)
	}
	gsrv := httptest.NewServer(gw)
	t.Cleanup(gsrv.Close)
	s.gateway = gsrv.URL
}

// session is a token-service session.
type session struct {
	access, refresh, sid, sub string
}

// login exchanges a fresh Cognito ID token for a session.
func (s *stack) login(sub string, groups ...string) session {
	s.t.Helper()
	if groups == nil {
		groups = []string{}
	}
	id := s.cognito.CognitoIDToken(map[string]any{"sub": sub, "cognito:username": sub, "cognito:groups": groups})
	form := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {id},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
		"client_id":          {clientID},
	}
	resp, err := http.PostForm(s.tokens+"/token", form)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || out.AccessToken == "" {
		s.t.Fatalf("exchange: %d %s", resp.StatusCode, b)
	}
	var claims struct {
		SID string `json:"sid"`
		Sub string `json:"sub"`
	}
	p, _ := base64.RawURLEncoding.DecodeString(strings.Split(out.AccessToken, ".")[1])
	if err := json.Unmarshal(p, &claims); err != nil {
		s.t.Fatal(err)
	}
	return session{access: out.AccessToken, refresh: out.RefreshToken, sid: claims.SID, sub: claims.Sub}
}

// call sends GET path through the gateway and returns the status.
func (s *stack) call(client *http.Client, path, token string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, s.gateway+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// adminRevokeSession revokes a session through the token service's admin API.
func (s *stack) adminRevokeSession(admin session, sid string) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, s.tokens+"/admin/sessions/"+url.PathEscape(sid), nil)
	req.Header.Set("Authorization", "Bearer "+admin.access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		s.t.Fatalf("admin revoke: %d %s", resp.StatusCode, b)
	}
}
