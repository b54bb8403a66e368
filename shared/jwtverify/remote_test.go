package jwtverify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

// jwksServer serves whatever body holds, counting requests; status,
// delay and gate shape the answers.
type jwksServer struct {
	*httptest.Server
	body    atomic.Value // []byte
	status  atomic.Int64
	delay   atomic.Int64 // nanoseconds
	fetches atomic.Int64
	gate    chan struct{} // when not nil, each request waits on it
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{}
	s.body.Store(body)
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		if s.gate != nil {
			<-s.gate
		}
		if d := time.Duration(s.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(int(s.status.Load()))
		_, _ = w.Write(s.body.Load().([]byte))
	}))
	t.Cleanup(s.Close)
	return s
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestRemoteJWKSCaches(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.RS256)
	url := iss.Serve(t)
	r := jwtverify.NewRemoteJWKS(url, jwtverify.RemoteOptions{})
	v, err := jwtverify.New(jwtverify.Config{Keys: r, Issuer: iss.Issuer, Audiences: []string{iss.ClientID}, TokenUse: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Prefetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := v.Verify(context.Background(), iss.CognitoIDToken(nil)); err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.Fetches(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestRemoteJWKSLazyFirstFetch(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.ES256)
	r := jwtverify.NewRemoteJWKS(iss.Serve(t), jwtverify.RemoteOptions{})
	if _, err := r.Key(context.Background(), iss.KID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Key(context.Background(), iss.KID); err != nil {
		t.Fatal(err)
	}
	if n := iss.Fetches(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestRemoteJWKSRefetchLimit(t *testing.T) {
	a := jwttest.NewIssuer(t, jwtverify.EdDSA)
	b := jwttest.NewIssuer(t, jwtverify.EdDSA)
	srv := newJWKSServer(t, a.JWKS())
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	r := jwtverify.NewRemoteJWKS(srv.URL, jwtverify.RemoteOptions{MinRefetch: time.Minute, Now: clock.Now})
	ctx := context.Background()
	if err := r.Prefetch(ctx); err != nil {
		t.Fatal(err)
	}

	// Right after a fetch, an unknown kid does not cause another.
	if _, err := r.Key(ctx, "unknown"); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}

	// Later, unknown kids: one refetch, then none until MinRefetch has passed.
	clock.Advance(time.Minute)
	for i := range 10 {
		if _, err := r.Key(ctx, "unknown-"+strings.Repeat("x", i)); !errors.Is(err, jwtverify.ErrUnknownKey) {
			t.Fatalf("err = %v, want ErrUnknownKey", err)
		}
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (prefetch + one refetch)", n)
	}

	// The next key is published; within the window it is not seen yet.
	srv.body.Store(jwttest.JoinJWKS(a.JWKS(), b.JWKS()))
	clock.Advance(30 * time.Second)
	if _, err := r.Key(ctx, b.KID); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey inside the refetch window", err)
	}
	clock.Advance(31 * time.Second)
	if _, err := r.Key(ctx, b.KID); err != nil {
		t.Fatalf("new key after the window: %v", err)
	}
	if n := srv.fetches.Load(); n != 3 {
		t.Fatalf("fetches = %d, want 3", n)
	}
	// Known keys cause no fetch while the set is younger than MaxAge.
	for range 5 {
		if _, err := r.Key(ctx, a.KID); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.fetches.Load(); n != 3 {
		t.Fatalf("fetches = %d, want 3", n)
	}

	// A key dropped from the set is no longer trusted after a refetch.
	srv.body.Store(b.JWKS())
	clock.Advance(time.Minute)
	if _, err := r.Key(ctx, "unknown"); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatal(err)
	}
	if _, err := r.Key(ctx, a.KID); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("removed key: err = %v, want ErrUnknownKey", err)
	}
}

func TestRemoteJWKSMaxAge(t *testing.T) {
	// The signing key rotates: b is published next to a, then a is dropped
	// once its tokens have expired. A verifier that holds a must stop
	// trusting it within MaxAge, although no unknown kid ever makes it
	// refetch.
	a := jwttest.NewIssuer(t, jwtverify.EdDSA)
	b := jwttest.NewIssuer(t, jwtverify.EdDSA)
	srv := newJWKSServer(t, jwttest.JoinJWKS(a.JWKS(), b.JWKS()))
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	r := jwtverify.NewRemoteJWKS(srv.URL, jwtverify.RemoteOptions{MaxAge: 5 * time.Minute, Now: clock.Now})
	ctx := context.Background()
	if err := r.Prefetch(ctx); err != nil {
		t.Fatal(err)
	}
	srv.body.Store(b.JWKS())
	clock.Advance(5*time.Minute - time.Second)
	for _, kid := range []string{a.KID, b.KID} {
		if _, err := r.Key(ctx, kid); err != nil {
			t.Fatalf("%s within MaxAge: %v", kid, err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d within MaxAge, want 1", n)
	}
	clock.Advance(time.Second)
	if _, err := r.Key(ctx, a.KID); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("key dropped from the set, past MaxAge: err = %v, want ErrUnknownKey", err)
	}
	if _, err := r.Key(ctx, b.KID); err != nil {
		t.Fatal(err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}

	// While the endpoint fails, the last good set stays in use and the
	// fetch is retried at most once per MinRefetch.
	srv.status.Store(http.StatusServiceUnavailable)
	clock.Advance(time.Hour)
	for range 5 {
		if _, err := r.Key(ctx, b.KID); err != nil {
			t.Fatalf("last good key while the endpoint fails: %v", err)
		}
	}
	if n := srv.fetches.Load(); n != 3 {
		t.Fatalf("fetches = %d, want 3", n)
	}
	clock.Advance(jwtverify.DefaultMinRefetch)
	srv.status.Store(http.StatusOK)
	srv.body.Store(a.JWKS())
	if _, err := r.Key(ctx, b.KID); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("after recovery: err = %v, want ErrUnknownKey", err)
	}
}

func TestRemoteJWKSConcurrentCallersShareOneFetch(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.EdDSA)
	srv := newJWKSServer(t, iss.JWKS())
	srv.gate = make(chan struct{})
	r := jwtverify.NewRemoteJWKS(srv.URL, jwtverify.RemoteOptions{})

	const callers = 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := r.Key(context.Background(), iss.KID)
			errs <- err
		})
	}
	// Let the single request through once it has arrived.
	for srv.fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(srv.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestRemoteJWKSTimeout(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.EdDSA)
	srv := newJWKSServer(t, iss.JWKS())
	srv.delay.Store(int64(5 * time.Second))
	r := jwtverify.NewRemoteJWKS(srv.URL, jwtverify.RemoteOptions{Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := r.Key(context.Background(), iss.KID)
	if !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("err = %v, want ErrKeysUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Key took %v despite a 100ms timeout", d)
	}
}

func TestRemoteJWKSCallerCancelDoesNotFailTheFetch(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.EdDSA)
	srv := newJWKSServer(t, iss.JWKS())
	srv.delay.Store(int64(200 * time.Millisecond))
	r := jwtverify.NewRemoteJWKS(srv.URL, jwtverify.RemoteOptions{})

	first := make(chan error, 1)
	go func() {
		_, err := r.Key(context.Background(), iss.KID)
		first <- err
	}()
	for srv.fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Key(ctx, iss.KID); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("cancelled waiter: err = %v, want ErrKeysUnavailable", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("fetch owner: %v", err)
	}
}

func TestRemoteJWKSBadResponses(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.EdDSA)
	big := []byte(`{"keys":[],"pad":"` + strings.Repeat("a", 70<<10) + `"}`)
	for _, tt := range []struct {
		name   string
		status int
		body   []byte
	}{
		{"oversized body", http.StatusOK, big},
		{"server error", http.StatusInternalServerError, iss.JWKS()},
		{"not found", http.StatusNotFound, nil},
		{"redirect", http.StatusFound, nil},
		{"not JSON", http.StatusOK, []byte("<html>")},
		{"private keys", http.StatusOK, []byte(`{"keys":[{"kty":"oct","kid":"a","k":"AAAA"}]}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, tt.body)
			srv.status.Store(int64(tt.status))
			r := jwtverify.NewRemoteJWKS(srv.URL, jwtverify.RemoteOptions{})
			if err := r.Prefetch(context.Background()); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
				t.Fatalf("Prefetch err = %v, want ErrKeysUnavailable", err)
			}
			if _, err := r.Key(context.Background(), iss.KID); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
				t.Fatalf("Key err = %v, want ErrKeysUnavailable", err)
			}
		})
	}
}

func TestRemoteJWKSKeepsLastGoodSet(t *testing.T) {
	a := jwttest.NewIssuer(t, jwtverify.EdDSA)
	srv := newJWKSServer(t, a.JWKS())
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	r := jwtverify.NewRemoteJWKS(srv.URL, jwtverify.RemoteOptions{Now: clock.Now})
	ctx := context.Background()
	if err := r.Prefetch(ctx); err != nil {
		t.Fatal(err)
	}

	// The endpoint breaks: a refetch fails, known keys keep working.
	srv.status.Store(http.StatusServiceUnavailable)
	clock.Advance(time.Hour)
	if _, err := r.Key(ctx, "unknown"); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	if _, err := r.Key(ctx, a.KID); err != nil {
		t.Fatalf("last good key: %v", err)
	}

	// The server goes away entirely; same.
	srv.Close()
	clock.Advance(time.Hour)
	if _, err := r.Key(ctx, "unknown"); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	if _, err := r.Key(ctx, a.KID); err != nil {
		t.Fatalf("last good key: %v", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestRemoteJWKSFailsClosedAndRecovers(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.EdDSA)
	srv := newJWKSServer(t, iss.JWKS())
	srv.status.Store(http.StatusInternalServerError)
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	r := jwtverify.NewRemoteJWKS(srv.URL, jwtverify.RemoteOptions{RetryAfterError: time.Second, Now: clock.Now})
	v, err := jwtverify.New(jwtverify.Config{Keys: r, Issuer: iss.Issuer, Algorithms: []string{"EdDSA"}, TokenUse: "id"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		_, err := v.Verify(ctx, iss.CognitoIDToken(nil))
		if !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatalf("err = %v, want ErrKeysUnavailable", err)
		}
		checkOneSentinel(t, err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1 within RetryAfterError", n)
	}
	srv.status.Store(http.StatusOK)
	clock.Advance(time.Second)
	if _, err := v.Verify(ctx, iss.CognitoIDToken(nil)); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}
