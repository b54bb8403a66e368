package tokensvc

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

const testGrace = 30 * time.Second

func graceEnv(t *testing.T) *env {
	return newEnv(t, envOption{cfg: func(c *Config) { c.RefreshGrace = testGrace }})
}

// sameSession checks that an access token belongs to the session of rt.
func (e *env) sameSession(access, rt string) {
	e.t.Helper()
	claims, err := e.svc.access.Verify(context.Background(), access)
	if err != nil {
		e.t.Fatal(err)
	}
	if sid := claims.SessionID; sid != strings.Split(rt, ".")[0] {
		e.t.Fatalf("access token of session %q, want %q", sid, strings.Split(rt, ".")[0])
	}
}

// A retried refresh (the answer was lost) gets the same new refresh token
// and a fresh access token of the same session; the chain goes on from
// there, and a token older than the previous one is still reuse.
func TestRefreshGraceRetry(t *testing.T) {
	e := graceEnv(t)
	r0 := e.login("user-grace", nil).RefreshToken
	first := e.tokenResponse(e.refresh(r0))
	e.clock.Add(testGrace - time.Second)
	retry := e.tokenResponse(e.refresh(r0))
	if retry.RefreshToken != first.RefreshToken {
		t.Fatal("the retry got another refresh token: the chain forked")
	}
	if retry.AccessToken == first.AccessToken {
		t.Fatal("the retry got the same access token")
	}
	e.sameSession(retry.AccessToken, r0)
	if !strings.Contains(e.logs.String(), `"event":"refresh_grace"`) {
		t.Error("grace answer not logged as an event")
	}
	second := e.tokenResponse(e.refresh(retry.RefreshToken))
	if sess := e.session(r0); !sess.RevokedAt.IsZero() || sess.RefreshGen != 2 {
		t.Fatalf("session after grace: %+v", sess)
	}
	// r0 is now two rotations old: reuse.
	wantError(t, e.refresh(r0), http.StatusBadRequest, "invalid_grant")
	if sess := e.session(r0); sess.RevokeReason != revoke.ReasonRefreshReuse {
		t.Fatalf("older token did not revoke: %+v", sess)
	}
	wantError(t, e.refresh(second.RefreshToken), http.StatusBadRequest, "invalid_grant")
}

// TestRefreshGraceRace: 20 concurrent presentations of the current token
// and then 20 of the previous one inside the window all succeed with one
// and the same refresh token, and the session lives.
func TestRefreshGraceRace(t *testing.T) {
	e := graceEnv(t)
	r0 := e.login("user-race", nil).RefreshToken
	const n = 20
	converge := func(resps []*response) string {
		t.Helper()
		var live string
		for _, r := range resps {
			tr := e.tokenResponse(r)
			if live == "" {
				live = tr.RefreshToken
			}
			if tr.RefreshToken != live {
				t.Fatal("two live refresh tokens: the chain forked")
			}
			e.sameSession(tr.AccessToken, r0)
		}
		return live
	}
	r1 := converge(e.refreshRace(r0, n)) // the current token: one rotation, 19 grace answers
	if sess := e.session(r0); !sess.RevokedAt.IsZero() || sess.RefreshGen != 1 || sess.GraceUses != n-1 {
		t.Fatalf("after the current-token race: gen %d, grace uses %d, revoked %v", sess.RefreshGen, sess.GraceUses, sess.RevokedAt)
	}
	r2 := e.tokenResponse(e.refresh(r1)).RefreshToken
	e.clock.Add(5 * time.Second)
	if got := converge(e.refreshRace(r1, n)); got != r2 { // the previous token: 20 grace answers
		t.Fatal("grace answers differ from the rotation's token")
	}
	sess := e.session(r0)
	if !sess.RevokedAt.IsZero() || sess.RefreshGen != 2 || sess.GraceUses != n {
		t.Fatalf("after the previous-token race: gen %d, grace uses %d, revoked %v", sess.RefreshGen, sess.GraceUses, sess.RevokedAt)
	}
	e.tokenResponse(e.refresh(r2))
	t.Logf("%d concurrent presentations of the current token, then %d of the previous one: all 200, one live refresh token", n, n)
}

// TestRefreshGraceExpired: after the window, 20 concurrent presentations of
// the previous token are all refused and the session is revoked once for
// reuse, as without a window.
func TestRefreshGraceExpired(t *testing.T) {
	e := graceEnv(t)
	r0 := e.login("user-late", nil).RefreshToken
	r1 := e.tokenResponse(e.refresh(r0)).RefreshToken
	e.clock.Add(testGrace + time.Second)
	const n = 20
	resps := e.refreshRace(r0, n)
	for _, r := range resps {
		wantError(t, r, http.StatusBadRequest, "invalid_grant")
	}
	sess := e.session(r0)
	if sess.RevokedAt.IsZero() || sess.RevokeReason != revoke.ReasonRefreshReuse {
		t.Fatalf("session not revoked for reuse: %+v", sess)
	}
	revokedAt := sess.RevokedAt
	revs, err := e.store.RevocationsSince(context.Background(), e.clock.Now().Add(-time.Hour), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	logged := 0
	for _, r := range revs {
		if r.Kind == store.RevokeSession && r.Value == sess.ID {
			logged++
		}
	}
	if logged == 0 {
		t.Fatal("the reuse revocation was not logged for authorizers")
	}
	t.Logf("%d concurrent replays after the window: all invalid_grant, session revoked at %v, %d log entries for it", n, revokedAt, logged)
	wantError(t, e.refresh(r1), http.StatusBadRequest, "invalid_grant")
	if again := e.session(r0); !again.RevokedAt.Equal(revokedAt) {
		t.Fatalf("revocation time moved: %v then %v", revokedAt, again.RevokedAt)
	}
}

func TestRefreshGraceLimits(t *testing.T) {
	t.Run("client without a window", func(t *testing.T) {
		e := newEnv(t, envOption{cfg: func(c *Config) {
			c.RefreshGrace = testGrace
			c.ClientGrace = map[string]time.Duration{testClient: 0}
		}})
		r0 := e.login("user-nograce", nil).RefreshToken
		e.tokenResponse(e.refresh(r0))
		wantError(t, e.refresh(r0), http.StatusBadRequest, "invalid_grant")
		if e.session(r0).RevokedAt.IsZero() {
			t.Fatal("reuse did not revoke")
		}
	})
	t.Run("use budget", func(t *testing.T) {
		e := graceEnv(t)
		r0 := e.login("user-budget", nil).RefreshToken
		e.tokenResponse(e.refresh(r0))
		for range MaxGraceUses {
			e.tokenResponse(e.refresh(r0))
		}
		wantError(t, e.refresh(r0), http.StatusBadRequest, "invalid_grant")
		if e.session(r0).RevokeReason != revoke.ReasonRefreshReuse {
			t.Fatal("use beyond the budget did not revoke")
		}
	})
	t.Run("revoked session", func(t *testing.T) {
		e := graceEnv(t)
		r0 := e.login("user-signout", nil).RefreshToken
		r1 := e.tokenResponse(e.refresh(r0)).RefreshToken
		if resp := e.post("/revoke", map[string][]string{"token": {r1}}, ""); resp.Code != http.StatusOK {
			t.Fatalf("revoke: %d %s", resp.Code, resp.Body)
		}
		wantError(t, e.refresh(r0), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("rotation that lost the grace state", func(t *testing.T) {
		// A rotation stored without a nonce (an older version of the
		// service) gives no grace answer: reuse as before.
		e := graceEnv(t)
		r0 := e.login("user-old", nil).RefreshToken
		sid := strings.Split(r0, ".")[0]
		_, h0, _ := parseRefreshToken(r0)
		_, h1 := newRefreshToken(sid)
		now := e.clock.Now()
		if _, err := e.store.RotateRefresh(context.Background(), sid, h0, h1, now, now.Add(time.Hour), now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.refresh(r0), http.StatusBadRequest, "invalid_grant")
		if e.session(r0).RevokedAt.IsZero() {
			t.Fatal("reuse did not revoke")
		}
	})
}

func TestDeriveRefreshToken(t *testing.T) {
	sid := newID(sidBytes)
	r0, _ := newRefreshToken(sid)
	a, ha, nonce := nextRefreshToken(sid, r0)
	b, hb := deriveRefreshToken(sid, r0, nonce)
	if a != b || string(ha) != string(hb) {
		t.Fatal("derivation is not repeatable")
	}
	if gotSID, h, ok := parseRefreshToken(a); !ok || gotSID != sid || string(h) != string(ha) {
		t.Fatalf("derived token does not parse: %v", ok)
	}
	if c, _, _ := nextRefreshToken(sid, r0); c == a {
		t.Fatal("two rotations of one token gave the same token")
	}
	other, _ := newRefreshToken(sid)
	if d, _ := deriveRefreshToken(sid, other, nonce); d == a {
		t.Fatal("another token derived the same successor")
	}
}

// A key-bound session's grace answer needs a proof with its key, like any
// refresh, and answers DPoP tokens; a missing proof changes nothing.
func TestRefreshGraceDPoP(t *testing.T) {
	e := graceEnv(t)
	c := e.dpopClient("ES256")
	r0 := c.login("alice-grace", nil).RefreshToken
	first := e.tokenResponse(c.refresh(r0, c.proof("POST", "/token", "", "")))
	wantError(t, c.refresh(r0), http.StatusBadRequest, "invalid_dpop_proof")
	retry := e.tokenResponse(c.refresh(r0, c.proof("POST", "/token", "", "")))
	if retry.TokenType != "DPoP" || retry.RefreshToken != first.RefreshToken || jktOf(t, retry.AccessToken) != c.k.JKT {
		t.Fatalf("grace answer of a bound session: %+v", retry)
	}
	if sess := e.session(r0); !sess.RevokedAt.IsZero() {
		t.Fatalf("session revoked: %+v", sess)
	}
}
