package triggers_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/shortfuse/shortfuse/internal/dev/lambdahost"
	"github.com/shortfuse/shortfuse/internal/dev/localmail"
	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/mail"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/triggers/custommessage"
	"github.com/shortfuse/shortfuse/triggers/presignup"
)

// stack is cognito-local calling the triggers through the dev Lambda host,
// with dynalite behind the invite store and the SES emulator receiving mail.
type stack struct {
	cognito *testenv.Cognito
	ses     *testenv.SES
	store   *store.Store
	// messageRefusals counts the errors the custom message trigger
	// returned. cognito-local logs them and carries on (Cognito fails the
	// request), so tests read the refusals here.
	messageRefusals *atomic.Int32
}

const password = "Correct-Horse-9!"

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	db := testenv.Dynalite(t)
	ses := testenv.SESLocal(t)
	storetest.CreateTable(t, db, "shortfuse")
	log := slog.New(slog.DiscardHandler)

	pre, err := presignup.FromEnv(ctx, config.FromMap(map[string]string{
		"SHORTFUSE_TABLE":                      "shortfuse",
		"SHORTFUSE_DYNAMODB_ENDPOINT":          db.Endpoint,
		"SHORTFUSE_AWS_REGION":                 testenv.Region,
		"SHORTFUSE_DYNAMODB_TIMEOUT":           "3s",          // dynalite answers one request at a time
		"SHORTFUSE_SIGNUP_DENIED_DOMAINS":      "denied.test", // and its subdomains
		"SHORTFUSE_SIGNUP_AUTOCONFIRM_DOMAINS": "trusted.test",
	}), log)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := custommessage.FromEnv(config.FromMap(map[string]string{
		"SHORTFUSE_MESSAGE_APP_NAME":      "Acme",
		"SHORTFUSE_SIGNUP_DENIED_DOMAINS": "denied.test",
	}), log)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mail.NewSES(ses.Client, "Acme <no-reply@acme.test>")
	if err != nil {
		t.Fatal(err)
	}
	refusals := &atomic.Int32{}
	countRefusals := func(ctx context.Context, ev custommessage.Event) (custommessage.Event, error) {
		out, err := msg.Handle(ctx, ev)
		if err != nil {
			refusals.Add(1)
		}
		return out, err
	}
	dataDir := t.TempDir()
	relay := localmail.New(dataDir, sender, log)
	t.Cleanup(relay.Close)

	host := httptest.NewServer(lambdahost.New(map[string]lambda.Handler{
		"presignup":     lambdahost.ConcurrentHandler(pre.Handle),
		"custommessage": lambdahost.ConcurrentHandler(relay.Wrap(countRefusals)),
	}))
	t.Cleanup(host.Close)
	c := testenv.CognitoLocal(t, testenv.CognitoOptions{
		LambdaEndpoint: host.URL,
		Triggers:       map[string]string{"PreSignUp": "presignup", "CustomMessage": "custommessage"},
	}, testenv.WithDataDir(dataDir))
	// Cognito mails a confirmation code only when the pool verifies email.
	if _, err := c.Client.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{
		UserPoolId:             aws.String(c.UserPoolID),
		AutoVerifiedAttributes: []ciptypes.VerifiedAttributeType{ciptypes.VerifiedAttributeTypeEmail},
	}); err != nil {
		t.Fatal(err)
	}
	return &stack{cognito: c, ses: ses, store: store.New(db.Client, "shortfuse"), messageRefusals: refusals}
}

func (s *stack) signUp(ctx context.Context, email string, attrs, meta map[string]string) (*cip.SignUpOutput, error) {
	in := &cip.SignUpInput{
		ClientId:       aws.String(s.cognito.ClientID),
		Username:       aws.String(email),
		Password:       aws.String(password),
		ClientMetadata: meta,
	}
	for k, v := range attrs {
		in.UserAttributes = append(in.UserAttributes, ciptypes.AttributeType{Name: aws.String(k), Value: aws.String(v)})
	}
	return s.cognito.Client.SignUp(ctx, in)
}

var codeRE = regexp.MustCompile(`>(\d{6})<`)

func (s *stack) codeMailedTo(t *testing.T, addr, subject string) (string, testenv.Mail) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		m, err := s.ses.WaitForMail(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject == subject {
			c := codeRE.FindStringSubmatch(m.HTML)
			if c == nil || strings.Contains(m.HTML, "{####}") {
				t.Fatalf("mail without a filled-in code: %s", m.HTML)
			}
			return c[1], m
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no mail %q to %s; newest: %q", subject, addr, m.Subject)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestCognitoLocal(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()

	t.Run("allowed domain is auto-confirmed", func(t *testing.T) {
		out, err := s.signUp(ctx, "alice@trusted.test", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !out.UserConfirmed {
			t.Fatal("user not confirmed")
		}
		u, err := s.cognito.Client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(s.cognito.UserPoolID), Username: aws.String("alice@trusted.test")})
		if err != nil || u.UserStatus != ciptypes.UserStatusTypeConfirmed {
			t.Fatalf("status %v %v", u, err)
		}
		if _, err := s.cognito.Login(ctx, "alice@trusted.test", password); err != nil {
			t.Fatalf("login: %v", err)
		}
	})

	t.Run("denied domain sees the refusal", func(t *testing.T) {
		for _, addr := range []string{"bob@denied.test", "bob@eu.denied.test", "bob@a.b.denied.test", "bob@DENIED.test"} {
			_, err := s.signUp(ctx, addr, nil, nil)
			if err == nil || !strings.Contains(err.Error(), "UserLambdaValidationException") ||
				!strings.Contains(err.Error(), "Sign-up with this email domain is not allowed") {
				t.Fatalf("%s: %v", addr, err)
			}
		}
		if _, err := s.cognito.Client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(s.cognito.UserPoolID), Username: aws.String("bob@denied.test")}); err == nil {
			t.Fatal("refused user exists")
		}
	})

	newInvite := func(t *testing.T, uses int) string {
		t.Helper()
		code, err := presignup.NewInviteCode()
		if err != nil {
			t.Fatal(err)
		}
		norm, _ := presignup.NormalizeInviteCode(code)
		if err := s.store.CreateInvite(ctx, &store.Invite{ID: presignup.InviteID(norm), MaxUses: uses, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return code
	}
	// Variants of one address: case, trailing dot, Unicode compatibility
	// forms (NFKC maps each to the first) and plus tags.
	variants := func(local, domain string) []string {
		up := strings.ToUpper(local) + "@" + strings.ToUpper(domain)
		return []string{
			local + "@" + domain, up, local + "@" + strings.ToUpper(domain), strings.ToUpper(local) + "@" + domain,
			local + "@" + domain + ".", up + ".",
			"\uff41" + local[1:] + "@" + domain, local + "\uff20" + domain, local + "@" + domain[:1] + "\u212a" + domain[2:],
			"\U0001d41a" + local[1:] + "@" + domain, "\u00aa" + local[1:] + "@" + domain,
			local + "+x@" + domain, local + "+y@" + domain, local + "+1@" + domain, strings.ToUpper(local) + "+Z@" + domain,
			local + "+x@" + domain + ".", local + "+@" + domain, local + "+a+b@" + domain, local + "+news@" + strings.ToUpper(domain),
			local + "+\uff58@" + domain,
		}
	}
	classify := func(t *testing.T, addr string, err error) string {
		t.Helper()
		switch {
		case err == nil:
			return "admitted"
		case strings.Contains(err.Error(), "This invite code has already been used"):
			return "used"
		case strings.Contains(err.Error(), "Please enter a valid email address"),
			strings.Contains(err.Error(), "InvalidParameterException: Username should be an email"):
			return "invalid" // refused by the trigger, or by Cognito before it

		default:
			t.Errorf("%q: %v", addr, err)
			return "other"
		}
	}

	t.Run("one invite, every variant of one address, one account", func(t *testing.T) {
		for _, uses := range []int{1, 5} {
			code := newInvite(t, uses)
			vs := variants("ann", "ok.test")
			got := map[string]int{}
			for _, addr := range vs {
				_, err := s.signUp(ctx, addr, nil, map[string]string{presignup.InviteField: code})
				got[classify(t, addr, err)]++
			}
			if got["admitted"] != 1 || got["used"]+got["invalid"] != len(vs)-1 {
				t.Fatalf("%d-use invite, %d variants: %v", uses, len(vs), got)
			}
			// A multi-use invite keeps its other uses for other people.
			if uses > 1 {
				if _, err := s.signUp(ctx, "bea@ok.test", nil, map[string]string{presignup.InviteField: code}); err != nil {
					t.Fatalf("another person on the %d-use invite: %v", uses, err)
				}
			}
			if _, err := s.signUp(ctx, "\uff41nn@ok.test", nil, nil); err == nil {
				t.Fatal("a full-width address signed up without an invite")
			}
			// Cleanup so the next round can use the same addresses.
			for _, addr := range []string{"ann@ok.test", "bea@ok.test"} {
				_, _ = s.cognito.Client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(s.cognito.UserPoolID), Username: aws.String(addr)})
			}
		}
	})

	t.Run("twenty concurrent variants, one account", func(t *testing.T) {
		for _, uses := range []int{1, 20} {
			code := newInvite(t, uses)
			vs := variants("racer", "race.test")
			if len(vs) != 20 {
				t.Fatalf("%d variants", len(vs))
			}
			var mu sync.Mutex
			got := map[string]int{}
			var winner string
			var wg sync.WaitGroup
			for _, addr := range vs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := s.signUp(ctx, addr, nil, map[string]string{presignup.InviteField: strings.ToLower(code)})
					c := classify(t, addr, err)
					mu.Lock()
					defer mu.Unlock()
					got[c]++
					if c == "admitted" {
						winner = addr
						if !out.UserConfirmed {
							t.Error("invited user not auto-confirmed")
						}
					}
				}()
			}
			wg.Wait()
			if got["admitted"] != 1 || got["used"]+got["invalid"] != 19 {
				t.Fatalf("%d-use invite: %v", uses, got)
			}
			norm, _ := presignup.NormalizeInviteCode(code)
			inv, err := s.store.GetInvite(ctx, presignup.InviteID(norm))
			if err != nil || inv.UsesLeft != uses-1 || len(inv.UsedBy) != 2 || inv.UsedBy[1] != "email:racer@race.test" {
				t.Fatalf("invite after the race: %+v %v", inv, err)
			}
			_, _ = s.cognito.Client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(s.cognito.UserPoolID), Username: aws.String(winner)})
		}
	})

	t.Run("twenty people race for one single-use invite", func(t *testing.T) {
		code := newInvite(t, 1)
		var wins, usedUp atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				addr := fmt.Sprintf("person%d@race.test", i)
				_, err := s.signUp(ctx, addr, nil, map[string]string{presignup.InviteField: code})
				switch classify(t, addr, err) {
				case "admitted":
					wins.Add(1)
				case "used":
					usedUp.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || usedUp.Load() != 19 {
			t.Fatalf("%d sign-ups succeeded, %d refused as used", wins.Load(), usedUp.Load())
		}
	})

	t.Run("a stranger's text never reaches an unverified address", func(t *testing.T) {
		addr := "victim@example.com"
		spoof := "Your account is locked, call +1 415 555 0100 or visit https://evil.example/unlock"
		for _, attr := range []string{"given_name", "name"} {
			if _, err := s.signUp(ctx, addr, map[string]string{attr: spoof}, nil); err != nil {
				t.Fatal(err)
			}
			// cognito-local has no ResendConfirmationCode; the package
			// tests cover ResendCode and the other sources with Cognito's events.
			_, m := s.codeMailedTo(t, addr, "Confirm your Acme account")
			body := m.Subject + m.HTML + m.Text
			for _, bad := range []string{"evil", "415", "555", "0100", "locked", "unlock", "call"} {
				if strings.Contains(body, bad) {
					t.Fatalf("%s: %q reached the mail: %s", attr, bad, body)
				}
			}
			if _, err := s.cognito.Client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(s.cognito.UserPoolID), Username: aws.String(addr)}); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("a changed address in a denied domain never gets a code", func(t *testing.T) {
		addr := "erin@trusted.test"
		if _, err := s.signUp(ctx, addr, nil, nil); err != nil {
			t.Fatal(err)
		}
		tok, err := s.cognito.Login(ctx, addr, password)
		if err != nil {
			t.Fatal(err)
		}
		// Cognito fails these calls with the trigger's error; cognito-local
		// logs it and answers as if the message went out, but no message
		// reaches anyone either way.
		before := s.messageRefusals.Load()
		for _, to := range []string{"erin@denied.test", "erin@x.denied.test", "erin@denied.test."} {
			if _, err := s.cognito.Client.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{
				AccessToken:    aws.String(tok.AccessToken),
				UserAttributes: []ciptypes.AttributeType{{Name: aws.String("email"), Value: aws.String(to)}},
			}); err != nil && !strings.Contains(err.Error(), "UserLambdaValidationException") {
				t.Fatalf("change to %s: %v", to, err)
			}
			if _, err := s.cognito.Client.GetUserAttributeVerificationCode(ctx, &cip.GetUserAttributeVerificationCodeInput{
				AccessToken: aws.String(tok.AccessToken), AttributeName: aws.String("email"),
			}); err != nil && !strings.Contains(err.Error(), "UserLambdaValidationException") {
				t.Fatalf("verification code for %s: %v", to, err)
			}
		}
		if n := s.messageRefusals.Load() - before; n != 6 {
			t.Fatalf("custom message refused %d of 6 codes to denied addresses", n)
		}
		time.Sleep(300 * time.Millisecond) // the relay is asynchronous
		msgs, err := s.ses.Messages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if strings.Contains(strings.Join(m.To, ","), "denied.test") {
				t.Fatalf("a mail went to %v: %s", m.To, m.Subject)
			}
		}
		u, err := s.cognito.Client.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String(tok.AccessToken)})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range u.UserAttributes {
			if aws.ToString(a.Name) == "email_verified" && aws.ToString(a.Value) == "true" {
				t.Fatalf("attributes after the refusals: %v", u.UserAttributes)
			}
		}
		// An allowed address still gets its message. (cognito-local stores
		// an attribute code before it asks for the message, so the local
		// relay cannot tell it is new and mails nothing; the refusal count
		// tells that the trigger answered.)
		before = s.messageRefusals.Load()
		if _, err := s.cognito.Client.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{
			AccessToken:    aws.String(tok.AccessToken),
			UserAttributes: []ciptypes.AttributeType{{Name: aws.String("email"), Value: aws.String("erin@example.com")}},
		}); err != nil {
			t.Fatal(err)
		}
		if n := s.messageRefusals.Load() - before; n != 0 {
			t.Fatalf("allowed address refused")
		}
	})

	t.Run("sign-up and forgot-password mail", func(t *testing.T) {
		addr := "carol@example.com"
		out, err := s.signUp(ctx, addr, map[string]string{"given_name": "<b>Carol</b>"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out.UserConfirmed {
			t.Fatal("confirmed without a code")
		}
		code, m := s.codeMailedTo(t, addr, "Confirm your Acme account")
		if !strings.Contains(m.HTML, "Welcome!") || strings.Contains(m.HTML, "Carol") || !strings.Contains(m.From, "no-reply@acme.test") {
			t.Fatalf("sign-up mail: %s", m.HTML)
		}
		if _, err := s.cognito.Client.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{
			ClientId: aws.String(s.cognito.ClientID), Username: aws.String(addr), ConfirmationCode: aws.String(code),
		}); err != nil {
			t.Fatalf("confirm with the mailed code: %v", err)
		}

		if _, err := s.cognito.Client.ForgotPassword(ctx, &cip.ForgotPasswordInput{
			ClientId: aws.String(s.cognito.ClientID), Username: aws.String(addr),
		}); err != nil {
			t.Fatal(err)
		}
		code, _ = s.codeMailedTo(t, addr, "Reset your Acme password")
		if _, err := s.cognito.Client.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{
			ClientId: aws.String(s.cognito.ClientID), Username: aws.String(addr),
			ConfirmationCode: aws.String(code), Password: aws.String("Another-Horse-10!"),
		}); err != nil {
			t.Fatalf("reset with the mailed code: %v", err)
		}
		if _, err := s.cognito.Login(ctx, addr, "Another-Horse-10!"); err != nil {
			t.Fatalf("login with the new password: %v", err)
		}
	})

	t.Run("message in the user's language", func(t *testing.T) {
		addr := "dora@example.com"
		if _, err := s.signUp(ctx, addr, map[string]string{"locale": "de-AT"}, nil); err != nil {
			t.Fatal(err)
		}
		s.codeMailedTo(t, addr, "Bestätigen Sie Ihr Konto bei Acme")
	})
}
