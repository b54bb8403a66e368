package tokensvc

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// TestLivenessSideEffects: the refresh grant, the Bearer check and
// introspection judge a session of a revoked login by the same rule, and
// each does what it decides with the verdict: the first two end the
// session with the verdict's reason, introspection only reads. The session
// is one written while its login was being revoked, so it is not marked
// revoked itself.
func TestLivenessSideEffects(t *testing.T) {
	revocations := []struct {
		name   string
		revoke func(e *env, sub, family string) error
		reason string
	}{
		{"user revoked", func(e *env, sub, _ string) error {
			_, _, err := e.store.RevokeUser(context.Background(), sub, e.clock.Now())
			return err
		}, "user_revoked"},
		{"login revoked", func(e *env, _, family string) error {
			_, _, err := e.store.RevokeFamily(context.Background(), family, e.clock.Now(), e.clock.Now().Add(time.Hour), false)
			return err
		}, "login_revoked"},
	}
	callers := []struct {
		name string
		call func(e *env, tr TokenResponse) *response
		// status and code answered; ends tells whether the session is ended.
		status int
		code   string
		ends   bool
	}{
		{"refresh", func(e *env, tr TokenResponse) *response { return e.refresh(tr.RefreshToken) }, 400, "invalid_grant", true},
		{"bearer", func(e *env, tr TokenResponse) *response { return e.get("GET", "/userinfo", tr.AccessToken) }, 401, "invalid_token", true},
		{"introspect", func(e *env, tr TokenResponse) *response {
			return e.post("/introspect", url.Values{"token": {tr.AccessToken}}, e.adminLogin().AccessToken)
		}, 200, "", false},
	}
	for _, rv := range revocations {
		for _, c := range callers {
			t.Run(rv.name+"/"+c.name, func(t *testing.T) {
				e := newEnv(t)
				ctx := context.Background()
				tr := e.login("user-1", nil)
				sess := e.session(tr.RefreshToken)
				sid := sess.ID
				if err := rv.revoke(e, sess.Sub, sess.OriginJTI); err != nil {
					t.Fatal(err)
				}
				resp := c.call(e, tr)
				if c.code != "" {
					wantError(t, resp, c.status, c.code)
				} else if resp.Code != c.status || resp.json["active"] != false {
					t.Fatalf("%d %s", resp.Code, resp.Body)
				}
				after, err := e.store.GetSession(ctx, sid)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case c.ends && after.RevokeReason != rv.reason:
					t.Errorf("session ended with reason %q, want %q", after.RevokeReason, rv.reason)
				case !c.ends && !after.RevokedAt.IsZero():
					t.Errorf("introspection changed the session: revoked %v (%s)", after.RevokedAt, after.RevokeReason)
				}
			})
		}
	}
}
