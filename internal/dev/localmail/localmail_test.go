package localmail

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/mail"
	"github.com/shortfuse/shortfuse/triggers/custommessage"
)

type memMail struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (m *memMail) Send(_ context.Context, msg mail.Message) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return "id", nil
}

func writePool(t *testing.T, dir, pool, json string) {
	t.Helper()
	db := filepath.Join(dir, ".cognito", "db")
	if err := os.MkdirAll(db, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(db, pool+".json"), []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
}

func render(_ context.Context, ev custommessage.Event) (custommessage.Event, error) {
	ev.Response.EmailSubject = "Confirm"
	ev.Response.EmailMessage = "<p>code {####} for {username}</p>"
	return ev, nil
}

func TestRelayFillsCode(t *testing.T) {
	dir := t.TempDir()
	// ForgotPassword for a user whose old code is still stored: the relay
	// waits for the new one.
	writePool(t, dir, "local_p", `{"Users":{"u-1":{"ConfirmationCode":"111111"}}}`)
	sender := &memMail{}
	r := New(dir, sender, nil)
	var ev custommessage.Event
	ev.TriggerSource = "CustomMessage_ForgotPassword"
	ev.UserPoolID, ev.UserName = "local_p", "u-1"
	ev.Request.CodeParameter = "{####}"
	ev.Request.UserAttributes = map[string]any{"email": "ada@example.com"}
	out, err := r.Wrap(render)(context.Background(), ev)
	if err != nil || !strings.Contains(out.Response.EmailMessage, "{####}") {
		t.Fatalf("handler answer changed: %+v %v", out.Response, err)
	}
	time.Sleep(100 * time.Millisecond)
	writePool(t, dir, "local_p", `{"Users":{"u-1":{"ConfirmationCode":"222222"}}}`)
	r.Close()
	if len(sender.sent) != 1 {
		t.Fatalf("%d mails", len(sender.sent))
	}
	m := sender.sent[0]
	if m.To != "ada@example.com" || m.Subject != "Confirm" || m.HTML != "<p>code 222222 for u-1</p>" {
		t.Fatalf("mail %+v", m)
	}
}

func TestRelaySkips(t *testing.T) {
	sender := &memMail{}
	r := New(t.TempDir(), sender, nil)
	failing := func(_ context.Context, ev custommessage.Event) (custommessage.Event, error) {
		return ev, errors.New("boom")
	}
	var ev custommessage.Event
	ev.TriggerSource = "CustomMessage_SignUp"
	ev.Request.UserAttributes = map[string]any{"email": "ada@example.com"}
	if _, err := r.Wrap(failing)(context.Background(), ev); err == nil {
		t.Fatal("error swallowed")
	}
	ev.Request.UserAttributes = map[string]any{"phone_number": "+14155550100"}
	if _, err := r.Wrap(render)(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	ev.TriggerSource = "CustomMessage_Unknown"
	ev.Request.UserAttributes = map[string]any{"email": "ada@example.com"}
	if _, err := r.Wrap(render)(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if len(sender.sent) != 0 {
		t.Fatalf("sent %+v", sender.sent)
	}
	if _, err := r.userField("../x", "u", "f"); err == nil {
		t.Fatal("pool id with a path accepted")
	}
}
