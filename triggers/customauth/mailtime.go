package customauth

import (
	"context"
	"sync"
	"time"
)

// Creating a challenge for a known user sends a mail; for an unknown user
// (or one without a deliverable address) it cannot. Both do the same store
// writes, sign a link and render the mail, but only one waits for SES, which
// takes milliseconds locally and tens of milliseconds in AWS: enough to tell
// who exists. The mail step therefore takes the same time either way: it
// ends no earlier than a floor, the longest of the last mailTimeSamples
// sends this container made (at least Config.MailFloor, at most
// maxMailFloor), and the unknown path waits out that floor too. The wait
// is in the invocation, before it answers: a Lambda function may be frozen
// as soon as it returns, so nothing is left to run after that.

const (
	mailTimeSamples = 32
	// maxMailFloor caps the floor, so that one very slow send does not
	// slow every sign-in; a send beyond it shows, as it would anyway.
	maxMailFloor = time.Second
)

// mailTimer keeps recent send durations. It is safe for concurrent use.
type mailTimer struct {
	mu     sync.Mutex
	min    time.Duration
	recent [mailTimeSamples]time.Duration
	next   int
}

// floor is how long the mail step lasts at least.
func (m *mailTimer) floor() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.min
	for _, d := range m.recent {
		f = max(f, d)
	}
	return min(f, maxMailFloor)
}

// observe records the duration of a successful send.
func (m *mailTimer) observe(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recent[m.next] = d
	m.next = (m.next + 1) % mailTimeSamples
}

// waitUntil sleeps until t, or until ctx is done or its deadline less
// reserve is reached, whichever is first.
func waitUntil(ctx context.Context, t time.Time, reserve time.Duration) {
	if dl, ok := ctx.Deadline(); ok && dl.Add(-reserve).Before(t) {
		t = dl.Add(-reserve)
	}
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}
