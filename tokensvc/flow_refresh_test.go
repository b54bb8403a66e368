package tokensvc

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

func TestRefreshRotates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.login("user-1", map[string]any{"cognito:groups": []string{"staff"}})
	first2 := e.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}, "scope": {""}}, "")
	second := e.tokenResponse(first2)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("tokens not rotated")
	}
	if second.IssuedTokenType != "" || second.TokenType != "Bearer" || second.ExpiresIn != 300 {
		t.Errorf("response %+v", second)
	}
	c1, c2 := e.verifyAccess(first.AccessToken), e.verifyAccess(second.AccessToken)
	if c1.SessionID != c2.SessionID || c1.JTI == c2.JTI || !c2.AuthTime.Equal(c1.AuthTime) || strings.Join(c2.Groups, ",") != "staff" {
		t.Errorf("claims %+v vs %+v", c1, c2)
	}
	e.clock.Add(10 * time.Minute)
	third := e.tokenResponse(e.refresh(second.RefreshToken))
	sess, err := e.store.GetSession(ctx, c1.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if sess.RefreshGen != 2 || !sess.LastUsedAt.Equal(e.clock.Now()) || !sess.IdleExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
		t.Errorf("session after two refreshes: gen %d last %v idle %v", sess.RefreshGen, sess.LastUsedAt, sess.IdleExpiresAt)
	}

	// Replaying a rotated token is reuse: the whole session is revoked.
	wantError(t, e.refresh(first.RefreshToken), 400, "invalid_grant")
	sess, err = e.store.GetSession(ctx, c1.SessionID)
	if err != nil || sess.RevokedAt.IsZero() || sess.RevokeReason != revoke.ReasonRefreshReuse {
		t.Fatalf("session after reuse: %+v %v", sess, err)
	}
	wantError(t, e.refresh(third.RefreshToken), 400, "invalid_grant")
	if !strings.Contains(e.logs.String(), `"event":"refresh_token_reuse"`) {
		t.Error("reuse not logged")
	}
	// Authorizers learn of it through the revocation log.
	revs, err := e.store.RevocationsSince(ctx, e.clock.Now().Add(-time.Hour), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	// It lives as long as the session's last access token, plus leeway.
	if len(revs) != 1 || revs[0].Kind != store.RevokeSession || revs[0].Value != c1.SessionID ||
		!revs[0].Until.Equal(e.verifyAccess(third.AccessToken).ExpiresAt.Add(revoke.DefaultLeeway)) {
		t.Fatalf("revocation log %+v", revs)
	}
}

// refreshRace presents rt to the refresh grant n times at once, released
// together, and returns the n answers.
func (e *env) refreshRace(rt string, n int) []*response {
	var wg sync.WaitGroup
	resps := make([]*response, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			resps[i] = e.refresh(rt)
		})
	}
	close(start)
	wg.Wait()
	return resps
}

func TestRefreshConcurrentReuse(t *testing.T) {
	e := newEnv(t)
	tr := e.login("user-race", nil)
	const n = 20
	resps := e.refreshRace(tr.RefreshToken, n)
	ok := 0
	for _, r := range resps {
		switch {
		case r.Code == http.StatusOK:
			ok++
		case r.Code == 400 && r.json["error"] == "invalid_grant":
		default:
			t.Errorf("unexpected response %d %s", r.Code, r.Body)
		}
	}
	if ok != 1 {
		t.Fatalf("%d refreshes succeeded, want exactly 1", ok)
	}
	sess := e.session(tr.RefreshToken)
	if sess.RevokedAt.IsZero() || sess.RevokeReason != revoke.ReasonRefreshReuse {
		t.Fatalf("session not revoked after reuse: %+v", sess)
	}
}

func TestRefreshRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tr := e.login("user-1", map[string]any{})
	sid := strings.Split(tr.RefreshToken, ".")[0]
	otherSecret := strings.Split(newTokenFor(sid), ".")[1]

	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"missing token", url.Values{"grant_type": {"refresh_token"}}, 400, "invalid_request"},
		{"garbage", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"garbage"}}, 400, "invalid_grant"},
		{"jwt", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.AccessToken}}, 400, "invalid_grant"},
		{"unknown session", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {newTokenFor(newID(sidBytes))}}, 400, "invalid_grant"},
		{"wrong secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {sid + "." + otherSecret}}, 400, "invalid_grant"},
		{"non-canonical base64", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {sid[:21] + "B." + otherSecret}}, 400, "invalid_grant"},
		{"unknown client", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"nope"}}, 401, "invalid_client"},
		{"other client", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {shortClient}}, 400, "invalid_grant"},
		{"wider scope", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "scope": {"write"}}, 400, "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.post("/token", tc.form, ""), tc.status, tc.code)
		})
	}
	// None of that touched the session: the token still works.
	sess, err := e.store.GetSession(ctx, sid)
	if err != nil || !sess.RevokedAt.IsZero() || sess.RefreshGen != 0 {
		t.Fatalf("session touched: %+v %v", sess, err)
	}
	e.tokenResponse(e.refresh(tr.RefreshToken))
}

// newTokenFor returns a well-formed refresh token for sid with a fresh secret.
func newTokenFor(sid string) string {
	tok, _ := newRefreshToken(sid)
	return tok
}

func TestRefreshScope(t *testing.T) {
	e := newEnv(t)
	f := exchangeForm(e.idToken("user-1", nil))
	f.Set("scope", "read write")
	tr := e.tokenResponse(e.post("/token", f, ""))
	if tr.Scope != "read write" {
		t.Fatalf("scope %q", tr.Scope)
	}
	narrowed := e.tokenResponse(e.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "scope": {"write"}}, ""))
	if narrowed.Scope != "write" || e.verifyAccess(narrowed.AccessToken).Scope != "write" {
		t.Fatalf("narrowed %+v", narrowed)
	}
	// Narrowing applies to one access token; the session keeps its grant.
	full := e.tokenResponse(e.refresh(narrowed.RefreshToken))
	if full.Scope != "read write" {
		t.Fatalf("scope after narrowing %q", full.Scope)
	}
}

func TestRefreshLimits(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		e := newEnv(t)
		tr := e.login("user-1", nil)
		e.clock.Add(59 * time.Minute)
		tr = e.tokenResponse(e.refresh(tr.RefreshToken)) // pushes the idle limit forward
		e.clock.Add(59 * time.Minute)
		tr = e.tokenResponse(e.refresh(tr.RefreshToken))
		e.clock.Add(time.Hour)
		wantError(t, e.refresh(tr.RefreshToken), 400, "invalid_grant")
	})
	t.Run("absolute", func(t *testing.T) {
		e := newEnv(t)
		tr := e.login("user-1", nil)
		sid := strings.Split(tr.RefreshToken, ".")[0]
		for range 26 {
			e.clock.Add(55 * time.Minute)
			tr = e.tokenResponse(e.refresh(tr.RefreshToken))
		}
		// The idle limit never passes the absolute one.
		sess, err := e.store.GetSession(context.Background(), sid)
		if err != nil {
			t.Fatal(err)
		}
		if !sess.IdleExpiresAt.Equal(sess.AbsExpiresAt) {
			t.Fatalf("idle %v abs %v", sess.IdleExpiresAt, sess.AbsExpiresAt)
		}
		e.clock.Add(time.Hour)
		wantError(t, e.refresh(tr.RefreshToken), 400, "invalid_grant")
	})
	t.Run("revoked session", func(t *testing.T) {
		e := newEnv(t)
		tr := e.login("user-1", nil)
		if _, err := e.svc.revoker.Session(context.Background(), strings.Split(tr.RefreshToken, ".")[0], "test"); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.refresh(tr.RefreshToken), 400, "invalid_grant")
	})
	t.Run("revoked user", func(t *testing.T) {
		e := newEnv(t)
		tr := e.login("user-1", nil)
		e.clock.Add(time.Second)
		if _, _, err := e.store.RevokeUser(context.Background(), "user-1", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.refresh(tr.RefreshToken), 400, "invalid_grant")
		sess, err := e.store.GetSession(context.Background(), strings.Split(tr.RefreshToken, ".")[0])
		if err != nil || sess.RevokedAt.IsZero() {
			t.Fatalf("session of a revoked user left live: %+v %v", sess, err)
		}
	})
	t.Run("client removed", func(t *testing.T) {
		e := newEnv(t)
		tr := e.login("user-1", nil)
		delete(e.svc.cfg.Clients, testClient)
		wantError(t, e.refresh(tr.RefreshToken), 400, "invalid_grant")
	})
}

// TestAccessTokenWithinSessionLimits: an access token never outlives the
// idle or absolute limit of its session, which authorizers cannot see.
func TestAccessTokenWithinSessionLimits(t *testing.T) {
	tests := []struct {
		name      string
		idle, max time.Duration
		advance   time.Duration // before a refresh; 0: check the exchange
		want      time.Duration
	}{
		{"client lifetime", time.Hour, 24 * time.Hour, 0, 300 * time.Second},
		{"client lifetime after refresh", time.Hour, 24 * time.Hour, time.Minute, 300 * time.Second},
		{"idle limit first", time.Minute, 24 * time.Hour, 0, time.Minute},
		{"idle limit first after refresh", time.Minute, 24 * time.Hour, 30 * time.Second, time.Minute},
		{"absolute limit first", 10 * time.Minute, 10 * time.Minute, 8 * time.Minute, 2 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOption{cfg: func(c *Config) { c.SessionIdleTTL, c.SessionMaxTTL = tc.idle, tc.max }})
			tr := e.login("user-1", nil)
			if tc.advance > 0 {
				e.clock.Add(tc.advance)
				tr = e.tokenResponse(e.refresh(tr.RefreshToken))
			}
			if tr.ExpiresIn != int64(tc.want/time.Second) {
				t.Errorf("expires_in %d, want %d", tr.ExpiresIn, int64(tc.want/time.Second))
			}
			if c := e.verifyAccess(tr.AccessToken); !c.ExpiresAt.Equal(e.clock.Now().Add(tc.want)) {
				t.Errorf("exp %v, want %v", c.ExpiresAt, e.clock.Now().Add(tc.want))
			}
		})
	}
}

// logFailStore fails the next fail appends to the revocation log.
type logFailStore struct {
	*store.Store
	mu   sync.Mutex
	fail int
}

func (s *logFailStore) AppendRevocation(ctx context.Context, r store.Revocation) (store.Revocation, error) {
	s.mu.Lock()
	fail := s.fail > 0
	if fail {
		s.fail--
	}
	s.mu.Unlock()
	if fail {
		return store.Revocation{}, fmt.Errorf("%w: injected", store.ErrUnavailable)
	}
	return s.Store.AppendRevocation(ctx, r)
}

// TestReuseLogsRevocation: a replayed refresh token gets its session into
// the revocation log even when an earlier revocation of the session was
// recorded in the store but never logged (nobody retries a reuse
// revocation), as long as the session's access tokens can still be live.
func TestReuseLogsRevocation(t *testing.T) {
	tests := []struct {
		name       string
		failAppend int           // revocation log appends that fail
		markFirst  bool          // the session is marked revoked, without a log entry, before the replays
		advance    time.Duration // before each replay
		replays    []int         // expected status of each replay of the rotated token
		wantLogged bool
	}{
		{"log append failed on the first replay", 1, false, revoke.RepairDelay, []int{503, 400, 400}, true},
		{"marked revoked, never logged", 0, true, revoke.RepairDelay, []int{400, 400}, true},
		// The revocation's own call would log it; none does, so the replay,
		// after waiting for it (revoke.RepairDelay, real time), logs it.
		{"a replay right after an unlogged revocation waits, then logs it", 0, true, 0, []int{400}, true},
		{"revoked after its access tokens expired", 0, true, 5*time.Minute + revoke.DefaultLeeway, []int{400}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			st := &logFailStore{Store: e.store, fail: tc.failAppend}
			svc, err := New(e.cfg, st, e.svc.keys, WithClock(e.clock.Now),
				WithLogger(obs.NewLogger(e.logs, "debug")), WithCognitoKeys(e.cog.Keys()))
			if err != nil {
				t.Fatal(err)
			}
			e.svc = svc
			tr := e.login("user-1", nil)
			sid := strings.Split(tr.RefreshToken, ".")[0]
			e.tokenResponse(e.refresh(tr.RefreshToken))
			if tc.markFirst {
				if _, _, err := e.store.RevokeSession(ctx, sid, revoke.ReasonUserSignOut, e.clock.Now(), ""); err != nil {
					t.Fatal(err)
				}
			}
			for i, status := range tc.replays {
				e.clock.Add(tc.advance)
				resp := e.refresh(tr.RefreshToken)
				if resp.Code != status {
					t.Fatalf("replay %d: %d %s", i, resp.Code, resp.Body)
				}
			}
			revs, err := e.store.RevocationsSince(ctx, e.clock.Now().Add(-2*time.Hour), e.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			logged := false
			for _, r := range revs {
				logged = logged || (r.Kind == store.RevokeSession && r.Value == sid)
			}
			if logged != tc.wantLogged {
				t.Fatalf("session logged %v, want %v: %+v", logged, tc.wantLogged, revs)
			}
		})
	}
}

// ambiguousStore makes RotateRefresh fail with err, after applying the
// rotation when land is set: a write that timed out after it landed, or an
// SDK retry of a landed write that then fails its condition.
type ambiguousStore struct {
	*store.Store
	land bool
	err  error
}

func (s *ambiguousStore) RotateRefresh(ctx context.Context, id string, oldHash, newHash []byte, now, idle, atExp time.Time, opts ...store.RotateOption) (*store.Session, error) {
	if s.land {
		if _, err := s.Store.RotateRefresh(ctx, id, oldHash, newHash, now, idle, atExp, opts...); err != nil {
			return nil, err
		}
	}
	return nil, s.err
}

// TestRefreshAmbiguousWrite: a rotation whose outcome the store did not
// report is settled by reading the session back, so the client gets its new
// tokens when the write landed, a retryable 503 when it did not, and the
// session is never revoked for a reuse that did not happen.
func TestRefreshAmbiguousWrite(t *testing.T) {
	unavailable := fmt.Errorf("%w: injected timeout", store.ErrUnavailable)
	tests := []struct {
		name   string
		land   bool
		err    error
		status int
	}{
		{"timed out after landing", true, unavailable, 200},
		{"retry of a landed write fails its condition", true, store.ErrConflict, 200},
		{"timed out before landing", false, unavailable, 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			tr := e.login("user-1", nil)
			sid := strings.Split(tr.RefreshToken, ".")[0]
			good := e.svc
			svc, err := New(e.cfg, &ambiguousStore{Store: e.store, land: tc.land, err: tc.err}, e.svc.keys,
				WithClock(e.clock.Now), WithLogger(obs.NewLogger(e.logs, "debug")), WithCognitoKeys(e.cog.Keys()))
			if err != nil {
				t.Fatal(err)
			}
			e.svc = svc
			resp := e.refresh(tr.RefreshToken)
			if resp.Code != tc.status {
				t.Fatalf("refresh: %d %s", resp.Code, resp.Body)
			}
			e.svc = good
			if tc.status == 200 {
				// The tokens answered are the stored ones: the new refresh
				// token works and the old one is now a reuse.
				next := e.tokenResponse(resp)
				e.tokenResponse(e.refresh(next.RefreshToken))
			} else {
				// Nothing changed: the same token can be retried.
				e.tokenResponse(e.refresh(tr.RefreshToken))
			}
			sess, err := e.store.GetSession(ctx, sid)
			if err != nil || !sess.RevokedAt.IsZero() {
				t.Fatalf("session after the retry: %+v %v", sess, err)
			}
		})
	}
}
