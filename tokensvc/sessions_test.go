package tokensvc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

func decodeList(t *testing.T, resp *response) SessionList {
	t.Helper()
	if resp.Code != 200 {
		t.Fatalf("%d %s", resp.Code, resp.Body)
	}
	var l SessionList
	if err := json.Unmarshal(resp.Body.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSelfService(t *testing.T) {
	e := newEnv(t)
	a1 := e.login("alice", nil)
	e.clock.Add(time.Second)
	a2 := e.login("alice", nil)
	bob := e.login("bob", nil)

	resp := e.get("GET", "/sessions", a1.AccessToken)
	list := decodeList(t, resp)
	if len(list.Sessions) != 2 {
		t.Fatalf("sessions %+v", list)
	}
	if strings.Contains(strings.ToLower(resp.Body.String()), "hash") || strings.Contains(resp.Body.String(), a1.RefreshToken) {
		t.Fatal("listing exposes refresh state")
	}
	if resp.Header().Get("Cache-Control") != "no-store" {
		t.Error("cacheable listing")
	}
	current := 0
	for _, s := range list.Sessions {
		if s.Sub != "alice" || !s.Active {
			t.Errorf("session %+v", s)
		}
		if s.Current {
			current++
		}
	}
	if current != 1 {
		t.Errorf("%d current sessions", current)
	}

	bobSID := strings.Split(bob.RefreshToken, ".")[0]
	a2SID := strings.Split(a2.RefreshToken, ".")[0]
	wantError(t, e.get("DELETE", "/sessions/"+bobSID, a1.AccessToken), 404, "not_found")
	wantError(t, e.get("DELETE", "/sessions/"+newID(sidBytes), a1.AccessToken), 404, "not_found")
	wantError(t, e.get("DELETE", "/sessions/not-an-id", a1.AccessToken), 404, "not_found")
	if resp := e.get("DELETE", "/sessions/"+a2SID, a1.AccessToken); resp.Code != http.StatusNoContent {
		t.Fatalf("%d %s", resp.Code, resp.Body)
	}
	// The ended session's tokens stop working here at once.
	wantError(t, e.get("GET", "/sessions", a2.AccessToken), 401, "invalid_token")
	wantError(t, e.refresh(a2.RefreshToken), 400, "invalid_grant")
	// Bob is untouched.
	decodeList(t, e.get("GET", "/sessions", bob.AccessToken))

	list = decodeList(t, e.get("GET", "/sessions", a1.AccessToken))
	for _, s := range list.Sessions {
		if s.ID == a2SID && (s.Active || s.RevokedAt == nil || s.RevokeReason != revoke.ReasonUserSignOut) {
			t.Errorf("ended session %+v", s)
		}
	}

	wantError(t, e.get("GET", "/sessions", ""), 401, "invalid_token")
	wantError(t, e.get("GET", "/sessions", "not a token"), 401, "invalid_token")
	req := e.get("GET", "/sessions", a1.RefreshToken)
	wantError(t, req, 401, "invalid_token")
}

// fakeSignOut records global sign-outs.
type fakeSignOut struct {
	users []string
	err   error
}

func (f *fakeSignOut) AdminUserGlobalSignOut(_ context.Context, in *cip.AdminUserGlobalSignOutInput, _ ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error) {
	f.users = append(f.users, *in.Username)
	return &cip.AdminUserGlobalSignOutOutput{}, f.err
}

func TestAdmin(t *testing.T) {
	so := &fakeSignOut{}
	e := newEnv(t, envOption{cfg: func(c *Config) { c.UserPoolID = "pool-1" }, opts: []Option{WithSignOut(so)}})
	ctx := context.Background()
	admin := e.adminLogin()
	user := e.login("carol", map[string]any{"cognito:username": "carol-name"})
	e.clock.Add(time.Second)
	user2 := e.login("carol", map[string]any{"cognito:username": "carol-name"})
	sid := strings.Split(user.RefreshToken, ".")[0]

	t.Run("not an admin", func(t *testing.T) {
		for _, req := range [][2]string{{"GET", "/admin/users/carol/sessions"}, {"DELETE", "/admin/sessions/" + sid}, {"POST", "/admin/users/carol/revoke"}} {
			wantError(t, e.get(req[0], req[1], user.AccessToken), 403, "insufficient_scope")
			wantError(t, e.get(req[0], req[1], ""), 401, "invalid_token")
		}
	})
	t.Run("list", func(t *testing.T) {
		list := decodeList(t, e.get("GET", "/admin/users/carol/sessions", admin.AccessToken))
		if len(list.Sessions) != 2 || list.Sessions[0].Username != "carol-name" {
			t.Fatalf("%+v", list)
		}
		if l := decodeList(t, e.get("GET", "/admin/users/nobody/sessions", admin.AccessToken)); len(l.Sessions) != 0 {
			t.Fatalf("%+v", l)
		}
	})
	t.Run("revoke session", func(t *testing.T) {
		if resp := e.get("DELETE", "/admin/sessions/"+sid, admin.AccessToken); resp.Code != 204 {
			t.Fatalf("%d %s", resp.Code, resp.Body)
		}
		s, err := e.store.GetSession(ctx, sid)
		if err != nil || s.RevokeReason != revoke.ReasonAdmin {
			t.Fatalf("%+v %v", s, err)
		}
		wantError(t, e.get("DELETE", "/admin/sessions/"+newID(sidBytes), admin.AccessToken), 404, "not_found")
	})
	t.Run("revoke user", func(t *testing.T) {
		e.clock.Add(time.Second)
		resp := e.get("POST", "/admin/users/carol/revoke?global_signout=true", admin.AccessToken)
		if resp.Code != 200 {
			t.Fatalf("%d %s", resp.Code, resp.Body)
		}
		var res revoke.UserResult
		if err := json.Unmarshal(resp.Body.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		if res.Sub != "carol" || !res.GlobalSignOut || len(res.Sessions) != 1 || res.Sessions[0] != strings.Split(user2.RefreshToken, ".")[0] {
			t.Fatalf("%+v", res)
		}
		if len(so.users) != 1 || so.users[0] != "carol-name" {
			t.Fatalf("sign-outs %v", so.users)
		}
		wantError(t, e.refresh(user2.RefreshToken), 400, "invalid_grant")
		// An ID token from the revoked login cannot be exchanged again.
		wantError(t, e.post("/token", exchangeForm(e.idToken("carol", map[string]any{"auth_time": e.clock.Now().Add(-time.Second).Unix()})), ""), 400, "invalid_request")
		revs, err := e.store.RevocationsSince(ctx, e.clock.Now().Add(-time.Minute), e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range revs {
			found = found || (r.Kind == store.RevokeUser && r.Value == "carol")
		}
		if !found {
			t.Fatalf("user revocation not logged: %+v", revs)
		}
	})
	t.Run("global sign-out failure", func(t *testing.T) {
		so.err = errors.New("cognito down")
		defer func() { so.err = nil }()
		wantError(t, e.get("POST", "/admin/users/dave/revoke?global_signout=1", admin.AccessToken), 503, "temporarily_unavailable")
		wantError(t, e.get("POST", "/admin/users/dave/revoke?global_signout=maybe", admin.AccessToken), 400, "invalid_request")
		if resp := e.get("POST", "/admin/users/dave/revoke", admin.AccessToken); resp.Code != 200 {
			t.Fatalf("default without sign-out: %d", resp.Code)
		}
	})
	t.Run("global sign-out not configured", func(t *testing.T) {
		e2 := newEnv(t)
		a := e2.adminLogin()
		wantError(t, e2.get("POST", "/admin/users/x/revoke?global_signout=true", a.AccessToken), 400, "invalid_request")
	})
	t.Run("revoking oneself", func(t *testing.T) {
		sub := e.verifyAccess(admin.AccessToken).Subject
		if resp := e.get("POST", "/admin/users/"+sub+"/revoke", admin.AccessToken); resp.Code != 200 {
			t.Fatalf("%d", resp.Code)
		}
		wantError(t, e.get("GET", "/admin/users/x/sessions", admin.AccessToken), 401, "invalid_token")
	})
}

func TestWellKnown(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *Config) { c.Issuer = "https://api.example.com/auth"; c.Audience = c.Issuer }})
	// RFC 8414 §3.1 inserts the well-known name before the issuer's path;
	// the other two paths serve clients that append it, with and without a
	// base-path mapping.
	var resp *response
	for _, p := range []string{"/.well-known/oauth-authorization-server/auth", "/auth/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server"} {
		resp = e.get("GET", p, "")
		if resp.Code != 200 || resp.Header().Get("Cache-Control") != "public, max-age=300" || resp.json["issuer"] != "https://api.example.com/auth" {
			t.Fatalf("%s: %d %v %s", p, resp.Code, resp.Header(), resp.Body)
		}
	}
	wantError(t, e.get("GET", "/.well-known/oauth-authorization-server/other", ""), 404, "not_found")
	want := map[string]string{
		"issuer":                 "https://api.example.com/auth",
		"token_endpoint":         "https://api.example.com/auth/token",
		"revocation_endpoint":    "https://api.example.com/auth/revoke",
		"introspection_endpoint": "https://api.example.com/auth/introspect",
		"jwks_uri":               "https://api.example.com/auth/.well-known/jwks.json",
	}
	for k, v := range want {
		if resp.json[k] != v {
			t.Errorf("%s = %v", k, resp.json[k])
		}
	}
	if g, _ := json.Marshal(resp.json["grant_types_supported"]); string(g) != `["`+GrantTokenExchange+`","refresh_token"]` {
		t.Errorf("grant types %s", g)
	}
	resp = e.get("GET", "/auth/.well-known/jwks.json", "")
	keys, _ := resp.json["keys"].([]any)
	if resp.Code != 200 || len(keys) != 1 || resp.Header().Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("%d %s", resp.Code, resp.Body)
	}
	k := keys[0].(map[string]any)
	if k["kid"] != e.svc.keys.Active().KID || k["d"] != nil {
		t.Fatalf("jwk %v", k)
	}
}

// TestBearerRevokedUser covers a session that a user revocation did not
// mark (it lists sessions through an eventually consistent index): its
// access token is refused anyway, and the session is then marked revoked.
func TestBearerRevokedUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tr := e.login("erin", nil)
	sid := strings.Split(tr.RefreshToken, ".")[0]
	decodeList(t, e.get("GET", "/sessions", tr.AccessToken))
	e.clock.Add(time.Second)
	// Only the user's record is written, as if the listing had missed the session.
	if _, _, err := e.store.RevokeUser(ctx, "erin", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.get("GET", "/sessions", tr.AccessToken), 401, "invalid_token")
	sess, err := e.store.GetSession(ctx, sid)
	if err != nil || sess.RevokedAt.IsZero() || sess.RevokeReason != revoke.ReasonUserRevoked {
		t.Fatalf("session after refusal: %+v %v", sess, err)
	}
	// A login after the revocation works.
	e.clock.Add(time.Second)
	later := e.login("erin", nil)
	decodeList(t, e.get("GET", "/sessions", later.AccessToken))
}

// TestAdminMalformedSub: a sub that is not UTF-8 names no user; the admin
// endpoints answer invalid_request, not a server error.
func TestAdminMalformedSub(t *testing.T) {
	e := newEnv(t)
	admin := e.adminLogin()
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/admin/users/%ff/sessions", 400, "invalid_request"},
		{"GET", "/admin/users/a%c3/sessions", 400, "invalid_request"},
		{"POST", "/admin/users/%ff/revoke", 400, "invalid_request"},
		{"POST", "/admin/users/%ed%a0%80/revoke?global_signout=false", 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			wantError(t, e.get(tc.method, tc.path, admin.AccessToken), tc.status, tc.code)
		})
	}
	// A well-formed sub that is not ASCII is a user like any other.
	if resp := e.get("GET", "/admin/users/%C3%A9/sessions", admin.AccessToken); resp.Code != 200 {
		t.Fatalf("%d %s", resp.Code, resp.Body)
	}
}

// TestListSessionsBounded: a listing holds the newest sessions up to the
// limit and says when older ones exist.
func TestListSessionsBounded(t *testing.T) {
	e := newEnv(t)
	e.svc.listLimit = 2
	var last TokenResponse
	for range 3 {
		e.clock.Add(time.Second)
		last = e.login("carol", nil)
	}
	list := decodeList(t, e.get("GET", "/sessions", last.AccessToken))
	if len(list.Sessions) != 2 || !list.Truncated || !list.Sessions[0].Current {
		t.Fatalf("listing %+v", list)
	}
	e.svc.listLimit = 3
	if list := decodeList(t, e.get("GET", "/sessions", last.AccessToken)); len(list.Sessions) != 3 || list.Truncated {
		t.Fatalf("listing %+v", list)
	}
}

func TestUserInfo(t *testing.T) {
	e := newEnv(t)
	tr := e.login("user-info", map[string]any{"cognito:groups": []string{"staff"}})
	resp := e.get("GET", "/userinfo", tr.AccessToken)
	if resp.Code != http.StatusOK || resp.json["sub"] != "user-info" || resp.json["sid"] != strings.Split(tr.RefreshToken, ".")[0] ||
		resp.json["client_id"] != testClient || resp.json["exp"] == nil {
		t.Fatalf("%d %s", resp.Code, resp.Body)
	}
	if g, _ := resp.json["groups"].([]any); len(g) != 1 || g[0] != "staff" {
		t.Fatalf("groups %v", resp.json["groups"])
	}
	wantError(t, e.get("GET", "/userinfo", ""), http.StatusUnauthorized, "invalid_token")
	e.post("/revoke", map[string][]string{"token": {tr.RefreshToken}}, "")
	wantError(t, e.get("GET", "/userinfo", tr.AccessToken), http.StatusUnauthorized, "invalid_token")
}
