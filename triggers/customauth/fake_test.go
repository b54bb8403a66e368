package customauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/shared/mail"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/triggers/templates"
)

// memChallenges is an in-memory Challenges with the store's semantics.
type memChallenges struct {
	mu    sync.Mutex
	m     map[string]store.Challenge
	block bool // every call waits for its context, then fails
	// With track set, calls records, per call, the time its context had
	// left when the call began (-1 without a deadline).
	track bool
	calls []time.Duration
}

func newMem() *memChallenges { return &memChallenges{m: map[string]store.Challenge{}} }

// timeLeft is what ctx has left, or -1 without a deadline.
func timeLeft(ctx context.Context) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return -1
	}
	return time.Until(dl)
}

func (f *memChallenges) record(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.track {
		f.calls = append(f.calls, timeLeft(ctx))
	}
}

func (f *memChallenges) wait(ctx context.Context) error {
	f.record(ctx)
	if !f.block {
		return nil
	}
	<-ctx.Done()
	return errors.Join(store.ErrUnavailable, ctx.Err())
}

func (f *memChallenges) IssueChallenge(ctx context.Context, c *store.Challenge, min time.Duration, b store.AttemptBudget) (*store.Challenge, bool, error) {
	if err := f.wait(ctx); err != nil {
		return nil, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.m[c.Key]
	inWindow := ok && c.SentAt.Before(cur.WindowStart.Add(b.Window))
	if inWindow && cur.WindowAttempts >= b.Attempts && !cur.SentAt.IsZero() && c.SentAt.Sub(cur.SentAt) < max(b.SlowInterval, min) {
		return &cur, false, store.ErrSlowed
	}
	if ok && cur.Live(c.SentAt) && c.SentAt.Sub(cur.SentAt) < min {
		return &cur, false, nil
	}
	n := *c
	n.Attempts, n.UsedAt = 0, time.Time{}
	n.WindowStart, n.WindowAttempts = c.SentAt, 0
	if inWindow {
		n.WindowStart, n.WindowAttempts = cur.WindowStart, cur.WindowAttempts
	}
	f.m[c.Key] = n
	return &n, true, nil
}

func (f *memChallenges) GetChallenge(ctx context.Context, k string) (*store.Challenge, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.m[k]
	if !ok || c.ID == "" {
		return nil, store.ErrNotFound
	}
	return &c, nil
}

func (f *memChallenges) AttemptChallenge(ctx context.Context, k, id string, now time.Time, b store.AttemptBudget) (*store.Challenge, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.m[k]
	if !ok || c.ID != id || !c.Live(now) || c.Attempts >= c.MaxAttempts {
		return nil, store.ErrConflict
	}
	c.Attempts++
	c.WindowAttempts++
	f.m[k] = c
	return &c, nil
}

func (f *memChallenges) UseChallenge(ctx context.Context, k, id string, now time.Time) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.m[k]
	if !ok || c.ID != id || !c.Live(now) {
		return store.ErrConflict
	}
	c.UsedAt = now
	f.m[k] = c
	return nil
}

func (f *memChallenges) DeleteChallenge(ctx context.Context, k, id string) error {
	f.record(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.m[k]; ok && c.ID == id {
		delete(f.m, k)
		if c.WindowAttempts > 0 {
			// Attempts counted in the window stay, as in the store.
			f.m[k] = store.Challenge{Key: k, WindowStart: c.WindowStart, WindowAttempts: c.WindowAttempts}
		}
	}
	return nil
}

// memMail records messages.
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

// stuckMail waits for its context, records what it had left, and fails.
type stuckMail struct {
	mu   sync.Mutex
	left []time.Duration
}

func (m *stuckMail) Send(ctx context.Context, _ mail.Message) (string, error) {
	left := timeLeft(ctx)
	<-ctx.Done()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.left = append(m.left, left)
	return "", fmt.Errorf("%w: %w", mail.ErrUnavailable, ctx.Err())
}

// discardMail accepts and forgets messages.
type discardMail struct{}

func (discardMail) Send(context.Context, mail.Message) (string, error) { return "id", nil }

func testConfig() Config {
	return Config{CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 3, LinkBaseURL: "https://app.example/signin",
		MinInterval: time.Minute, LockoutAttempts: 10, LockoutWindow: time.Hour, SlowInterval: 15 * time.Minute, RequireVerifiedEmail: true}
}

func knownAttrs() map[string]string {
	return map[string]string{"sub": "sub-1", "email": "ada@example.com", "email_verified": "true"}
}

// mailedCode is the six-digit code in the text of a sign-in mail.
func mailedCode(text string) string {
	i := strings.Index(text, ": ")
	return text[i+2 : i+8]
}

// adaStarts is the create event of the known user ada's first round.
func adaStarts() CreateEvent {
	var ev CreateEvent
	ev.TriggerSource = SourceCreate
	ev.UserName = "ada"
	ev.Request.UserAttributes = knownAttrs()
	ev.Request.Session = []*cr{start()}
	return ev
}

// Every store call runs under the invocation's budget, so a store that
// does not answer becomes a clear trigger error, not a Cognito timeout.
func TestBudgetBoundsSlowStore(t *testing.T) {
	k := testKeys(t)
	mem := newMem()
	mem.block, mem.track = true, true
	set, _ := templates.Load(nil, "en")
	const budget = 150 * time.Millisecond
	opts := Options{Budget: budget}
	c := NewCreate(testConfig(), k, mem, &memMail{}, set, "Acme", opts)
	v := NewVerify(testConfig(), k, mem, opts)
	ev := adaStarts()
	if _, err := c.Handle(context.Background(), ev); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("create: %v", err)
	}
	ev.Request.Session = []*cr{start(), answer(false)}
	if _, err := c.Handle(context.Background(), ev); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("create, retry round: %v", err)
	}
	var vev VerifyEvent
	vev.TriggerSource = SourceVerify
	vev.UserName = "ada"
	vev.Request.UserAttributes = knownAttrs()
	vev.Request.PrivateChallengeParameters = map[string]string{paramStep: stepAnswer, paramCID: "abcdefghijkl"}
	vev.Request.ChallengeAnswer = "123456"
	out, err := v.Handle(context.Background(), vev)
	if !errors.Is(err, ErrUnavailable) || out.Response.AnswerCorrect {
		t.Fatalf("verify: %+v %v", out.Response, err)
	}
	if len(mem.calls) != 3 {
		t.Fatalf("%d store calls, want 3", len(mem.calls))
	}
	for i, left := range mem.calls {
		if left < 0 || left > budget {
			t.Errorf("store call %d: %s left, want a deadline within the %s budget", i, left, budget)
		}
	}
}

// A mail that does not go out in time leaves part of the budget to drop the
// unsent challenge, so the next sign-in can mail again.
func TestBudgetReservesTimeToDrop(t *testing.T) {
	mem := newMem()
	mem.track = true
	set, _ := templates.Load(nil, "en")
	const budget = 200 * time.Millisecond
	sender := &stuckMail{}
	c := NewCreate(testConfig(), testKeys(t), mem, sender, set, "Acme", Options{Budget: budget})
	ev := adaStarts()
	if _, err := c.Handle(context.Background(), ev); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("create: %v", err)
	}
	if len(sender.left) != 1 || sender.left[0] < 0 || sender.left[0] > budget-cleanupReserve(budget) {
		t.Fatalf("mail had %v left, want at most %s", sender.left, budget-cleanupReserve(budget))
	}
	// Issue, then drop: both under the invocation's deadline.
	if len(mem.calls) != 2 {
		t.Fatalf("%d store calls, want 2", len(mem.calls))
	}
	for i, left := range mem.calls {
		if left < 0 || left > budget {
			t.Errorf("store call %d: %s left, want a deadline within the %s budget", i, left, budget)
		}
	}
	if len(mem.m) != 0 {
		t.Fatalf("unsent challenge kept: %+v", mem.m)
	}
}

// FuzzVerify: whatever the event, verify says yes only to the live code or
// the live link of the user's challenge.
func FuzzVerify(f *testing.F) {
	k := testKeys(f)
	mem := newMem()
	set, _ := templates.Load(nil, "en")
	sender := &memMail{}
	now := time.Unix(1_800_000_000, 0)
	opts := Options{Now: func() time.Time { return now }}
	cfg := testConfig()
	create := NewCreate(cfg, k, mem, sender, set, "Acme", opts)
	cev := adaStarts()
	cev.UserPoolID = "pool"
	out, err := create.Handle(context.Background(), cev)
	if err != nil || len(sender.sent) != 1 {
		f.Fatal(err)
	}
	cid := out.Response.PrivateChallengeParameters[paramCID]
	text := sender.sent[0].Text
	code := mailedCode(text)
	tok := text[strings.Index(text, "#token=")+7:]
	tok = tok[:strings.IndexAny(tok, "\n")]

	mk := func(answer any, priv map[string]string, notFound bool) []byte {
		var ev VerifyEvent
		ev.TriggerSource = SourceVerify
		ev.UserPoolID, ev.UserName = "pool", "ada"
		ev.Request.UserAttributes = knownAttrs()
		ev.Request.PrivateChallengeParameters = priv
		ev.Request.ChallengeAnswer = answer
		ev.Request.UserNotFound = notFound
		b, _ := json.Marshal(ev)
		return b
	}
	p := map[string]string{paramStep: stepAnswer, paramCID: cid}
	f.Add(mk(code, p, false))
	f.Add(mk(tok, p, false))
	f.Add(mk(code, p, true))
	f.Add(mk(tok, map[string]string{paramStep: stepStart}, false))
	f.Add(mk(42, p, false))
	f.Add(mk("999999", p, false))
	f.Add([]byte(`{"request":{"challengeAnswer":{"a":1},"privateChallengeParameters":null}}`))
	h := lambda.NewHandler(NewVerify(cfg, k, mem, opts).Handle)
	f.Fuzz(func(t *testing.T, in []byte) {
		// Each input sees a fresh, unused, unattempted challenge.
		mem.mu.Lock()
		for key, c := range mem.m {
			c.Attempts, c.WindowAttempts, c.UsedAt = 0, 0, time.Time{}
			mem.m[key] = c
		}
		mem.mu.Unlock()
		var ev VerifyEvent
		ev.TriggerSource = SourceVerify
		if !answered(t, h, in, &ev) {
			return
		}
		if !ev.Response.AnswerCorrect {
			return
		}
		a, _ := ev.Request.ChallengeAnswer.(string)
		a = strings.TrimSpace(a)
		if ev.Request.UserNotFound || ev.UserName != "ada" || ev.Request.PrivateChallengeParameters[paramCID] != cid || (a != code && a != tok) {
			t.Fatalf("accepted %s", in)
		}
	})
}

// answered invokes h on in, as the Lambda runtime does, and decodes its
// answer into ev; false when the handler refused the input.
func answered(t *testing.T, h lambda.Handler, in []byte, ev any) bool {
	t.Helper()
	out, err := h.Invoke(context.Background(), in)
	if err != nil {
		return false
	}
	if err := json.Unmarshal(out, ev); err != nil {
		t.Fatal(err)
	}
	return true
}

// FuzzCreate: whatever the event, create answers a well-formed round and
// mails only a known user with a verified address, only in the first
// answer round.
func FuzzCreate(f *testing.F) {
	set, _ := templates.Load(nil, "en")
	mem := newMem()
	sender := &memMail{}
	h := lambda.NewHandler(NewCreate(testConfig(), testKeys(f), mem, sender, set, "Acme", Options{}).Handle)
	f.Add([]byte(`{"userName":"ada","request":{"userAttributes":{"sub":"s","email":"ada@example.com","email_verified":"true"},"session":[{"challengeName":"CUSTOM_CHALLENGE","challengeMetadata":"START"}]}}`))
	f.Add([]byte(`{"userName":"ada","request":{"session":[]}}`))
	f.Add([]byte(`{"userName":"x","request":{"userNotFound":true,"userAttributes":{"sub":"s","email":"x@y.z","email_verified":"true"},"session":[null],"clientMetadata":{"signInMethod":"link","locale":"de"}}}`))
	f.Add([]byte(`{"request":{"userAttributes":{"sub":"s","email":"Ada <a@b.c>","email_verified":"true"},"session":[{},{}]}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		sender.mu.Lock()
		before := len(sender.sent)
		sender.mu.Unlock()
		var ev CreateEvent
		ev.TriggerSource = SourceCreate
		if !answered(t, h, in, &ev) {
			return
		}
		r := ev.Response
		if r.ChallengeMetadata != StepStart && r.ChallengeMetadata != StepAnswer {
			t.Fatalf("metadata %q", r.ChallengeMetadata)
		}
		if r.PublicChallengeParameters[paramCID] != "" {
			t.Fatal("challenge id leaked to the client")
		}
		sender.mu.Lock()
		sent := len(sender.sent) - before
		sender.mu.Unlock()
		if sent == 0 {
			return
		}
		a := ev.Request.UserAttributes
		if sent != 1 || ev.Request.UserNotFound || a["sub"] == "" || a["email_verified"] != "true" ||
			len(ev.Request.Session) != 1 || ev.Request.ClientMetadata[MethodKey] == MethodLink {
			t.Fatalf("mailed for %s", in)
		}
	})
}
