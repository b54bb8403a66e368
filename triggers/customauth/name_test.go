package customauth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/triggers/templates"
)

// With RequireVerifiedEmail off, sign-in mails can go to unverified
// addresses: the name follows UnverifiedName there, as in custom messages.
func TestSignInMailName(t *testing.T) {
	set, err := templates.Load(nil, "en")
	if err != nil {
		t.Fatal(err)
	}
	spoof := "Locked! Call +1 415 555 0100 or visit evil.example"
	for _, tc := range []struct {
		verified, mode string
		want, notWant  string
	}{
		{"true", "", "Locked! Call", ""},
		{"false", "", "Hello,", "Locked"},
		{"false", "short", "Hello Locked Call,", "415"},
	} {
		cfg := testConfig()
		cfg.RequireVerifiedEmail = false
		cfg.UnverifiedName = templates.NameMode(tc.mode)
		mm := &memMail{}
		c := NewCreate(cfg, testKeys(t), newMem(), mm, set, "Acme", Options{})
		var ev CreateEvent
		ev.TriggerSource = SourceCreate
		ev.UserPoolID, ev.UserName = "pool", "ada"
		ev.Request.UserAttributes = map[string]string{"sub": "sub-1", "email": "ada@example.com", "email_verified": tc.verified, "given_name": spoof}
		ev.Request.Session = []*cr{start()}
		if _, err := c.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if len(mm.sent) != 1 {
			t.Fatalf("%d mails", len(mm.sent))
		}
		body := mm.sent[0].Text + mm.sent[0].HTML
		if !strings.Contains(body, tc.want) || tc.notWant != "" && strings.Contains(body, tc.notWant) {
			t.Errorf("verified %s, mode %q: %s", tc.verified, tc.mode, mm.sent[0].Text)
		}
	}
}

// The floor is the longest recent send, at least the configured minimum
// and at most maxMailFloor; old sends age out.
func TestMailTimerFloor(t *testing.T) {
	m := &mailTimer{min: 5 * time.Millisecond}
	if f := m.floor(); f != 5*time.Millisecond {
		t.Fatalf("initial floor %s", f)
	}
	m.observe(2 * time.Millisecond)
	m.observe(30 * time.Millisecond)
	if f := m.floor(); f != 30*time.Millisecond {
		t.Fatalf("floor %s, want the longest send", f)
	}
	for range mailTimeSamples {
		m.observe(time.Millisecond)
	}
	if f := m.floor(); f != 5*time.Millisecond {
		t.Fatalf("floor %s after the slow send aged out", f)
	}
	m.observe(time.Minute)
	if f := m.floor(); f != maxMailFloor {
		t.Fatalf("floor %s, want the cap", f)
	}
	// waitUntil never waits past the deadline less the reserve, nor for a
	// cancelled context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	waitUntil(ctx, time.Now().Add(time.Hour), 0)
	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	waitUntil(ctx, time.Now().Add(time.Hour), time.Hour)
}
