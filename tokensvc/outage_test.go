package tokensvc

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/store"
)

// TestStoreOutage stops DynamoDB mid-test: every endpoint that needs it
// answers 503 with Retry-After, nothing is half written, and the service
// recovers once the store is back.
func TestStoreOutage(t *testing.T) {
	d := testenv.Dynalite(t, testenv.Persistent())
	e := newEnv(t, envOption{dyn: d, store: []store.Option{store.WithTimeout(time.Second)}})
	ctx := context.Background()
	admin := e.adminLogin()
	tr := e.login("user-1", nil)
	before := e.session(tr.RefreshToken)
	sid := before.ID

	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	idTok := e.idToken("user-2", nil)
	requests := []struct {
		name string
		do   func() *response
	}{
		{"exchange", func() *response { return e.post("/token", exchangeForm(idTok), "") }},
		{"refresh", func() *response { return e.refresh(tr.RefreshToken) }},
		{"revoke", func() *response { return e.post("/revoke", url.Values{"token": {tr.RefreshToken}}, "") }},
		{"introspect", func() *response {
			return e.post("/introspect", url.Values{"token": {tr.AccessToken}}, admin.AccessToken)
		}},
		{"sessions", func() *response { return e.get("GET", "/sessions", tr.AccessToken) }},
		{"admin revoke user", func() *response { return e.get("POST", "/admin/users/user-1/revoke", admin.AccessToken) }},
	}
	for _, rq := range requests {
		t.Run(rq.name, func(t *testing.T) {
			resp := rq.do()
			wantError(t, resp, 503, "temporarily_unavailable")
			if resp.Header().Get("Retry-After") != "1" {
				t.Errorf("Retry-After %q", resp.Header().Get("Retry-After"))
			}
		})
	}
	// Public documents need no store.
	if resp := e.get("GET", "/.well-known/jwks.json", ""); resp.Code != 200 {
		t.Fatalf("jwks during outage: %d", resp.Code)
	}

	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := e.store.GetSession(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if after.RefreshGen != before.RefreshGen || !after.RevokedAt.IsZero() || string(after.RefreshHash) != string(before.RefreshHash) {
		t.Fatalf("session changed during the outage: %+v", after)
	}
	if list, err := e.store.ListUserSessions(ctx, "user-2"); err != nil || len(list) != 0 {
		t.Fatalf("exchange during the outage left %d sessions (%v)", len(list), err)
	}
	if at, err := e.store.UserRevokedAt(ctx, "user-1"); err != nil || !at.IsZero() {
		t.Fatalf("user revocation half applied: %v %v", at, err)
	}
	// The same tokens work again.
	e.tokenResponse(e.refresh(tr.RefreshToken))
	e.tokenResponse(e.post("/token", exchangeForm(idTok), ""))
}
