package tokensvc

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

func TestRevokeEndpoint(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sessionOf := func(tr TokenResponse) *store.Session {
		t.Helper()
		s, err := e.store.GetSession(ctx, strings.Split(tr.RefreshToken, ".")[0])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	revokeTok := func(tok, hint string) *response {
		f := url.Values{"token": {tok}}
		if hint != "" {
			f.Set("token_type_hint", hint)
		}
		return e.post("/revoke", f, "")
	}

	t.Run("refresh token", func(t *testing.T) {
		tr := e.login("user-1", nil)
		resp := revokeTok(tr.RefreshToken, "refresh_token")
		if resp.Code != http.StatusOK || resp.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%d %v", resp.Code, resp.Header())
		}
		if s := sessionOf(tr); s.RevokedAt.IsZero() || s.RevokeReason != revoke.ReasonRevokeToken {
			t.Fatalf("not revoked: %+v", s)
		}
		wantError(t, e.refresh(tr.RefreshToken), 400, "invalid_grant")
		// Revoking again is fine.
		if resp := revokeTok(tr.RefreshToken, ""); resp.Code != 200 {
			t.Fatal(resp.Code)
		}
	})
	t.Run("access token with a misleading hint", func(t *testing.T) {
		tr := e.login("user-2", nil)
		if resp := revokeTok(tr.AccessToken, "refresh_token"); resp.Code != 200 {
			t.Fatal(resp.Code)
		}
		if s := sessionOf(tr); s.RevokedAt.IsZero() {
			t.Fatal("not revoked")
		}
		revs, err := e.store.RevocationsSince(ctx, e.clock.Now().Add(-time.Minute), e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range revs {
			found = found || (r.Kind == store.RevokeSession && r.Value == sessionOf(tr).ID)
		}
		if !found {
			t.Fatal("revocation not logged")
		}
	})
	t.Run("rotated refresh token", func(t *testing.T) {
		tr := e.login("user-3", nil)
		e.tokenResponse(e.refresh(tr.RefreshToken))
		if resp := revokeTok(tr.RefreshToken, ""); resp.Code != 200 {
			t.Fatal(resp.Code)
		}
		if s := sessionOf(tr); s.RevokedAt.IsZero() {
			t.Fatal("not revoked")
		}
	})
	t.Run("invalid tokens", func(t *testing.T) {
		tr := e.login("user-4", nil)
		for _, tok := range []string{"garbage", "a.b.c", newTokenFor(newID(sidBytes)),
			newTokenFor(strings.Split(tr.RefreshToken, ".")[0]), e.idToken("user-4", nil)} {
			if resp := revokeTok(tok, "unknown_hint"); resp.Code != 200 || resp.Body.Len() != 0 {
				t.Fatalf("%d %s", resp.Code, resp.Body)
			}
		}
		if s := sessionOf(tr); !s.RevokedAt.IsZero() {
			t.Fatal("a wrong token revoked the session")
		}
	})
	t.Run("client_id must be the token's client", func(t *testing.T) {
		tr := e.login("user-5", nil)
		for _, tok := range []string{tr.RefreshToken, tr.AccessToken} {
			wantError(t, e.post("/revoke", url.Values{"token": {tok}, "client_id": {shortClient}}, ""), 400, "unauthorized_client")
			wantError(t, e.post("/revoke", url.Values{"token": {tok}, "client_id": {"nobody"}}, ""), 401, "invalid_client")
		}
		if s := sessionOf(tr); !s.RevokedAt.IsZero() {
			t.Fatal("another client's request revoked the session")
		}
		// An unknown token with a configured client_id still reveals nothing.
		if resp := e.post("/revoke", url.Values{"token": {"garbage"}, "client_id": {shortClient}}, ""); resp.Code != 200 {
			t.Fatalf("%d %s", resp.Code, resp.Body)
		}
		if resp := e.post("/revoke", url.Values{"token": {tr.RefreshToken}, "client_id": {testClient}}, ""); resp.Code != 200 {
			t.Fatalf("%d %s", resp.Code, resp.Body)
		}
		if s := sessionOf(tr); s.RevokedAt.IsZero() {
			t.Fatal("the token's own client could not revoke it")
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		wantError(t, e.post("/revoke", url.Values{"token_type_hint": {"access_token"}}, ""), 400, "invalid_request")
		wantError(t, e.get("POST", "/revoke", ""), 400, "invalid_request")
		wantError(t, e.get("GET", "/revoke", ""), 405, "method_not_allowed")
	})
}
