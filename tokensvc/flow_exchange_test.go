package tokensvc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

func TestExchange(t *testing.T) {
	e := newEnv(t)
	authTime := e.clock.Now().Add(-time.Minute)
	form := exchangeForm(e.idToken("user-1", map[string]any{
		"auth_time":      authTime.Unix(),
		"cognito:groups": []string{"staff"},
	}))
	form.Set("scope", "read read")
	form.Set("audience", testIssuer)
	form.Set("requested_token_type", TokenTypeAccessToken)
	form.Set("client_id", testClient)
	r := httptest.NewRequest("POST", "/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	r.Header.Set("User-Agent", "test-agent")
	resp := e.do(r)
	tr := e.tokenResponse(resp)

	if resp.Header().Get("Cache-Control") != "no-store" || resp.Header().Get("Pragma") != "no-cache" {
		t.Errorf("cache headers: %v", resp.Header())
	}
	if tr.TokenType != "Bearer" || tr.IssuedTokenType != TokenTypeAccessToken || tr.ExpiresIn != 300 || tr.Scope != "read" {
		t.Errorf("response: %+v", tr)
	}
	claims := e.verifyAccess(tr.AccessToken)
	if claims.Subject != "user-1" || claims.ClientID != testClient || claims.Username != "user-1" ||
		claims.Scope != "read" || !claims.AuthTime.Equal(authTime) || strings.Join(claims.Groups, ",") != "staff" ||
		claims.JTI == "" || claims.SessionID == "" ||
		!claims.ExpiresAt.Equal(e.clock.Now().Add(300*time.Second)) || !claims.IssuedAt.Equal(e.clock.Now()) {
		t.Errorf("claims: %+v", claims)
	}
	sid, secret, ok := strings.Cut(tr.RefreshToken, ".")
	if !ok || sid != claims.SessionID {
		t.Fatalf("refresh token %q does not name session %q", tr.RefreshToken, claims.SessionID)
	}
	sess, err := e.store.GetSession(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(secret)
	sum := sha256.Sum256(raw)
	if string(sess.RefreshHash) != string(sum[:]) {
		t.Error("stored hash is not SHA-256 of the secret")
	}
	if sess.Sub != "user-1" || sess.ClientID != testClient || sess.Scope != "read" || !sess.Active(e.clock.Now()) ||
		sess.UserAgent != "test-agent" || !sess.AuthTime.Equal(authTime) || sess.OriginJTI == "" ||
		!sess.AbsExpiresAt.Equal(e.clock.Now().Add(24*time.Hour)) || !sess.IdleExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
		t.Errorf("session: %+v", sess)
	}
}

// A Cognito access token buys a session as an ID token does. Cognito access
// tokens carry no email or other ID-token-only claims: the session records
// sub, username (username), the client (client_id), groups, auth_time and
// the login family (origin_jti, shared with the login's ID token).
func TestExchangeCognitoAccessToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	authTime := e.clock.Now().Add(-time.Minute)
	origin := jwttest.RandomID()
	tok := e.cognitoAccessToken("user-a", map[string]any{
		"username": "alice", "auth_time": authTime.Unix(), "cognito:groups": []string{"staff"}, "origin_jti": origin,
	})
	form := exchangeForm(tok)
	form.Set("subject_token_type", TokenTypeAccessToken)
	form.Set("client_id", testClient)
	tr := e.tokenResponse(e.post("/token", form, ""))
	claims := e.verifyAccess(tr.AccessToken)
	if claims.Subject != "user-a" || claims.Username != "alice" || claims.ClientID != testClient ||
		strings.Join(claims.Groups, ",") != "staff" || !claims.AuthTime.Equal(authTime) {
		t.Errorf("claims: %+v", claims)
	}
	sess, err := e.store.GetSession(ctx, claims.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Sub != "user-a" || sess.Username != "alice" || sess.ClientID != testClient || sess.OriginJTI != origin ||
		!sess.AuthTime.Equal(authTime) || strings.Join(sess.Groups, ",") != "staff" {
		t.Errorf("session: %+v", sess)
	}
	// One token, one session, as for ID tokens.
	wantError(t, e.post("/token", form, ""), 400, "invalid_request")
	// The login's ID token (same origin_jti) is another token: it buys its
	// own session, in the same family, so one sign-out of the login ends both.
	idTok := e.idToken("user-a", map[string]any{"origin_jti": origin, "auth_time": authTime.Unix()})
	tr2 := e.tokenResponse(e.post("/token", exchangeForm(idTok), ""))
	if s2, err := e.store.GetSession(ctx, e.verifyAccess(tr2.AccessToken).SessionID); err != nil || s2.OriginJTI != origin {
		t.Fatalf("ID token session: %+v %v", s2, err)
	}
	if resp := e.get("DELETE", "/sessions/"+claims.SessionID, tr.AccessToken); resp.Code != 204 {
		t.Fatalf("sign-out: %d %s", resp.Code, resp.Body)
	}
	e.clock.Add(time.Second)
	form2 := exchangeForm(e.cognitoAccessToken("user-a", map[string]any{"origin_jti": origin, "auth_time": authTime.Unix()}))
	form2.Set("subject_token_type", TokenTypeAccessToken)
	wantError(t, e.post("/token", form2, ""), 400, "invalid_request")
}

// verifyAccess checks an access token as a resource server would.
func (e *env) verifyAccess(tok string) *jwtverify.Claims {
	e.t.Helper()
	hdr, _, _ := strings.Cut(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(hdr)
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil || h["typ"] != "at+jwt" || h["alg"] != "ES256" {
		e.t.Fatalf("header %s", raw)
	}
	keys, err := jwtverify.NewStaticJWKS(e.svc.keys.JWKS())
	if err != nil {
		e.t.Fatal(err)
	}
	v, err := jwtverify.New(jwtverify.Config{Keys: keys, Issuer: testIssuer, Audiences: []string{testIssuer},
		Type: "at+jwt", Algorithms: []string{"ES256"}, Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		e.t.Fatalf("access token: %v", err)
	}
	return c
}

func TestExchangePerClientLifetime(t *testing.T) {
	e := newEnv(t)
	e.cog.ClientID = shortClient
	tr := e.login("user-short", nil)
	if tr.ExpiresIn != 30 {
		t.Fatalf("expires_in %d", tr.ExpiresIn)
	}
	if c := e.verifyAccess(tr.AccessToken); c.ClientID != shortClient || !c.ExpiresAt.Equal(e.clock.Now().Add(30*time.Second)) {
		t.Fatalf("claims %+v", c)
	}
}

func TestExchangeRefused(t *testing.T) {
	e := newEnv(t)
	other := jwttest.NewIssuer(t, "RS256") // another pool's key under the same issuer name
	other.Issuer, other.ClientID, other.Now = e.cfg.CognitoIssuer, testClient, e.clock.Now
	good := func() url.Values { return exchangeForm(e.idToken("user-bad", nil)) }
	with := func(k, v string) url.Values { f := good(); f.Set(k, v); return f }
	// Cognito access tokens, sent as such.
	access := func(overrides map[string]any) url.Values {
		f := exchangeForm(e.cognitoAccessToken("user-bad", overrides))
		f.Set("subject_token_type", TokenTypeAccessToken)
		return f
	}
	raw := func(body, ct string) *http.Request {
		r := httptest.NewRequest("POST", "/token", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
	form := func(f url.Values) *http.Request { return raw(f.Encode(), "application/x-www-form-urlencoded") }
	big := good()
	big.Set("padding", strings.Repeat("x", 9000))
	chunked := form(big)
	chunked.ContentLength = -1

	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"empty body", raw("", "application/x-www-form-urlencoded"), 400, "invalid_request"},
		{"json body", raw(`{"grant_type":"refresh_token"}`, "application/json"), 400, "invalid_request"},
		{"no content type", raw(good().Encode(), ""), 400, "invalid_request"},
		{"bad content type", raw(good().Encode(), "application/x-www-form-urlencoded; ="), 400, "invalid_request"},
		{"latin1", raw(good().Encode(), "application/x-www-form-urlencoded; charset=iso-8859-1"), 400, "invalid_request"},
		{"bad escape", raw("grant_type=%zz", "application/x-www-form-urlencoded"), 400, "invalid_request"},
		{"invalid utf8", raw("grant_type=%ff", "application/x-www-form-urlencoded"), 400, "invalid_request"},
		{"repeated parameter", raw(good().Encode()+"&grant_type=refresh_token", "application/x-www-form-urlencoded"), 400, "invalid_request"},
		{"oversized body", form(big), 413, "invalid_request"},
		{"oversized chunked body", chunked, 413, "invalid_request"},
		{"no grant type", form(url.Values{"subject_token": {"x"}}), 400, "invalid_request"},
		{"unknown grant type", form(with("grant_type", "password")), 400, "unsupported_grant_type"},
		{"authorization code grant", form(with("grant_type", "authorization_code")), 400, "unsupported_grant_type"},
		{"no subject token", form(with("subject_token", "")), 400, "invalid_request"},
		{"no subject token type", form(with("subject_token_type", "")), 400, "invalid_request"},
		{"wrong subject token type", form(with("subject_token_type", "urn:ietf:params:oauth:token-type:jwt")), 400, "invalid_request"},
		{"ID token sent as an access token", form(with("subject_token_type", TokenTypeAccessToken)), 400, "invalid_request"},
		{"Cognito access token sent as an ID token", form(with("subject_token", e.cognitoAccessToken("user-bad", nil))), 400, "invalid_request"},
		{"access token with aud", form(access(map[string]any{"aud": testClient})), 400, "invalid_request"},
		{"access token of another client", form(access(map[string]any{"client_id": "client-9"})), 400, "invalid_request"},
		{"access token without client_id", form(access(map[string]any{"client_id": nil})), 400, "invalid_request"},
		{"access token without username", form(access(map[string]any{"username": nil})), 400, "invalid_request"},
		{"access token of another issuer", form(access(map[string]any{"iss": "https://cognito.example.com/other"})), 400, "invalid_request"},
		{"access token with token_use id", form(access(map[string]any{"token_use": "id"})), 400, "invalid_request"},
		{"access token without auth_time", form(access(map[string]any{"auth_time": nil})), 400, "invalid_request"},
		{"access token, another pool's key", form(func() url.Values {
			f := exchangeForm(other.CognitoAccessToken(map[string]any{"sub": "user-bad", "username": "user-bad"}))
			f.Set("subject_token_type", TokenTypeAccessToken)
			return f
		}()), 400, "invalid_request"},
		{"access token, mismatched client_id", form(func() url.Values { f := access(nil); f.Set("client_id", shortClient); return f }()), 400, "invalid_request"},
		{"garbage token", form(with("subject_token", "garbage")), 400, "invalid_request"},
		{"garbage jwt", form(with("subject_token", "a.b.c")), 400, "invalid_request"},
		{"huge token", form(with("subject_token", strings.Repeat("a", 8000))), 400, "invalid_request"},
		{"another pool", form(with("subject_token", other.CognitoIDToken(map[string]any{"sub": "user-bad"}))), 400, "invalid_request"},
		{"another issuer", form(with("subject_token", e.idToken("user-bad", map[string]any{"iss": "https://cognito.example.com/other"}))), 400, "invalid_request"},
		{"another client", form(with("subject_token", e.idToken("user-bad", map[string]any{"aud": "client-9"}))), 400, "invalid_request"},
		{"expired", form(with("subject_token", e.idToken("user-bad", map[string]any{"exp": e.clock.Now().Add(-time.Minute).Unix()}))), 400, "invalid_request"},
		{"access token", form(with("subject_token", e.idToken("user-bad", map[string]any{"token_use": "access", "aud": nil, "client_id": testClient}))), 400, "invalid_request"},
		{"no auth_time", form(with("subject_token", e.idToken("user-bad", map[string]any{"auth_time": nil}))), 400, "invalid_request"},
		{"auth_time in the future", form(with("subject_token", e.idToken("user-bad", map[string]any{"auth_time": e.clock.Now().Add(time.Hour).Unix()}))), 400, "invalid_request"},
		{"alg none", form(with("subject_token", jwttest.Unsigned(map[string]any{"alg": "none"}, map[string]any{"sub": "user-bad"}))), 400, "invalid_request"},
		{"hmac", form(with("subject_token", jwttest.HMAC(nil, map[string]any{"sub": "user-bad"}, []byte("k")))), 400, "invalid_request"},
		{"unknown client_id", form(with("client_id", "client-9")), 401, "invalid_client"},
		{"mismatched client_id", form(with("client_id", shortClient)), 400, "invalid_request"},
		{"scope not allowed", form(with("scope", "admin")), 400, "invalid_scope"},
		{"malformed scope", form(with("scope", "read\x01")), 400, "invalid_scope"},
		{"wrong audience", form(with("audience", "https://elsewhere")), 400, "invalid_target"},
		{"wrong resource", form(with("resource", "https://elsewhere")), 400, "invalid_target"},
		{"wrong requested type", form(with("requested_token_type", TokenTypeIDToken)), 400, "invalid_request"},
		{"actor token", form(with("actor_token", "x")), 400, "invalid_request"},
	}
	reasons := map[string]string{
		"empty body":               "empty",
		"latin1":                   "charset",
		"repeated parameter":       "repeated",
		"no grant type":            "grant_type is missing",
		"garbage token":            "subject_token is invalid",
		"another pool":             "subject_token is invalid",
		"another issuer":           "another issuer",
		"another client":           "allowed client",
		"expired":                  "expired",
		"access token":             "not an ID token",
		"no auth_time":             "auth_time",
		"auth_time in the future":  "not valid yet",
		"mismatched client_id":     "another client",
		"wrong subject token type": "subject_token_type must be",

		"ID token sent as an access token":         "not an access token",
		"Cognito access token sent as an ID token": "not an ID token",
		"access token with aud":                    "allowed client",
		"access token of another client":           "allowed client",
		"access token without client_id":           "allowed client",
		"access token without username":            "no username",
		"access token of another issuer":           "another issuer",
		"access token with token_use id":           "not an access token",
		"access token without auth_time":           "auth_time",
		"access token, another pool's key":         "subject_token is invalid",
		"access token, mismatched client_id":       "another client",
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(tc.req)
			wantError(t, resp, tc.status, tc.code)
			// The description names the actual reason, so a case cannot pass by
			// failing early for another one.
			if want, ok := reasons[tc.name]; ok && !strings.Contains(resp.json["error_description"].(string), want) {
				t.Errorf("description %q, want %q", resp.json["error_description"], want)
			}
		})
	}
	if list, err := e.store.ListUserSessions(context.Background(), "user-bad"); err != nil || len(list) != 0 {
		t.Fatalf("refused exchanges left sessions: %v %v", list, err)
	}
	// The same request, well formed, works: the cases above failed for their own reason.
	e.tokenResponse(e.do(form(good())))
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/token", 405, "method_not_allowed", "POST"},
		{"PUT", "/sessions", 405, "method_not_allowed", "GET, HEAD"},
		{"GET", "/nope", 404, "not_found", ""},
		{"GET", "/token/", 404, "not_found", ""},
		{"GET", "/", 404, "not_found", ""},
		{"DELETE", "/sessions/", 404, "not_found", ""},
		{"POST", "/sessions/x/y", 404, "not_found", ""},
	}
	for _, tc := range tests {
		resp := e.get(tc.method, tc.path, "")
		wantError(t, resp, tc.status, tc.code)
		if resp.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: Allow %q", tc.method, tc.path, resp.Header().Get("Allow"))
		}
	}
}

func TestIssuerWithPath(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *Config) { c.Issuer = "https://api.example.com/auth"; c.Audience = c.Issuer }})
	for _, p := range []string{"/auth/.well-known/jwks.json", "/.well-known/jwks.json"} {
		if resp := e.get("GET", p, ""); resp.Code != 200 {
			t.Errorf("%s: %d", p, resp.Code)
		}
	}
	tr := e.tokenResponse(e.post("/auth/token", exchangeForm(e.idToken("u", nil)), ""))
	if tr.AccessToken == "" {
		t.Fatal("no token")
	}
}

func TestExchangeRevokedUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	at := e.clock.Now()
	if _, _, err := e.store.RevokeUser(ctx, "user-r", at); err != nil {
		t.Fatal(err)
	}
	for _, authTime := range []time.Time{at.Add(-time.Hour), at} {
		resp := e.post("/token", exchangeForm(e.idToken("user-r", map[string]any{"auth_time": authTime.Unix()})), "")
		wantError(t, resp, 400, "invalid_request")
	}
	// The sessions written alongside the refused exchanges are revoked.
	list, err := e.store.ListUserSessions(ctx, "user-r")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.RevokedAt.IsZero() {
			t.Errorf("session %s of a refused exchange is live", s.ID)
		}
	}
	// A login after the revocation works.
	e.clock.Add(2 * time.Second)
	e.login("user-r", nil)
}

// Several pools (SHORTFUSE_COGNITO_ISSUER as a list): each pool's tokens
// are verified with its own keys only, in Cognito's original or multi-Region
// issuer form.
func TestExchangeSeveralPools(t *testing.T) {
	poolB := jwttest.NewIssuer(t, "RS256")
	poolB.Issuer = "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_PoolB"
	poolB.ClientID = testClient
	e := newEnv(t, envOption{
		cfg: func(c *Config) {
			c.CognitoIssuers = []tokenspec.Issuer{{URL: c.CognitoIssuer}, {URL: poolB.Issuer}}
		},
		opts: []Option{WithIssuerKeys(map[string]jwtverify.KeySource{poolB.Issuer: poolB.Keys()})},
	})
	poolB.Now = e.clock.Now
	exchange := func(tok, typ string) *response {
		f := exchangeForm(tok)
		f.Set("subject_token_type", typ)
		return e.post("/token", f, "")
	}
	// Both pools' ID and access tokens are taken.
	for name, resp := range map[string]*response{
		"pool A ID token":     exchange(e.idToken("user-a", nil), TokenTypeIDToken),
		"pool B ID token":     exchange(poolB.CognitoIDToken(map[string]any{"sub": "user-b"}), TokenTypeIDToken),
		"pool B access token": exchange(poolB.CognitoAccessToken(map[string]any{"sub": "user-b"}), TokenTypeAccessToken),
	} {
		if resp.Code != http.StatusOK {
			t.Errorf("%s: %d %s", name, resp.Code, resp.Body)
		}
	}
	// Pool A's key never verifies a token naming pool B, nor the reverse.
	wantError(t, exchange(e.cog.CognitoIDToken(map[string]any{"sub": "user-x", "iss": poolB.Issuer}), TokenTypeIDToken), 400, "invalid_request")
	wantError(t, exchange(poolB.CognitoIDToken(map[string]any{"sub": "user-x", "iss": e.cfg.CognitoIssuer}), TokenTypeIDToken), 400, "invalid_request")
	wantError(t, exchange(e.cog.CognitoAccessToken(map[string]any{"sub": "user-x", "iss": poolB.Issuer}), TokenTypeAccessToken), 400, "invalid_request")
	// An issuer not configured, and pool B under its original form.
	wantError(t, exchange(poolB.CognitoIDToken(map[string]any{"sub": "user-x", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_PoolB"}), TokenTypeIDToken), 400, "invalid_request")
	if list, err := e.store.ListUserSessions(context.Background(), "user-x"); err != nil || len(list) != 0 {
		t.Fatalf("refused exchanges left sessions: %v %v", list, err)
	}

	// One key source for two issuers is refused at construction.
	cfg := testConfig()
	cfg.CognitoIssuers = []tokenspec.Issuer{{URL: cfg.CognitoIssuer}, {URL: poolB.Issuer}}
	ks, _ := keys.NewSet("", mustKey(t))
	if _, err := New(cfg, e.store, ks, WithCognitoKeys(e.cog.Keys())); err == nil {
		t.Fatal("one key set accepted for two issuers")
	}
}

func mustKey(t *testing.T) *keys.Key {
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
