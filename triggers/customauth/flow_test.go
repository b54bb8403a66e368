package customauth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/authflow"
	"github.com/shortfuse/shortfuse/internal/dev/lambdahost"
	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testclock"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/mail"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/triggers/customauth"
	"github.com/shortfuse/shortfuse/triggers/templates"
)

// One dynalite and one SES emulator serve the package; each test gets its
// own table and its own mail addresses.
var (
	envOnce sync.Once
	envDB   *testenv.Dynamo
	envSES  *testenv.SES
	envErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if envDB != nil {
		_ = envDB.Close()
	}
	if envSES != nil {
		_ = envSES.Stop()
	}
	os.Exit(code)
}

func emulators(t testing.TB) (*testenv.Dynamo, *testenv.SES) {
	t.Helper()
	envOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if envDB, envErr = testenv.StartDynalite(ctx); envErr != nil {
			return
		}
		envSES, envErr = testenv.StartSESLocal(ctx)
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
	return envDB, envSES
}

// newClock returns the settable clock a rig's store and triggers share.
func newClock() *testclock.Clock { return testclock.New(time.Now().Truncate(time.Second)) }

type rig struct {
	pool  *authflow.Pool
	ses   *testenv.SES
	store *store.Store
	clock *testclock.Clock
	cfg   customauth.Config
	logs  *testenv.Buffer
}

const linkBase = "https://app.example.test/signin"

func newRig(t testing.TB, sender mail.Sender) *rig {
	t.Helper()
	return newRigWith(t, sender, nil)
}

// rigBase returns what the rigs' triggers share: the English templates,
// fresh keys and the base configuration.
func rigBase(tb testing.TB) (*templates.Set, *customauth.Keys, customauth.Config) {
	tb.Helper()
	set, err := templates.Load(nil, "en")
	if err != nil {
		tb.Fatal(err)
	}
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	keys, err := customauth.NewKeys(master)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := customauth.Config{CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 3, LinkBaseURL: linkBase,
		MinInterval: time.Minute, LockoutAttempts: 10, LockoutWindow: time.Hour, SlowInterval: 15 * time.Minute, RequireVerifiedEmail: true}
	return set, keys, cfg
}

// newRigWith is newRig with the configuration changed by edit (when not
// nil); the triggers log as JSON to the rig's logs.
func newRigWith(t testing.TB, sender mail.Sender, edit func(*customauth.Config)) *rig {
	t.Helper()
	db, ses := emulators(t)
	table := storetest.NewTable(t, db)
	c := newClock()
	st := store.New(db.Client, table, store.WithClock(c.Now))
	if sender == nil {
		s, err := mail.NewSES(ses.Client, "Acme <no-reply@acme.test>")
		if err != nil {
			t.Fatal(err)
		}
		sender = s
	}
	set, keys, cfg := rigBase(t)
	if edit != nil {
		edit(&cfg)
	}
	logs := &testenv.Buffer{}
	opts := customauth.Options{Now: c.Now}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	pool := authflow.NewPool("us-east-1_TEST", "client-1", authflow.Triggers{
		Define: lambdahost.ConcurrentHandler(customauth.NewDefine(cfg).Handle),
		Create: lambdahost.ConcurrentHandler(customauth.NewCreate(cfg, keys, st, sender, set, "Acme", opts).Handle),
		Verify: lambdahost.ConcurrentHandler(customauth.NewVerify(cfg, keys, st, opts).Handle),
	})
	return &rig{pool: pool, ses: ses, store: st, clock: c, cfg: cfg, logs: logs}
}

var userSeq atomic.Int64

// addUser adds a verified user with a fresh address.
func (r *rig) addUser(verified bool) authflow.User {
	n := userSeq.Add(1)
	u := authflow.User{
		Username: fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		Attributes: map[string]string{
			"sub":            fmt.Sprintf("sub-%d-%d", n, time.Now().UnixNano()),
			"email":          fmt.Sprintf("user%d-%d@example.test", n, time.Now().UnixNano()),
			"email_verified": fmt.Sprint(verified),
			"given_name":     "Ada",
		},
	}
	r.pool.AddUser(u)
	return u
}

// start runs the START round and asks for a code or a link session.
func (r *rig) start(t *testing.T, username, method string) *authflow.Result {
	t.Helper()
	ctx := context.Background()
	res, err := r.pool.InitiateAuth(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	if res.ChallengeName != "CUSTOM_CHALLENGE" || res.Parameters["step"] != "start" {
		t.Fatalf("initiate: %+v", res)
	}
	res, err = r.pool.RespondToAuthChallenge(ctx, res.Session, "start", map[string]string{customauth.MethodKey: method})
	if err != nil {
		t.Fatal(err)
	}
	if res.Parameters["step"] != "answer" {
		t.Fatalf("after start: %+v", res)
	}
	return res
}

var (
	codeRE = regexp.MustCompile(`: (\d{6})\n`)
	linkRE = regexp.MustCompile(`https://\S+#token=\S+`)
)

// mailTo waits for the newest mail to addr and returns its code and link.
func (r *rig) mailTo(t *testing.T, addr string) (code, link string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := r.ses.WaitForMail(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	c := codeRE.FindStringSubmatch(m.Text)
	l := linkRE.FindString(m.Text)
	if c == nil || l == "" || !strings.Contains(m.HTML, c[1]) || !strings.Contains(m.HTML, l) {
		t.Fatalf("mail without code or link: %q", m.Text)
	}
	if m.From != "Acme <no-reply@acme.test>" && m.From != "no-reply@acme.test" && !strings.Contains(m.From, "no-reply@acme.test") {
		t.Fatalf("from %q", m.From)
	}
	return c[1], l
}

func (r *rig) mailCount(t *testing.T, addr string) int {
	t.Helper()
	mails, err := r.ses.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range mails {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				n++
			}
		}
	}
	return n
}

func (r *rig) respond(t *testing.T, res *authflow.Result, answer string) (*authflow.Result, error) {
	t.Helper()
	return r.pool.RespondToAuthChallenge(context.Background(), res.Session, answer, nil)
}

func wrong(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestCodeAccepted(t *testing.T) {
	r := newRig(t, nil)
	u := r.addUser(true)
	// Sign in with the email alias, as users do.
	res := r.start(t, u.Attributes["email"], customauth.MethodCode)
	if res.Parameters["delivery"] != "EMAIL" || res.Parameters["codeLength"] != "6" {
		t.Fatalf("parameters %v", res.Parameters)
	}
	code, _ := r.mailTo(t, u.Attributes["email"])
	out, err := r.respond(t, res, " "+code+" ")
	if err != nil || !out.Authenticated {
		t.Fatalf("correct code: %+v %v", out, err)
	}
	// The code is single-use.
	res = r.start(t, u.Username, customauth.MethodCode)
	if out, err := r.respond(t, res, code); err != nil || out.Authenticated {
		t.Fatalf("reused code: %+v %v", out, err)
	}
}

func TestThreeWrongCodesFail(t *testing.T) {
	r := newRig(t, nil)
	u := r.addUser(true)
	res := r.start(t, u.Username, customauth.MethodCode)
	code, _ := r.mailTo(t, u.Attributes["email"])
	for i := 1; i <= 2; i++ {
		next, err := r.respond(t, res, wrong(code))
		if err != nil || next.Authenticated || next.ChallengeName != "CUSTOM_CHALLENGE" {
			t.Fatalf("wrong %d: %+v %v", i, next, err)
		}
		res = next
	}
	if _, err := r.respond(t, res, wrong(code)); !errors.Is(err, authflow.ErrNotAuthorized) {
		t.Fatalf("third wrong code: %v", err)
	}
	// The code spent its attempts: a new session (within the interval, so no
	// new mail) cannot use it either.
	res = r.start(t, u.Username, customauth.MethodCode)
	if out, err := r.respond(t, res, code); err != nil || out.Authenticated {
		t.Fatalf("code after lockout: %+v %v", out, err)
	}
	if n := r.mailCount(t, u.Attributes["email"]); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
}

func TestRetryKeepsCode(t *testing.T) {
	r := newRig(t, nil)
	u := r.addUser(true)
	res := r.start(t, u.Username, customauth.MethodCode)
	code, _ := r.mailTo(t, u.Attributes["email"])
	// A retry after a wrong answer mails nothing, even past the interval,
	// and the code in hand still works.
	r.clock.Add(2 * r.cfg.MinInterval)
	next, err := r.respond(t, res, wrong(code))
	if err != nil || next.Authenticated {
		t.Fatalf("wrong: %+v %v", next, err)
	}
	if out, err := r.respond(t, next, code); err != nil || !out.Authenticated {
		t.Fatalf("right code on retry: %+v %v", out, err)
	}
	if n := r.mailCount(t, u.Attributes["email"]); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
}

func TestExpiredCodeRefused(t *testing.T) {
	r := newRig(t, nil)
	u := r.addUser(true)
	res := r.start(t, u.Username, customauth.MethodCode)
	code, link := r.mailTo(t, u.Attributes["email"])
	r.clock.Add(r.cfg.CodeTTL)
	if out, err := r.respond(t, res, code); err != nil || out.Authenticated {
		t.Fatalf("expired code: %+v %v", out, err)
	}
	tok, _ := customauth.TokenFromLink(link)
	res = r.start(t, u.Username, customauth.MethodLink)
	if out, err := r.respond(t, res, tok); err != nil || out.Authenticated {
		t.Fatalf("expired link: %+v %v", out, err)
	}
}

func TestMagicLinkOnce(t *testing.T) {
	r := newRig(t, nil)
	u := r.addUser(true)
	r.start(t, u.Username, customauth.MethodCode) // the mail goes out here
	_, link := r.mailTo(t, u.Attributes["email"])
	if !strings.HasPrefix(link, linkBase+"#token=") {
		t.Fatalf("link %q", link)
	}
	tok, _ := customauth.TokenFromLink(link)
	name, ok := customauth.LinkUser(tok)
	if !ok || name != u.Username {
		t.Fatalf("LinkUser = %q", name)
	}
	// The page the link opens starts its own sign-in, as a link session.
	res := r.start(t, name, customauth.MethodLink)
	out, err := r.respond(t, res, tok)
	if err != nil || !out.Authenticated {
		t.Fatalf("link: %+v %v", out, err)
	}
	res = r.start(t, name, customauth.MethodLink)
	if out, err := r.respond(t, res, tok); err != nil || out.Authenticated {
		t.Fatalf("link used twice: %+v %v", out, err)
	}
	if n := r.mailCount(t, u.Attributes["email"]); n != 1 {
		t.Fatalf("link sessions sent mail: %d mails", n)
	}
}

func TestMagicLinkConcurrent(t *testing.T) {
	r := newRig(t, nil)
	u := r.addUser(true)
	r.start(t, u.Username, customauth.MethodCode)
	_, link := r.mailTo(t, u.Attributes["email"])
	tok, _ := customauth.TokenFromLink(link)
	const n = 10
	sessions := make([]*authflow.Result, n)
	for i := range sessions {
		sessions[i] = r.start(t, u.Username, customauth.MethodLink)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for _, res := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := r.pool.RespondToAuthChallenge(context.Background(), res.Session, tok, nil)
			if err != nil {
				t.Error(err)
				return
			}
			if out.Authenticated {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent uses of one link succeeded", wins.Load())
	}
}

func TestOneLiveLinkAndPacing(t *testing.T) {
	r := newRig(t, nil)
	u := r.addUser(true)
	addr := u.Attributes["email"]
	first := r.start(t, u.Username, customauth.MethodCode)
	code1, link1 := r.mailTo(t, addr)

	// Within the interval a new sign-in sends nothing and uses the live code.
	r.clock.Add(30 * time.Second)
	second := r.start(t, u.Username, customauth.MethodCode)
	if n := r.mailCount(t, addr); n != 1 {
		t.Fatalf("%d mails within the interval", n)
	}
	if out, err := r.respond(t, second, code1); err != nil || !out.Authenticated {
		t.Fatalf("live code in a second session: %+v %v", out, err)
	}

	// After the interval a new mail replaces code and link.
	r.clock.Add(time.Minute)
	third := r.start(t, u.Username, customauth.MethodCode)
	// SES accepted the mail before create answered.
	if n := r.mailCount(t, addr); n != 2 {
		t.Fatalf("%d mails after the interval, want 2", n)
	}
	code2, link2 := r.mailTo(t, addr)
	if code2 == code1 && link2 == link1 {
		t.Fatal("no new mail after the interval")
	}
	tok1, _ := customauth.TokenFromLink(link1)
	res := r.start(t, u.Username, customauth.MethodLink)
	if out, err := r.respond(t, res, tok1); err != nil || out.Authenticated {
		t.Fatalf("replaced link accepted: %+v %v", out, err)
	}
	// The first session's challenge was replaced too.
	if out, err := r.respond(t, first, code2); err == nil && out.Authenticated {
		t.Fatal("old session accepted the new code")
	}
	if out, err := r.respond(t, third, code2); err != nil || !out.Authenticated {
		t.Fatalf("new code: %+v %v", out, err)
	}
}

// shape is what a client can observe of one step.
func shape(res *authflow.Result, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%s %v %v", res.ChallengeName, res.Parameters, res.Authenticated)
}

func TestUnknownUserSameShape(t *testing.T) {
	r := newRig(t, nil)
	known := r.addUser(true)
	unverified := r.addUser(false)
	unknown := fmt.Sprintf("nobody-%d@example.test", time.Now().UnixNano())

	run := func(username string) []string {
		ctx := context.Background()
		var steps []string
		res, err := r.pool.InitiateAuth(ctx, username)
		steps = append(steps, shape(res, err))
		res, err = r.pool.RespondToAuthChallenge(ctx, res.Session, "start", map[string]string{customauth.MethodKey: customauth.MethodCode})
		steps = append(steps, shape(res, err))
		for _, a := range []string{"000000", "not-a-code", "abc.def"} {
			next, err := r.pool.RespondToAuthChallenge(ctx, res.Session, a, nil)
			steps = append(steps, shape(next, err))
			if err != nil {
				break
			}
			res = next
		}
		return steps
	}
	want := run(known.Attributes["email"])
	for _, who := range []string{unknown, unverified.Attributes["email"]} {
		got := run(who)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s\nknown user:\n%s", who, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if n := r.mailCount(t, who); n != 0 {
			t.Errorf("%d mails to %s", n, who)
		}
	}
	if !strings.HasPrefix(want[len(want)-1], "error: NotAuthorizedException") {
		t.Fatalf("known user with wrong answers: %v", want)
	}
	// Without PreventUserExistenceErrors Cognito itself answers for unknown users.
	r.pool.PreventUserExistenceErrors = false
	if _, err := r.pool.InitiateAuth(context.Background(), unknown); !errors.Is(err, authflow.ErrUserNotFound) {
		t.Fatalf("unknown user without prevention: %v", err)
	}
}

// startShape runs InitiateAuth and the START round as a code session and
// returns what the client saw of both, and the session to answer.
func (r *rig) startShape(t *testing.T, username string) ([]string, *authflow.Result) {
	t.Helper()
	ctx := context.Background()
	res, err := r.pool.InitiateAuth(ctx, username)
	steps := []string{shape(res, err)}
	if err != nil {
		t.Fatal(err)
	}
	res, err = r.pool.RespondToAuthChallenge(ctx, res.Session, "start", map[string]string{customauth.MethodKey: customauth.MethodCode})
	steps = append(steps, shape(res, err))
	if err != nil {
		t.Fatal(err)
	}
	return steps, res
}

// A stranger who knows a username spends the attempt ceiling over several
// codes. Nothing is refused to the owner: a live code the stranger did not
// exhaust still signs in, the magic link in the newest mail always does,
// and new codes only come more slowly until the window has passed. A
// slowed sign-in looks exactly like one the pacing holds back.
func TestStrangerCannotLockOutOwner(t *testing.T) {
	r := newRigWith(t, nil, func(c *customauth.Config) { c.LockoutAttempts = 5 })
	u := r.addUser(true)
	addr := u.Attributes["email"]
	spent := time.Duration(0)
	advance := func(d time.Duration) { r.clock.Add(d); spent += d }

	// The stranger's first sign-in mails the owner code 1; three wrong
	// answers end it (3 counted).
	res := r.start(t, u.Username, customauth.MethodCode)
	code1, _ := r.mailTo(t, addr)
	for i := 1; i <= 3; i++ {
		next, err := r.respond(t, res, wrong(code1))
		if i == 3 {
			if !errors.Is(err, authflow.ErrNotAuthorized) {
				t.Fatalf("third wrong code: %v", err)
			}
			break
		}
		if err != nil || next.Authenticated {
			t.Fatalf("wrong %d: %+v %v", i, next, err)
		}
		res = next
	}

	// A second code after the interval; a sign-in within the interval is
	// held back by the pacing.
	advance(r.cfg.MinInterval)
	res = r.start(t, u.Username, customauth.MethodCode)
	code2, _ := r.mailTo(t, addr)
	paced, ownerRes := r.startShape(t, u.Username)
	// Two wrong answers reach the ceiling of 5.
	for i := 1; i <= 2; i++ {
		next, err := r.respond(t, res, wrong(code2))
		if err != nil || next.Authenticated {
			t.Fatalf("wrong %d on the second code: %+v %v", i, next, err)
		}
		res = next
	}
	// The owner, in their own session, answers code 2: it has one attempt
	// left, and the ceiling refuses nothing.
	if out, err := r.respond(t, ownerRes, code2); err != nil || !out.Authenticated {
		t.Fatalf("owner's right code past the ceiling: %+v %v", out, err)
	}

	// Past the interval, a new sign-in mails nothing (slowed) and answers
	// as the paced one did.
	advance(r.cfg.MinInterval)
	slowed, _ := r.startShape(t, u.Username)
	if strings.Join(slowed, "\n") != strings.Join(paced, "\n") {
		t.Fatalf("slowed sign-in:\n%s\npaced sign-in:\n%s", strings.Join(slowed, "\n"), strings.Join(paced, "\n"))
	}
	if n := r.mailCount(t, addr); n != 2 {
		t.Fatalf("%d mails while slowed, want 2", n)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, `"event":"signin_slowed"`) || !strings.Contains(logs, `"user_key":"`) {
		t.Fatalf("no signin_slowed event in the log:\n%s", logs)
	}
	for _, c := range []string{code1, code2} {
		if strings.Contains(logs, c) {
			t.Fatalf("a code reached the log:\n%s", logs)
		}
	}

	// The slow interval after code 2, the next sign-in mails code 3. The
	// stranger exhausts it at once; the owner still signs in with the magic
	// link of that mail.
	advance(r.cfg.SlowInterval - r.cfg.MinInterval)
	res = r.start(t, u.Username, customauth.MethodCode)
	code3, link3 := r.mailTo(t, addr)
	for i := 1; i <= 3; i++ {
		next, err := r.respond(t, res, wrong(code3))
		if i == 3 {
			if !errors.Is(err, authflow.ErrNotAuthorized) {
				t.Fatalf("third wrong answer on code 3: %v", err)
			}
			break
		}
		res = next
	}
	tok, _ := customauth.TokenFromLink(link3)
	linkRes := r.start(t, u.Username, customauth.MethodLink)
	if out, err := r.respond(t, linkRes, tok); err != nil || !out.Authenticated {
		t.Fatalf("owner's magic link with the ceiling reached: %+v %v", out, err)
	}

	// Once the window has passed, the usual pacing is back.
	advance(r.cfg.LockoutWindow - spent)
	res = r.start(t, u.Username, customauth.MethodCode)
	code4, _ := r.mailTo(t, addr)
	if out, err := r.respond(t, res, code4); err != nil || !out.Authenticated {
		t.Fatalf("new code after the window: %+v %v", out, err)
	}
}

// failingSender fails every send.
type failingSender struct{ calls atomic.Int32 }

func (f *failingSender) Send(context.Context, mail.Message) (string, error) {
	f.calls.Add(1)
	return "", fmt.Errorf("%w: throttled", mail.ErrUnavailable)
}

func TestMailFailureIsClearAndRetryable(t *testing.T) {
	fs := &failingSender{}
	r := newRig(t, fs)
	u := r.addUser(true)
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		res, err := r.pool.InitiateAuth(ctx, u.Username)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.pool.RespondToAuthChallenge(ctx, res.Session, "start", map[string]string{customauth.MethodKey: customauth.MethodCode})
		var le *authflow.LambdaError
		if !errors.As(err, &le) || le.Trigger != "CreateAuthChallenge" || !strings.Contains(err.Error(), "temporarily unavailable") {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// The unsent challenge was dropped, so the retry tried to mail again
	// instead of waiting out the interval.
	if fs.calls.Load() != 2 {
		t.Fatalf("%d sends, want 2", fs.calls.Load())
	}
}

// capture is an in-memory sender that keeps the last code per address.
type capture struct {
	mu    sync.Mutex
	codes map[string]string
}

func (c *capture) Send(_ context.Context, m mail.Message) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.codes[m.To] = codeRE.FindStringSubmatch(m.Text)[1]
	return "id", nil
}

// BenchmarkSignInLoop is one whole passwordless sign-in (define, create,
// verify, define twice more) with the store on dynalite and mail in
// memory: what a user's code sign-in costs the triggers, I/O included.
func BenchmarkSignInLoop(b *testing.B) {
	sender := &capture{codes: map[string]string{}}
	r := newRig(b, sender)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		u := r.addUser(true)
		res, err := r.pool.InitiateAuth(ctx, u.Username)
		if err != nil {
			b.Fatal(err)
		}
		res, err = r.pool.RespondToAuthChallenge(ctx, res.Session, "start", map[string]string{customauth.MethodKey: customauth.MethodCode})
		if err != nil {
			b.Fatal(err)
		}
		sender.mu.Lock()
		code := sender.codes[u.Attributes["email"]]
		sender.mu.Unlock()
		out, err := r.pool.RespondToAuthChallenge(ctx, res.Session, code, nil)
		if err != nil || !out.Authenticated {
			b.Fatalf("%+v %v", out, err)
		}
	}
}
