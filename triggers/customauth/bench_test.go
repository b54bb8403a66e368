package customauth

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/triggers/templates"
)

// The benchmarks measure one invocation as the Lambda runtime makes it
// (JSON in, handler, JSON out) with the store and the mail sender in
// memory: the handlers' own cost. In AWS, create adds a DynamoDB PutItem
// and an SES SendEmail, verify one or two DynamoDB UpdateItems.

func BenchmarkDefine(b *testing.B) {
	h := lambda.NewHandler(NewDefine(Config{MaxAttempts: 3}).Handle)
	var ev DefineEvent
	ev.TriggerSource = SourceDefine
	ev.Request.Session = []*cr{start(), answer(false), answer(true)}
	in, _ := json.Marshal(ev)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreate(b *testing.B) {
	set, err := templates.Load(nil, "en")
	if err != nil {
		b.Fatal(err)
	}
	h := lambda.NewHandler(NewCreate(testConfig(), testKeys(b), newMem(), &discardMail{}, set, "Acme", Options{}).Handle)
	ctx := context.Background()
	// A new user each time: a fresh code and link, a rendered and sent mail.
	ins := make([][]byte, 4096)
	for i := range ins {
		var ev CreateEvent
		ev.TriggerSource = SourceCreate
		ev.UserPoolID, ev.UserName = "pool", fmt.Sprintf("user-%d", i)
		ev.Request.UserAttributes = map[string]string{"sub": fmt.Sprint("sub-", i), "email": "ada@example.com", "email_verified": "true"}
		ev.Request.Session = []*cr{start()}
		ev.Request.ClientMetadata = map[string]string{MethodKey: MethodCode}
		ins[i], _ = json.Marshal(ev)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := h.Invoke(ctx, ins[i%len(ins)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkVerify(b *testing.B) {
	k := testKeys(b)
	mem := newMem()
	cfg := testConfig()
	cfg.MaxAttempts = 10
	now := time.Unix(1_800_000_000, 0)
	set, _ := templates.Load(nil, "en")
	c := NewCreate(cfg, k, mem, &discardMail{}, set, "Acme", Options{Now: func() time.Time { return now }})
	cev := adaStarts()
	cev.UserPoolID = "pool"
	out, err := c.Handle(context.Background(), cev)
	if err != nil {
		b.Fatal(err)
	}
	var ev VerifyEvent
	ev.TriggerSource = SourceVerify
	ev.UserPoolID, ev.UserName = "pool", "ada"
	ev.Request.UserAttributes = knownAttrs()
	ev.Request.PrivateChallengeParameters = out.Response.PrivateChallengeParameters
	ev.Request.ChallengeAnswer = "000000" // wrong: a full attempt, nothing used up
	in, _ := json.Marshal(ev)
	h := lambda.NewHandler(NewVerify(cfg, k, mem, Options{Now: func() time.Time { return now }}).Handle)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		mem.mu.Lock()
		ch := mem.m[k.userKey("sub-1", "")]
		ch.Attempts, ch.WindowAttempts = 0, 0
		mem.m[ch.Key] = ch
		mem.mu.Unlock()
		if _, err := h.Invoke(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
