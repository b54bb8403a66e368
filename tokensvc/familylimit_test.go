package tokensvc

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/store"
)

// TestFamilyLimit runs the loop a signed-in user can repeat at will in
// direct mode (log in, exchange, sign out) past the family limit.
func TestFamilyLimit(t *testing.T) {
	const limit = 2
	direct := func(signOut bool) func(*Config) {
		return func(c *Config) {
			c.Revocation.DirectMaxAge = time.Minute
			c.Revocation.RefreshTokenValidity = time.Hour
			c.Revocation.FamilyLimit = limit
			c.RevocationRetention = 2 * time.Hour
			c.AdminGlobalSignOut = signOut
			c.UserPoolID = "pool-1"
		}
	}
	loop := func(e *env, turns int) {
		for range turns {
			e.clock.Add(time.Second)
			tr := e.login("eve", nil)
			if resp := e.post("/revoke", url.Values{"token": {tr.RefreshToken}}, ""); resp.Code != http.StatusOK {
				t.Fatalf("revoke: %d %s", resp.Code, resp.Body)
			}
		}
	}
	longEntries := func(e *env) int {
		revs, err := e.store.RevocationsSince(context.Background(), time.Unix(0, 0), e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range revs {
			if r.Kind == store.RevokeJTI && r.Until.Sub(r.At) > time.Hour {
				n++
			}
		}
		return n
	}

	t.Run("global sign-out", func(t *testing.T) {
		so := &fakeSignOut{}
		e := newEnv(t, envOption{cfg: direct(true), opts: []Option{WithSignOut(so)}})
		loop(e, limit+3)
		if n := longEntries(e); n != limit || len(so.users) != 3 {
			t.Fatalf("%d long entries, sign-outs %v", n, so.users)
		}
	})
	t.Run("no global sign-out refuses new sessions", func(t *testing.T) {
		e := newEnv(t, envOption{cfg: direct(false)})
		e.clock.Add(time.Second)
		held := e.login("eve", nil) // a session from before the limit
		loop(e, limit)
		e.clock.Add(time.Second)
		resp := e.post("/token", exchangeForm(e.idToken("eve", nil)), "")
		wantError(t, resp, 400, "invalid_grant")
		if d, _ := resp.json["error_description"].(string); !strings.Contains(d, "too many sign-outs") {
			t.Fatalf("description %q", d)
		}
		// Sign-out is never refused, and never weakened.
		if resp := e.post("/revoke", url.Values{"token": {held.RefreshToken}}, ""); resp.Code != http.StatusOK {
			t.Fatalf("revoke: %d", resp.Code)
		}
		if n := longEntries(e); n != limit+1 {
			t.Fatalf("%d long entries", n)
		}
		e.login("someone-else", nil)
		// Once the counted entries have expired, the user may log in again.
		e.clock.Add(time.Hour + time.Minute + time.Minute)
		e.login("eve", nil)
	})
	t.Run("exchange mode counts nothing", func(t *testing.T) {
		e := newEnv(t, envOption{cfg: func(c *Config) { c.Revocation.FamilyLimit = 1 }})
		loop(e, 3)
		if c, err := e.store.FamilyCount(context.Background(), "eve"); err != nil || c.N != 0 {
			t.Fatalf("count %+v, %v", c, err)
		}
	})
}
