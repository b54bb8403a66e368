package tokensvc

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/revoke"
)

// items counts every item of the test table.
func (e *env) items() int {
	e.t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(e.db.Client, &dynamodb.ScanInput{
		TableName: aws.String(e.table), Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		n += int(out.Count)
	}
	return n
}

func sidOf(tr TokenResponse) string { return strings.Split(tr.RefreshToken, ".")[0] }

// TestRevocationRepeatsStoreNothing replays every way of revoking a session
// already revoked: the table does not grow, and every answer stays the
// same.
func TestRevocationRepeatsStoreNothing(t *testing.T) {
	e := newEnv(t)
	victim := e.login("mallory", nil)
	old := victim.RefreshToken
	var rotated []string
	for range 3 {
		next := e.tokenResponse(e.refresh(old))
		rotated = append(rotated, old)
		old = next.RefreshToken
	}
	caller := e.login("mallory", nil) // another login of the same user, to call DELETE with
	if resp := e.post("/revoke", url.Values{"token": {old}}, ""); resp.Code != http.StatusOK {
		t.Fatalf("revoke: %d", resp.Code)
	}
	e.clock.Add(time.Second)
	before := e.items()
	for i := range 200 {
		if resp := e.post("/revoke", url.Values{"token": {rotated[i%len(rotated)]}}, ""); resp.Code != http.StatusOK {
			t.Fatalf("replay %d of /revoke: %d", i, resp.Code)
		}
		if resp := e.get("DELETE", "/sessions/"+sidOf(victim), caller.AccessToken); resp.Code != http.StatusNoContent {
			t.Fatalf("replay %d of DELETE: %d %s", i, resp.Code, resp.Body)
		}
		wantError(t, e.refresh(rotated[i%len(rotated)]), 400, "invalid_grant")
	}
	// Long after too, when a repair would be allowed: nothing is missing.
	e.clock.Add(revoke.RepairDelay)
	for range 20 {
		e.post("/revoke", url.Values{"token": {rotated[0]}}, "")
		wantError(t, e.refresh(rotated[1]), 400, "invalid_grant")
	}
	if after := e.items(); after != before {
		t.Fatalf("replays grew the table from %d to %d items", before, after)
	}
	revs, err := e.store.RevocationsSince(context.Background(), time.Unix(0, 0), e.clock.Now())
	if err != nil || len(revs) != 1 {
		t.Fatalf("log %+v %v", revs, err)
	}
}

// TestLogoutEndsTheLogin: after a sign-out no ID token of that login buys a
// session, whether the same one or another minted from the same Cognito
// refresh token; another login does.
func TestLogoutEndsTheLogin(t *testing.T) {
	for _, how := range []string{"revoke", "delete", "admin", "reuse"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t)
			family := jwttest.RandomID()
			id := e.idToken("ann", map[string]any{"origin_jti": family})
			tr := e.tokenResponse(e.post("/token", exchangeForm(id), ""))
			switch how {
			case "revoke":
				e.post("/revoke", url.Values{"token": {tr.AccessToken}}, "")
			case "delete":
				if resp := e.get("DELETE", "/sessions/"+sidOf(tr), tr.AccessToken); resp.Code != http.StatusNoContent {
					t.Fatal(resp.Code)
				}
			case "admin":
				admin := e.adminLogin()
				if resp := e.get("DELETE", "/admin/sessions/"+sidOf(tr), admin.AccessToken); resp.Code != http.StatusNoContent {
					t.Fatal(resp.Code)
				}
			case "reuse":
				e.tokenResponse(e.refresh(tr.RefreshToken))
				wantError(t, e.refresh(tr.RefreshToken), 400, "invalid_grant")
			}
			resp := e.post("/token", exchangeForm(id), "")
			wantError(t, resp, 400, "invalid_request")
			if !strings.Contains(resp.json["error_description"].(string), "revoked login") {
				t.Errorf("same ID token: %s", resp.Body)
			}
			// Cognito refreshed the login: a new jti, the same origin_jti,
			// a fresh auth_time.
			e.clock.Add(time.Minute)
			sibling := e.idToken("ann", map[string]any{"origin_jti": family, "auth_time": e.clock.Now().Unix()})
			wantError(t, e.post("/token", exchangeForm(sibling), ""), 400, "invalid_request")
			e.login("ann", nil)
		})
	}
}

// TestLogoutEndsSiblingSessions: two sessions of one login (ID tokens from
// the same Cognito refresh token) end together.
func TestLogoutEndsSiblingSessions(t *testing.T) {
	e := newEnv(t)
	family := jwttest.RandomID()
	a := e.login("bea", map[string]any{"origin_jti": family})
	b := e.login("bea", map[string]any{"origin_jti": family})
	other := e.login("bea", nil)
	e.post("/revoke", url.Values{"token": {a.RefreshToken}}, "")
	wantError(t, e.refresh(b.RefreshToken), 400, "invalid_grant")
	wantError(t, e.get("GET", "/sessions", b.AccessToken), 401, "invalid_token")
	e.tokenResponse(e.refresh(other.RefreshToken))
}

func TestIDTokenBuysOneSession(t *testing.T) {
	e := newEnv(t)
	id := e.idToken("cid", nil)
	e.tokenResponse(e.post("/token", exchangeForm(id), ""))
	resp := e.post("/token", exchangeForm(id), "")
	wantError(t, resp, 400, "invalid_request")
	if !strings.Contains(resp.Body.String(), "already been exchanged") || !strings.Contains(e.logs.String(), `"event":"id_token_reuse"`) {
		t.Errorf("second exchange: %s", resp.Body)
	}

	e = newEnv(t, envOption{cfg: func(c *Config) { c.AllowIDTokenReuse = true }})
	id = e.idToken("cid", nil)
	first := e.tokenResponse(e.post("/token", exchangeForm(id), ""))
	second := e.tokenResponse(e.post("/token", exchangeForm(id), ""))
	if sidOf(first) == sidOf(second) {
		t.Fatal("one session for two exchanges")
	}
	// Still one login: signing out of one ends both.
	e.post("/revoke", url.Values{"token": {first.RefreshToken}}, "")
	wantError(t, e.refresh(second.RefreshToken), 400, "invalid_grant")
}

// TestRevokedUserFreshAuthTime: a user revocation refuses the user's known
// logins by family too, so an ID token Cognito re-stamped with a later
// auth_time is refused; a genuinely new login is not.
func TestRevokedUserFreshAuthTime(t *testing.T) {
	e := newEnv(t)
	family := jwttest.RandomID()
	tr := e.login("dan", map[string]any{"origin_jti": family, "auth_time": e.clock.Now().Add(-time.Hour).Unix()})
	admin := e.adminLogin()
	e.clock.Add(time.Second)
	if resp := e.get("POST", "/admin/users/dan/revoke?global_signout=false", admin.AccessToken); resp.Code != http.StatusOK {
		t.Fatalf("%d %s", resp.Code, resp.Body)
	}
	wantError(t, e.refresh(tr.RefreshToken), 400, "invalid_grant")
	e.clock.Add(time.Minute)
	restamped := e.idToken("dan", map[string]any{"origin_jti": family, "auth_time": e.clock.Now().Unix()})
	wantError(t, e.post("/token", exchangeForm(restamped), ""), 400, "invalid_request")
	fresh := e.login("dan", map[string]any{"auth_time": e.clock.Now().Unix()})
	e.tokenResponse(e.refresh(fresh.RefreshToken))
}

// TestSessionCap: the 21st exchange ends the least recently used session.
func TestSessionCap(t *testing.T) {
	e := newEnv(t)
	var sessions []TokenResponse
	for range 20 {
		sessions = append(sessions, e.login("eve", nil))
		e.clock.Add(time.Second)
	}
	// Using the oldest makes the second oldest the least recently used.
	sessions[0] = e.tokenResponse(e.refresh(sessions[0].RefreshToken))
	e.clock.Add(time.Second)
	e.login("eve", nil)
	sess, err := e.store.GetSession(context.Background(), sidOf(sessions[1]))
	if err != nil || sess.RevokeReason != revoke.ReasonSessionLimit {
		t.Fatalf("LRU session: %+v %v", sess, err)
	}
	wantError(t, e.refresh(sessions[1].RefreshToken), 400, "invalid_grant")
	live := 0
	list, err := e.store.ListUserSessions(context.Background(), "eve")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Active(e.clock.Now()) {
			live++
		}
	}
	if live != 20 {
		t.Fatalf("%d live sessions, want 20", live)
	}
	e.tokenResponse(e.refresh(sessions[0].RefreshToken))
	e.tokenResponse(e.refresh(sessions[2].RefreshToken))
}
