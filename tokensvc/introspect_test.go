package tokensvc

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestIntrospect(t *testing.T) {
	e := newEnv(t)
	admin := e.adminLogin()
	user := e.login("user-1", map[string]any{"cognito:username": "alice"})
	introspect := func(tok, bearer string) *response {
		return e.post("/introspect", url.Values{"token": {tok}}, bearer)
	}

	t.Run("caller authentication", func(t *testing.T) {
		resp := introspect(user.AccessToken, "")
		wantError(t, resp, 401, "invalid_token")
		if !strings.HasPrefix(resp.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate %q", resp.Header().Get("WWW-Authenticate"))
		}
		wantError(t, introspect(user.AccessToken, "garbage"), 401, "invalid_token")
		wantError(t, introspect(user.AccessToken, user.RefreshToken), 401, "invalid_token")
		wantError(t, introspect(user.AccessToken, e.idToken("user-1", map[string]any{"cognito:groups": []string{adminGroup}})), 401, "invalid_token")
		wantError(t, introspect(user.AccessToken, user.AccessToken), 403, "insufficient_scope")
	})
	t.Run("active access token", func(t *testing.T) {
		resp := introspect(user.AccessToken, admin.AccessToken)
		if resp.Code != 200 || resp.json["active"] != true || resp.json["sub"] != "user-1" || resp.json["username"] != "alice" ||
			resp.json["client_id"] != testClient || resp.json["token_type"] != "Bearer" || resp.json["sid"] == nil ||
			resp.json["exp"] != float64(e.clock.Now().Add(300*time.Second).Unix()) || resp.json["iat"] != float64(e.clock.Now().Unix()) {
			t.Fatalf("%d %s", resp.Code, resp.Body)
		}
		if resp.Header().Get("Cache-Control") != "no-store" {
			t.Error("cacheable introspection")
		}
	})
	t.Run("active refresh token", func(t *testing.T) {
		resp := introspect(user.RefreshToken, admin.AccessToken)
		if resp.Code != 200 || resp.json["active"] != true || resp.json["token_type"] != "refresh_token" || resp.json["sub"] != "user-1" {
			t.Fatalf("%d %s", resp.Code, resp.Body)
		}
	})
	inactive := func(t *testing.T, tok string) {
		t.Helper()
		resp := introspect(tok, admin.AccessToken)
		if resp.Code != 200 || strings.TrimSpace(resp.Body.String()) != `{"active":false}` {
			t.Fatalf("%d %s", resp.Code, resp.Body)
		}
	}
	t.Run("invalid tokens", func(t *testing.T) {
		for _, tok := range []string{"garbage", "a.b.c", newTokenFor(newID(sidBytes)), e.idToken("user-1", nil),
			newTokenFor(strings.Split(user.RefreshToken, ".")[0])} {
			inactive(t, tok)
		}
	})
	t.Run("rotated refresh token", func(t *testing.T) {
		u := e.login("user-2", nil)
		e.tokenResponse(e.refresh(u.RefreshToken))
		inactive(t, u.RefreshToken)
	})
	t.Run("revoked", func(t *testing.T) {
		u := e.login("user-3", nil)
		if resp := e.post("/revoke", url.Values{"token": {u.RefreshToken}}, ""); resp.Code != 200 {
			t.Fatal(resp.Code)
		}
		inactive(t, u.AccessToken)
		inactive(t, u.RefreshToken)
	})
	t.Run("user revoked", func(t *testing.T) {
		u := e.login("user-4", nil)
		if _, _, err := e.store.RevokeUser(context.Background(), "user-4", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		inactive(t, u.AccessToken)
		inactive(t, u.RefreshToken)
	})
	t.Run("login revoked", func(t *testing.T) {
		// A session written while its login was being revoked is not marked
		// revoked itself: the liveness rule reads the family. Introspection
		// only reads; the next Bearer call ends the session.
		ctx := context.Background()
		u := e.login("user-6", nil)
		sess := e.session(u.RefreshToken)
		sid := sess.ID
		if _, _, err := e.store.RevokeFamily(ctx, sess.OriginJTI, e.clock.Now(), e.clock.Now().Add(time.Hour), false); err != nil {
			t.Fatal(err)
		}
		inactive(t, u.AccessToken)
		inactive(t, u.RefreshToken)
		if sess, err := e.store.GetSession(ctx, sid); err != nil || !sess.RevokedAt.IsZero() {
			t.Fatalf("introspection changed the session: %+v %v", sess, err)
		}
		wantError(t, e.get("GET", "/userinfo", u.AccessToken), 401, "invalid_token")
		if sess, err := e.store.GetSession(ctx, sid); err != nil || sess.RevokeReason != "login_revoked" {
			t.Fatalf("Bearer check left the session of a revoked login live: %+v %v", sess, err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e.cog.ClientID = shortClient
		u := e.login("user-5", nil)
		e.cog.ClientID = testClient
		e.clock.Add(40 * time.Second)
		inactive(t, u.AccessToken)
		if resp := introspect(user.AccessToken, admin.AccessToken); resp.json["active"] != true {
			t.Fatal("longer-lived token inactive too early")
		}
	})
	t.Run("missing token", func(t *testing.T) {
		wantError(t, e.post("/introspect", url.Values{}, admin.AccessToken), 400, "invalid_request")
	})
}

// TestIntrospectRemovedClient: once a client is no longer configured the
// refresh grant refuses its refresh tokens, so introspection must not call
// them active.
func TestIntrospectRemovedClient(t *testing.T) {
	e := newEnv(t)
	admin := e.adminLogin()
	e.cog.ClientID = shortClient
	u := e.login("user-1", nil)
	e.cog.ClientID = testClient
	delete(e.svc.cfg.Clients, shortClient)
	wantError(t, e.refresh(u.RefreshToken), 400, "invalid_grant")
	resp := e.post("/introspect", url.Values{"token": {u.RefreshToken}}, admin.AccessToken)
	if resp.Code != 200 || strings.TrimSpace(resp.Body.String()) != `{"active":false}` {
		t.Fatalf("%d %s", resp.Code, resp.Body)
	}
}
