package cognitoevents

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/internal/dev/lambdahost"
	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
)

const otherClient = "2example98765432zyxwvutsrq"

// stack is the function behind the project's Lambda host, on real dynalite
// and cognito-local.
type stack struct {
	t     *testing.T
	ddb   *testenv.Dynamo
	cog   *testenv.Cognito
	st    *store.Store
	url   string
	logs  *testenv.Buffer
	table string
	n     int
}

func newStack(t *testing.T) *stack { return newStackWith(t, revoke.Policy{}) }

func newStackWith(t *testing.T, pol revoke.Policy) *stack {
	t.Helper()
	s := &stack{t: t, ddb: testenv.Dynalite(t, testenv.Persistent()), cog: testenv.CognitoLocal(t, testenv.CognitoOptions{}), table: "events", logs: &testenv.Buffer{}}
	storetest.CreateTable(t, s.ddb, s.table)
	s.st = store.New(s.ddb.Client, s.table)
	h, err := New(Config{Table: s.table, UserPoolID: s.cog.UserPoolID, Revocation: pol},
		s.st, s.cog.Client, obs.NewLogger(s.logs, "debug"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(lambdahost.New(map[string]lambda.Handler{"cognitoevents": lambda.NewHandler(h.Handle)}))
	t.Cleanup(srv.Close)
	s.url = srv.URL + lambdahost.InvokePath("cognitoevents")
	return s
}

// user signs a user up in cognito-local and gives them two live sessions
// in the store, one per app client; sessions is false for a user without.
func (s *stack) user(withSessions bool) (email, sub string, sids []string) {
	s.t.Helper()
	ctx := context.Background()
	s.n++
	email = fmt.Sprintf("user%d@example.com", s.n)
	sub, err := s.cog.SignUp(ctx, email, "Passw0rd!Passw0rd", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if !withSessions {
		return email, sub, nil
	}
	now := time.Now()
	for i, client := range []string{fixtureClient, otherClient} {
		id := fmt.Sprintf("sess-%d-%d", s.n, i)
		if err := s.st.CreateSession(ctx, &store.Session{ID: id, Sub: sub, Username: email, ClientID: client,
			AuthTime: now.Add(-time.Hour), AbsExpiresAt: now.Add(time.Hour), IdleExpiresAt: now.Add(time.Hour),
			RefreshHash: bytes.Repeat([]byte{byte(i + 1)}, 32)}); err != nil {
			s.t.Fatal(err)
		}
		sids = append(sids, id)
	}
	return email, sub, sids
}

// event is a fixture rewritten for this stack's pool, the user and a call
// time.
func (s *stack) event(file, email, sub string, at time.Time) []byte {
	e := string(fixture(s.t, file))
	e = strings.ReplaceAll(e, fixturePool, s.cog.UserPoolID)
	e = strings.ReplaceAll(e, fixtureSub, sub)
	e = strings.ReplaceAll(e, "ada@example.com", email)
	e = strings.ReplaceAll(e, fixtureTime, at.UTC().Format(time.RFC3339))
	return []byte(e)
}

// invoke posts the event to the Lambda host; failed reports a function
// error (EventBridge would retry).
func (s *stack) invoke(event []byte) (res Result, failed bool) {
	s.t.Helper()
	resp, err := http.Post(s.url, "application/json", bytes.NewReader(event))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("invoke: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Amz-Function-Error") != "" {
		return Result{}, true
	}
	if err := json.Unmarshal(body, &res); err != nil {
		s.t.Fatalf("response %s: %v", body, err)
	}
	return res, false
}

// items counts the table's items.
func (s *stack) items() int32 {
	s.t.Helper()
	out, err := s.ddb.Client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(s.table), Select: "COUNT", ConsistentRead: aws.Bool(true)})
	if err != nil {
		s.t.Fatal(err)
	}
	return out.Count
}

// logged counts the revocation log's entries about the user or the
// sessions.
func (s *stack) logged(sub string, sids []string) map[string]int {
	s.t.Helper()
	now := time.Now()
	revs, err := s.st.RevocationsSince(context.Background(), now.Add(-time.Hour), now)
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range revs {
		if r.Value == sub || slices.Contains(sids, r.Value) {
			out[r.Value]++
		}
	}
	return out
}

func (s *stack) revoked(sid string) (bool, string) {
	s.t.Helper()
	sess, err := s.st.GetSession(context.Background(), sid)
	if err != nil {
		s.t.Fatal(err)
	}
	return !sess.RevokedAt.IsZero(), sess.RevokeReason
}

// TestFixturesThroughLambdaHost sends every fixture through the Lambda host
// and checks the revocation in the store, then sends it again: a repeat
// (EventBridge delivers at least once) changes nothing.
func TestFixturesThroughLambdaHost(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	tests := []struct {
		file     string
		sessions bool   // the user has two sessions, one per client
		action   Action // expected
		reason   string // for Ignore
		revoked  []int  // which of the two sessions end revoked
	}{
		{file: "admin-disable-user.json", sessions: true, action: RevokeUser, revoked: []int{0, 1}},
		{file: "admin-delete-user.json", sessions: true, action: RevokeUser, revoked: []int{0, 1}},
		{file: "delete-user.json", sessions: true, action: RevokeUser, revoked: []int{0, 1}},
		{file: "admin-remove-user-from-group.json", sessions: true, action: RevokeUser, revoked: []int{0, 1}},
		{file: "admin-user-global-sign-out.json", sessions: true, action: RevokeUser, revoked: []int{0, 1}},
		{file: "global-sign-out.json", sessions: true, action: RevokeUser, revoked: []int{0, 1}},
		{file: "admin-set-user-password.json", sessions: true, action: RevokeUser, revoked: []int{0, 1}},
		{file: "admin-reset-user-password.json", sessions: true, action: RevokeUser, revoked: []int{0, 1}},
		{file: "change-password.json", sessions: true, action: RevokeUser, revoked: []int{0, 1}},
		{file: "admin-revoke-user-session.json", sessions: true, action: RevokeSessions, revoked: []int{0, 1}},
		{file: "revoke-token.json", sessions: true, action: RevokeClientSessions, revoked: []int{0}},
		// No sub in the record: the username is looked up in cognito-local.
		{file: "admin-disable-user-username-only.json", sessions: true, action: RevokeUser, revoked: []int{0, 1}},
		// A token-authorized call for a user without sessions: the pool is
		// asked whether the sub is its user.
		{file: "global-sign-out.json", action: RevokeUser},
		{file: "delete-user.json", action: Ignore, reason: "no_sessions"},
		{file: "revoke-token.json", action: Ignore, reason: "no_sessions"},
		{file: "admin-disable-user-failed.json", sessions: true, action: Ignore, reason: "call_failed"},
		{file: "global-sign-out-failed.json", sessions: true, action: Ignore, reason: "call_failed"},
		{file: "admin-disable-user-other-pool.json", sessions: true, action: Ignore, reason: "other_user_pool"},
		{file: "admin-enable-user.json", sessions: true, action: Ignore, reason: "unknown_event"},
		{file: "malformed-wrong-source.json", sessions: true, action: Ignore, reason: "malformed"},
		{file: "malformed-detail-string.json", sessions: true, action: Ignore, reason: "malformed"},
		{file: "malformed-sub.json", sessions: true, action: Ignore, reason: "malformed"},
		{file: "malformed-pool-type.json", sessions: true, action: Ignore, reason: "malformed"},
	}
	// What the revocation path writes for a repeated user revocation: nothing
	// once it only logs changes of state (probed, so that this test becomes
	// strict by itself).
	repeatUser := s.repeatedUserRevocationWrites()
	if repeatUser != 0 {
		t.Logf("the revocation path logs a repeated user revocation again (%d item); repeats of user events are held to that", repeatUser)
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s.t = t
			email, sub, sids := s.user(tt.sessions)
			at := time.Now().Add(-2 * time.Second).Truncate(time.Second)
			event := s.event(tt.file, email, sub, at)
			before := s.items()
			res, failed := s.invoke(event)
			if failed || res.Action != tt.action || res.Reason != tt.reason {
				t.Fatalf("result %+v failed=%v; want %s %q\n%s", res, failed, tt.action, tt.reason, s.logs)
			}
			for i, sid := range sids {
				got, why := s.revoked(sid)
				if want := slices.Contains(tt.revoked, i); got != want {
					t.Errorf("session %d revoked=%v, want %v", i, got, want)
				} else if got && why != "cognito:"+res.Event {
					t.Errorf("session %d reason %q", i, why)
				}
			}
			revokedAt, err := s.st.UserRevokedAt(ctx, sub)
			if err != nil {
				t.Fatal(err)
			}
			// What authorizers will read: a user entry, or one per session.
			logged := s.logged(sub, sids)
			if tt.action == RevokeUser {
				if len(logged) != 1 || logged[sub] != 1 {
					t.Errorf("log entries %v, want one for the user", logged)
				}
			} else if len(logged) != len(tt.revoked) {
				t.Errorf("log entries %v, want %d", logged, len(tt.revoked))
			}
			if tt.action == RevokeUser {
				if !revokedAt.Equal(at) {
					t.Errorf("user revoked at %v, want the call's time %v", revokedAt, at)
				}
			} else if !revokedAt.IsZero() {
				t.Errorf("user revoked at %v", revokedAt)
			}
			if tt.action == Ignore && s.items() != before {
				t.Errorf("an ignored event wrote %d items", s.items()-before)
			}

			// The same event again, as EventBridge may deliver it.
			after := s.items()
			again, failed := s.invoke(event)
			if failed || again.Action != tt.action || len(again.Sessions) != 0 {
				t.Fatalf("repeat: %+v failed=%v", again, failed)
			}
			allowed := int32(0)
			if tt.action == RevokeUser {
				allowed = repeatUser
			}
			if n := s.items(); n-after != allowed {
				t.Errorf("repeat wrote %d items", n-after)
			}
			if at2, _ := s.st.UserRevokedAt(ctx, sub); !at2.Equal(revokedAt) {
				t.Errorf("repeat moved the revocation time to %v", at2)
			}
		})
	}
}

// repeatedUserRevocationWrites counts the items the revocation path writes
// when asked again to revoke a user as of the same time.
func (s *stack) repeatedUserRevocationWrites() int32 {
	s.t.Helper()
	ctx := context.Background()
	at := time.Now().Truncate(time.Second)
	rev, err := revoke.New(s.st, revoke.Policy{AccessTokenTTL: revoke.MaxAccessTokenTTL})
	if err != nil {
		s.t.Fatal(err)
	}
	req := revoke.UserRequest{Sub: "probe-user", Reason: "probe", SignOut: revoke.SignOutSkip, At: at}
	if _, err := rev.User(ctx, req); err != nil {
		s.t.Fatal(err)
	}
	before := s.items()
	if _, err := rev.User(ctx, req); err != nil {
		s.t.Fatal(err)
	}
	return s.items() - before
}

// TestTruncatedPayload: a payload that is not JSON never reaches the
// function through Lambda; called directly, the handler ignores it.
func TestTruncatedPayload(t *testing.T) {
	logs := &testenv.Buffer{}
	h, err := New(Config{UserPoolID: fixturePool}, store.New(nil, "unused"),
		nopReader{}, obs.NewLogger(logs, "debug"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Handle(context.Background(), fixture(t, "malformed-truncated.json"))
	if err != nil || res.Action != Ignore || res.Reason != "malformed" || !strings.Contains(logs.String(), "malformed") {
		t.Fatalf("%+v %v %s", res, err, logs)
	}
}

type nopReader struct{ UserReader }

// TestTransientFailureIsRetried: with the table down the function fails, so
// EventBridge retries; the retry, once the table is back, revokes.
func TestTransientFailureIsRetried(t *testing.T) {
	s := newStack(t)
	email, sub, sids := s.user(true)
	event := s.event("admin-disable-user.json", email, sub, time.Now().Truncate(time.Second))
	if err := s.ddb.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, failed := s.invoke(event); !failed {
		t.Fatal("no function error while the table is down")
	}
	if err := s.ddb.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res, failed := s.invoke(event); failed || res.Action != RevokeUser {
		t.Fatalf("retry: %+v %v\n%s", res, failed, s.logs)
	}
	for _, sid := range sids {
		if ok, _ := s.revoked(sid); !ok {
			t.Errorf("%s not revoked", sid)
		}
	}
}

// TestUnknownUserIsIgnored: a token-authorized call whose sub is neither in
// the store nor in the pool belongs to another pool.
func TestUnknownUserIsIgnored(t *testing.T) {
	s := newStack(t)
	before := s.items()
	event := s.event("global-sign-out.json", "nobody@example.com", "00000000-0000-0000-0000-000000000000", time.Now())
	if res, failed := s.invoke(event); failed || res.Action != Ignore || res.Reason != "other_user_pool" {
		t.Fatalf("%+v %v", res, failed)
	}
	event = s.event("admin-disable-user-username-only.json", "nobody@example.com", "", time.Now())
	if res, failed := s.invoke(event); failed || res.Action != Ignore || res.Reason != "user_not_found" {
		t.Fatalf("%+v %v", res, failed)
	}
	if s.items() != before {
		t.Error("wrote items")
	}
}

// TestGlobalSignOutEntriesAreShort: in direct mode a Cognito global
// sign-out ends every refresh token of the user, so its revocation's log
// entries last the direct maximum age, not the refresh token validity: a
// user repeating GlobalSignOut cannot fill the log with long entries. A
// password change leaves the refresh tokens alive: long entries.
func TestGlobalSignOutEntriesAreShort(t *testing.T) {
	pol := revoke.Policy{AccessTokenTTL: 5 * time.Minute, DirectMaxAge: time.Minute, RefreshTokenValidity: 48 * time.Hour}
	s := newStackWith(t, pol)
	ctx := context.Background()
	for _, tc := range []struct {
		file string
		long bool
	}{
		{"global-sign-out.json", false},
		{"admin-user-global-sign-out.json", false},
		{"change-password.json", true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			email, sub, _ := s.user(true)
			now := time.Now()
			if err := s.st.CreateSession(ctx, &store.Session{ID: "fam-" + sub, Sub: sub, Username: email, ClientID: fixtureClient,
				OriginJTI: "origin-" + sub, AuthTime: now.Add(-time.Minute), AbsExpiresAt: now.Add(time.Hour),
				IdleExpiresAt: now.Add(time.Hour), RefreshHash: bytes.Repeat([]byte{9}, 32)}); err != nil {
				t.Fatal(err)
			}
			if res, failed := s.invoke(s.event(tc.file, email, sub, now.Add(-time.Second))); failed || res.Action != RevokeUser {
				t.Fatalf("%+v %v", res, failed)
			}
			revs, err := s.st.RevocationsSince(ctx, now.Add(-time.Hour), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, e := range revs {
				if e.Value != sub && e.Value != "origin-"+sub {
					continue
				}
				kinds = append(kinds, string(e.Kind))
				if long := e.Until.Sub(now) > time.Hour; long != tc.long {
					t.Errorf("%s entry lives %s", e.Kind, e.Until.Sub(now))
				}
			}
			if len(kinds) != 2 {
				t.Fatalf("entries %v, want the user's and the login family's", kinds)
			}
		})
	}
}
