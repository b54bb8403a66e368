package customauth

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/triggers/templates"
)

// A code typed with a separator ("123.456") takes the link path. Its hash
// must not reach the log: six digits are found again from it at once.
func TestMistypedCodeNotLogged(t *testing.T) {
	k := testKeys(t)
	mem := newMem()
	set, _ := templates.Load(nil, "en")
	sender := &memMail{}
	now := time.Unix(1_800_000_000, 0)
	var logs bytes.Buffer
	opts := Options{Now: func() time.Time { return now }, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	cfg := testConfig()
	cev := adaStarts()
	cev.UserPoolID = "pool"
	out, err := NewCreate(cfg, k, mem, sender, set, "Acme", opts).Handle(context.Background(), cev)
	if err != nil || len(sender.sent) != 1 {
		t.Fatal(err)
	}
	code := mailedCode(sender.sent[0].Text)
	if !isCode(code, 6) {
		t.Fatalf("code %q", code)
	}

	v := NewVerify(cfg, k, mem, opts)
	for _, typed := range []string{code[:3] + "." + code[3:], code + "."} {
		var ev VerifyEvent
		ev.TriggerSource = SourceVerify
		ev.UserPoolID, ev.UserName = "pool", "ada"
		ev.Request.UserAttributes = knownAttrs()
		ev.Request.PrivateChallengeParameters = out.Response.PrivateChallengeParameters
		ev.Request.ChallengeAnswer = typed
		res, err := v.Handle(context.Background(), ev)
		if err != nil || res.Response.AnswerCorrect {
			t.Fatalf("%q: %+v %v", typed, res.Response, err)
		}
		if id := obs.TokenID(typed); strings.Contains(logs.String(), id) {
			t.Fatalf("log names the answer %q as %s:\n%s", typed, id, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "link refused") {
		t.Fatalf("refusal not logged:\n%s", logs.String())
	}
}
