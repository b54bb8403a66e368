package jwtverify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// Defaults for RemoteOptions.
const (
	DefaultFetchTimeout    = 3 * time.Second
	DefaultMaxJWKSBytes    = 64 << 10
	DefaultMinRefetch      = 60 * time.Second
	DefaultRetryAfterError = time.Second
	DefaultMaxAge          = 5 * time.Minute
)

// RemoteOptions tune a RemoteJWKS; zero values take the defaults.
type RemoteOptions struct {
	// HTTPClient fetches the JWK Set; default: a client that does not
	// follow redirects.
	HTTPClient *http.Client
	// Timeout bounds one fetch; default DefaultFetchTimeout.
	Timeout time.Duration
	// MaxBytes bounds the response body; default DefaultMaxJWKSBytes.
	MaxBytes int64
	// MinRefetch is the least time between fetches caused by unknown
	// kids once a key set is held; default DefaultMinRefetch.
	MinRefetch time.Duration
	// RetryAfterError is the least time between fetches while no key set
	// is held (the first fetch failed); default DefaultRetryAfterError.
	RetryAfterError time.Duration
	// MaxAge is how long a fetched key set is used before it is fetched
	// again, so that a key rotated out of the set stops verifying;
	// default DefaultMaxAge (the token service's Cache-Control max-age).
	MaxAge time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// RemoteJWKS is a KeySource backed by a JWK Set URL. Keys are cached; an
// unknown kid triggers a refetch at most once per MinRefetch, shared by
// every caller waiting on it. A set older than MaxAge is fetched again by
// the first caller that meets it (callers arriving meanwhile keep using the
// set they have), so a key dropped from the published set stops verifying
// within MaxAge. A failed refetch keeps the last good set and is retried
// at most once per MinRefetch; with no set at all, Key fails with
// ErrKeysUnavailable. It is safe for concurrent use, and no lock is held
// during a fetch.
type RemoteJWKS struct {
	url  string
	opt  RemoteOptions
	keys atomic.Pointer[keySet]

	mu          sync.Mutex
	inflight    *fetchCall // nil when no fetch is running
	lastAttempt time.Time  // start of the last fetch
	lastErr     error      // result of the last fetch
}

// keySet is a fetched JWK Set and when the fetch that produced it started.
type keySet struct {
	keys    map[string]Key
	fetched time.Time
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// NewRemoteJWKS returns a RemoteJWKS for url. It fetches nothing until
// Prefetch or the first Key.
func NewRemoteJWKS(url string, o RemoteOptions) *RemoteJWKS {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultFetchTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxJWKSBytes
	}
	if o.MinRefetch <= 0 {
		o.MinRefetch = DefaultMinRefetch
	}
	if o.RetryAfterError <= 0 {
		o.RetryAfterError = DefaultRetryAfterError
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &RemoteJWKS{url: url, opt: o}
}

// Prefetch fetches the key set now, regardless of the refetch limits, for
// warming a cache at start-up. Its error wraps ErrKeysUnavailable.
func (r *RemoteJWKS) Prefetch(ctx context.Context) error {
	return r.refresh(ctx, true, true)
}

// Key implements KeySource.
func (r *RemoteJWKS) Key(ctx context.Context, kid string) (Key, error) {
	s := r.keys.Load()
	if s != nil && r.opt.Now().Sub(s.fetched) >= r.opt.MaxAge {
		// Past its lifetime: fetch again now, unless a fetch is already
		// running or failed within MinRefetch. Either way the answer
		// comes from the newest set held.
		_ = r.refresh(ctx, false, false)
		s = r.keys.Load()
	}
	if s != nil {
		if k, ok := s.keys[kid]; ok {
			return k, nil
		}
	}
	err := r.refresh(ctx, false, true)
	m := r.keys.Load()
	if m == nil {
		if err == nil {
			err = r.lastError()
		}
		if errors.Is(err, ErrKeysUnavailable) {
			return Key{}, err
		}
		return Key{}, fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	if k, ok := m.keys[kid]; ok {
		return k, nil
	}
	return Key{}, ErrUnknownKey
}

func (r *RemoteJWKS) lastError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastErr == nil {
		return errors.New("no key set fetched yet")
	}
	return r.lastErr
}

// refresh fetches the key set unless the refetch limit says not yet. A
// caller that finds a fetch running waits for it instead of starting one,
// or, unless wait is set, returns at once.
func (r *RemoteJWKS) refresh(ctx context.Context, force, wait bool) error {
	r.mu.Lock()
	if c := r.inflight; c != nil {
		r.mu.Unlock()
		if !wait {
			return nil
		}
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	now := r.opt.Now()
	if !force && !r.lastAttempt.IsZero() {
		pause := r.opt.MinRefetch
		if r.keys.Load() == nil {
			pause = r.opt.RetryAfterError
		}
		if now.Sub(r.lastAttempt) < pause {
			r.mu.Unlock()
			return nil
		}
	}
	c := &fetchCall{done: make(chan struct{})}
	r.inflight = c
	r.lastAttempt = now
	r.mu.Unlock()

	defer func() {
		r.mu.Lock()
		r.inflight = nil
		r.lastErr = c.err
		r.mu.Unlock()
		close(c.done)
	}()
	// The fetch serves every waiter, so one caller's cancellation must not
	// fail it; the timeout still bounds it.
	c.err = r.fetch(context.WithoutCancel(ctx), now)
	return c.err
}

// fetch downloads and parses the key set and, on success, replaces the
// cached one; started is when the fetch began.
func (r *RemoteJWKS) fetch(ctx context.Context, started time.Time) error {
	// Configuration checks the URL too; this keeps a URL built elsewhere
	// from fetching keys in clear text over a network.
	if err := tokenspec.CheckKeyURL(r.url); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrKeysUnavailable, r.url, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.opt.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: fetch %s: %v", ErrKeysUnavailable, r.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: fetch %s: status %d", ErrKeysUnavailable, r.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.opt.MaxBytes+1))
	if err != nil {
		return fmt.Errorf("%w: fetch %s: %v", ErrKeysUnavailable, r.url, err)
	}
	if int64(len(body)) > r.opt.MaxBytes {
		return fmt.Errorf("%w: fetch %s: body larger than %d bytes", ErrKeysUnavailable, r.url, r.opt.MaxBytes)
	}
	keys, err := ParseJWKS(body)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrKeysUnavailable, r.url, err)
	}
	r.keys.Store(&keySet{keys: keys, fetched: started})
	return nil
}
