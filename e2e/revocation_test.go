package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
)

type sample struct {
	start  time.Time
	status int
}

// revocationDelay runs a client calling /hello through the gateway in a
// loop while an admin revokes its session, and returns the samples, when
// the revocation call returned, and the delay until the first refusal.
func revocationDelay(t testing.TB, s *stack, poll time.Duration) (samples []sample, revoked time.Time, delay time.Duration) {
	t.Helper()
	user := s.login("user-e2e", "users")
	admin := s.login("admin-e2e", adminGroup)
	client := &http.Client{Timeout: 5 * time.Second}

	done := make(chan []sample)
	stop := make(chan struct{})
	go func() {
		var out []sample
		for {
			select {
			case <-stop:
				done <- out
				return
			default:
			}
			start := time.Now()
			st, err := s.call(client, "/hello", user.access)
			if err != nil {
				st = -1
			}
			out = append(out, sample{start, st})
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(poll + 300*time.Millisecond) // calls succeed before
	s.adminRevokeSession(admin, user.sid)
	revoked = time.Now()
	time.Sleep(2*poll + 2*time.Second)
	close(stop)
	samples = <-done

	delay = -1
	for _, x := range samples {
		if x.start.After(revoked) && x.status == http.StatusUnauthorized {
			delay = x.start.Sub(revoked)
			break
		}
	}
	return samples, revoked, delay
}

func TestRevocationThroughGateway(t *testing.T) {
	const poll = time.Second
	// The revocation bound is poll plus the time one read of the log takes;
	// the margin absorbs that read and scheduling on a loaded machine.
	const margin = time.Second
	for _, shape := range []authorizer.Shape{authorizer.ShapeRESTToken, authorizer.ShapeHTTPSimple} {
		t.Run(string(shape), func(t *testing.T) {
			s := newStack(t, stackOptions{poll: poll, shape: shape})
			samples, revoked, delay := revocationDelay(t, s, poll)
			var before, after int
			for _, x := range samples {
				switch {
				case x.start.Before(revoked.Add(-time.Second)):
					// Calls well before the revocation succeed.
					if x.status != http.StatusOK {
						t.Fatalf("call at %v before the revocation: status %d", x.start, x.status)
					}
					before++
				case x.start.After(revoked.Add(poll + margin)):
					if x.status != http.StatusUnauthorized {
						t.Fatalf("call %v after the revocation: status %d, want 401", x.start.Sub(revoked), x.status)
					}
					after++
				}
			}
			if before == 0 || after == 0 || delay < 0 {
				for _, x := range samples {
					t.Logf("%v %d", x.start.Sub(revoked), x.status)
				}
				t.Fatalf("too few samples: %d before, %d after, delay %v", before, after, delay)
			}
			t.Logf("revocation observed at the gateway %v after the admin call returned (poll %v, bound poll + %v); %d calls",
				delay.Round(time.Millisecond), poll, margin, len(samples))
		})
	}
}

// TestStoreFaults: the revocation log unreachable at cold start refuses
// everything; unreachable later, requests pass only within the grace.
func TestStoreFaults(t *testing.T) {
	d := testenv.Dynalite(t, testenv.Persistent())
	const poll, grace = 200 * time.Millisecond, 3 * time.Second
	s := newStack(t, stackOptions{d: d, poll: poll, grace: grace})
	user := s.login("user-faults", "users")
	client := &http.Client{Timeout: 5 * time.Second}
	expect := func(want int, what string) {
		t.Helper()
		st, err := s.call(client, "/hello", user.access)
		if err != nil || st != want {
			t.Fatalf("%s: status %d (%v), want %d", what, st, err, want)
		}
	}
	expect(http.StatusOK, "store up")

	// The log goes away: requests keep passing within the grace, then are
	// refused.
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	expect(http.StatusOK, "store down, within grace")
	time.Sleep(grace / 2)
	expect(http.StatusOK, "store down, half the grace")
	time.Sleep(time.Until(down.Add(grace + poll + 500*time.Millisecond)))
	expect(http.StatusInternalServerError, "store down past the grace")

	// It comes back: requests pass again without a restart.
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := s.call(client, "/hello", user.access)
		if st == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered: status %d", st)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A cold start while the log is unreachable refuses everything.
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	cold := newStackOn(t, s, stackOptions{d: d, poll: poll, grace: grace})
	st, err := cold.call(client, "/hello", user.access)
	if err != nil || st != http.StatusInternalServerError {
		t.Fatalf("cold start with the store down: status %d (%v), want 500", st, err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}
