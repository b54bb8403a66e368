package tokensvc

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
)

// TestCognitoFlow runs the whole life of a session with real Cognito tokens:
// sign up and log in on cognito-local, exchange, refresh, introspect, revoke.
func TestCognitoFlow(t *testing.T) {
	ctx := context.Background()
	cog := testenv.CognitoLocal(t, testenv.CognitoOptions{})
	cfg := testConfig()
	cfg.CognitoIssuer = cog.Issuer
	cfg.CognitoJWKSURL = cog.JWKSURL
	cfg.Clients = map[string]time.Duration{cog.ClientID: 60 * time.Second}
	k, err := keys.Generate(keys.RS256)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keys.NewSet("", k)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.Buffer{}
	dyn := sharedDB.Get(t)
	st := store.New(dyn.Client, storetest.NewTable(t, dyn))
	svc, err := New(cfg, st, ks, WithLogger(obs.NewLogger(logs, "info")))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, svc: svc, store: st, logs: logs, cfg: cfg}

	// An admin, through a real Cognito group.
	if _, err := cog.Client.CreateGroup(ctx, &cip.CreateGroupInput{GroupName: aws.String(adminGroup), UserPoolId: &cog.UserPoolID}); err != nil {
		t.Fatal(err)
	}
	adminSub, err := cog.SignUp(ctx, "admin@example.com", "Passw0rd!long", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cog.Client.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{
		GroupName: aws.String(adminGroup), UserPoolId: &cog.UserPoolID, Username: &adminSub,
	}); err != nil {
		t.Fatal(err)
	}
	adminCognito, err := cog.Login(ctx, "admin@example.com", "Passw0rd!long")
	if err != nil {
		t.Fatal(err)
	}
	admin := e.tokenResponse(e.post("/token", exchangeForm(adminCognito.IDToken), ""))

	userCognito, err := cog.SignUpAndLogin(ctx, "user@example.com", "Passw0rd!long", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens = append(e.tokens, userCognito.IDToken, userCognito.AccessToken, userCognito.RefreshToken)

	// Cognito's own access token is not an ID token.
	f := exchangeForm(userCognito.AccessToken)
	wantError(t, e.post("/token", f, ""), 400, "invalid_request")

	// Exchange.
	tr := e.tokenResponse(e.post("/token", exchangeForm(userCognito.IDToken), ""))
	if tr.ExpiresIn != 60 {
		t.Errorf("expires_in %d", tr.ExpiresIn)
	}
	sid := strings.Split(tr.RefreshToken, ".")[0]
	sess, err := st.GetSession(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if sess.ClientID != cog.ClientID || sess.Sub == "" || sess.AuthTime.IsZero() || sess.OriginJTI == "" {
		t.Fatalf("session %+v", sess)
	}

	// Refresh.
	tr2 := e.tokenResponse(e.refresh(tr.RefreshToken))

	// Introspect, as the admin.
	resp := e.post("/introspect", url.Values{"token": {tr2.AccessToken}}, admin.AccessToken)
	if resp.Code != 200 || resp.json["active"] != true || resp.json["sub"] != sess.Sub || resp.json["client_id"] != cog.ClientID {
		t.Fatalf("introspect: %d %s", resp.Code, resp.Body)
	}

	// Revoke, then everything about the session is dead.
	if resp := e.post("/revoke", url.Values{"token": {tr2.RefreshToken}, "token_type_hint": {"refresh_token"}}, ""); resp.Code != 200 {
		t.Fatalf("revoke: %d", resp.Code)
	}
	resp = e.post("/introspect", url.Values{"token": {tr2.AccessToken}}, admin.AccessToken)
	if resp.Code != 200 || strings.TrimSpace(resp.Body.String()) != `{"active":false}` {
		t.Fatalf("introspect after revoke: %d %s", resp.Code, resp.Body)
	}
	wantError(t, e.refresh(tr2.RefreshToken), 400, "invalid_grant")
	wantError(t, e.get("GET", "/sessions", tr2.AccessToken), 401, "invalid_token")

	// Signing out ended the login: its ID token buys no new session.
	wantError(t, e.post("/token", exchangeForm(userCognito.IDToken), ""), 400, "invalid_request")
	// Another login of the same user does, until the user is revoked.
	again, err := cog.Login(ctx, "user@example.com", "Passw0rd!long")
	if err != nil {
		t.Fatal(err)
	}
	e.tokens = append(e.tokens, again.IDToken, again.AccessToken, again.RefreshToken)
	live := e.tokenResponse(e.post("/token", exchangeForm(again.IDToken), ""))
	// One ID token buys one session.
	wantError(t, e.post("/token", exchangeForm(again.IDToken), ""), 400, "invalid_request")
	time.Sleep(time.Until(sess.AuthTime.Add(time.Second))) // revocation time must not precede auth_time
	if resp := e.get("POST", "/admin/users/"+sess.Sub+"/revoke?global_signout=false", admin.AccessToken); resp.Code != 200 {
		t.Fatalf("revoke user: %d %s", resp.Code, resp.Body)
	}
	wantError(t, e.refresh(live.RefreshToken), 400, "invalid_grant")
	wantError(t, e.get("GET", "/sessions", live.AccessToken), 401, "invalid_token")

	for _, tok := range e.tokens {
		if strings.Contains(logs.String(), tok) {
			t.Fatal("a token reached the log")
		}
	}
}
