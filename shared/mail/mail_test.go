package mail

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/config"
)

type fakeAPI struct {
	in   *sesv2.SendEmailInput
	err  error
	wait bool
	left time.Duration // what the call's context had left when it began; -1 without a deadline
}

func (f *fakeAPI) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.in = in
	f.left = -1
	if dl, ok := ctx.Deadline(); ok {
		f.left = time.Until(dl)
	}
	if f.wait {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if f.err != nil {
		return nil, f.err
	}
	return &sesv2.SendEmailOutput{MessageId: aws.String("m-1")}, nil
}

func TestSendBuildsRequest(t *testing.T) {
	api := &fakeAPI{}
	s, err := NewSES(api, "Acme <no-reply@acme.test>", WithConfigurationSet("cs"), WithReplyTo("help@acme.test"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Send(context.Background(), Message{To: "ada@example.com", Subject: "Hi", Text: "t", HTML: "<p>h</p>", Tags: map[string]string{"kind": "signin"}})
	if err != nil || id != "m-1" {
		t.Fatalf("send: %q %v", id, err)
	}
	in := api.in
	if aws.ToString(in.FromEmailAddress) != "Acme <no-reply@acme.test>" || aws.ToString(in.ConfigurationSetName) != "cs" ||
		in.Destination.ToAddresses[0] != "ada@example.com" || in.ReplyToAddresses[0] != "help@acme.test" ||
		aws.ToString(in.Content.Simple.Body.Html.Data) != "<p>h</p>" || aws.ToString(in.Content.Simple.Body.Text.Data) != "t" ||
		len(in.EmailTags) != 1 {
		t.Fatalf("request %+v", in)
	}
}

func TestSendRejectsBadMessages(t *testing.T) {
	s, _ := NewSES(&fakeAPI{}, "no-reply@acme.test")
	for name, m := range map[string]Message{
		"no recipient":      {Subject: "s", Text: "t"},
		"two recipients":    {To: "a@x.test, b@x.test", Subject: "s", Text: "t"},
		"display name":      {To: "Ada <a@x.test>", Subject: "s", Text: "t"},
		"header injection":  {To: "a@x.test\r\nBcc: b@x.test", Subject: "s", Text: "t"},
		"subject injection": {To: "a@x.test", Subject: "s\r\nBcc: b@x.test", Text: "t"},
		"no subject":        {To: "a@x.test", Text: "t"},
		"no body":           {To: "a@x.test", Subject: "s"},
	} {
		if _, err := s.Send(context.Background(), m); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, from := range []string{"", "not an address", "a@x.test\nBcc: b@x.test"} {
		if _, err := NewSES(&fakeAPI{}, from); err == nil {
			t.Errorf("from %q accepted", from)
		}
	}
}

func TestSendErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
	}{
		{&types.MessageRejected{Message: aws.String("bad")}, ErrInvalid},
		{&types.BadRequestException{Message: aws.String("bad")}, ErrInvalid},
		{&types.TooManyRequestsException{Message: aws.String("slow down")}, ErrUnavailable},
		{&types.SendingPausedException{Message: aws.String("paused")}, ErrUnavailable},
		{errors.New("connection refused"), ErrUnavailable},
	} {
		s, _ := NewSES(&fakeAPI{err: tc.err}, "no-reply@acme.test")
		if _, err := s.Send(context.Background(), Message{To: "a@x.test", Subject: "s", Text: "t"}); !errors.Is(err, tc.want) {
			t.Errorf("%T: %v, want %v", tc.err, err, tc.want)
		}
	}
}

// Send runs under its own deadline, however long the caller would wait, and
// a send that misses it is ErrUnavailable.
func TestSendTimeout(t *testing.T) {
	const timeout = 50 * time.Millisecond
	api := &fakeAPI{wait: true}
	s, _ := NewSES(api, "no-reply@acme.test", WithTimeout(timeout))
	_, err := s.Send(context.Background(), Message{To: "a@x.test", Subject: "s", Text: "t"})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if api.left < 0 || api.left > timeout {
		t.Fatalf("SendEmail had %s left, want a deadline within %s", api.left, timeout)
	}
	// The default deadline is well inside Cognito's 5 s as well.
	api = &fakeAPI{}
	s, _ = NewSES(api, "no-reply@acme.test")
	if _, err := s.Send(context.Background(), Message{To: "a@x.test", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if api.left < 0 || api.left > awsx.CallTimeout {
		t.Fatalf("SendEmail had %s left, want a deadline within %s", api.left, awsx.CallTimeout)
	}
}

func TestConfig(t *testing.T) {
	env := config.FromMap(map[string]string{"SHORTFUSE_MAIL_FROM": "Acme <no-reply@acme.test>", "SHORTFUSE_MAIL_CONFIGURATION_SET": "cs"})
	c := LoadConfig(env)
	if env.Err() != nil || c.From != "Acme <no-reply@acme.test>" || c.ConfigurationSet != "cs" {
		t.Fatalf("%+v %v", c, env.Err())
	}
	for _, vars := range []map[string]string{
		{},
		{"SHORTFUSE_MAIL_FROM": "nope"},
		{"SHORTFUSE_MAIL_FROM": "a@x.test", "SHORTFUSE_MAIL_REPLY_TO": "Ada <a@x.test>"},
		{"SHORTFUSE_MAIL_FROM": "a@x.test", "SHORTFUSE_MAIL_TIMEOUT": "10s"},
	} {
		env := config.FromMap(vars)
		LoadConfig(env)
		if err := env.Err(); err == nil || !strings.Contains(err.Error(), "SHORTFUSE_MAIL_") {
			t.Errorf("%v: %v", vars, err)
		}
	}
}

// The sender talks to the SES v2 emulator through the real SDK client.
func TestSendThroughEmulator(t *testing.T) {
	ses := testenv.SESLocal(t)
	c := Config{From: "Acme <no-reply@acme.test>", Timeout: 2 * time.Second}
	s, err := c.New(ses.Client)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), Message{To: "ada@example.com", Subject: "Grüße", Text: "plain", HTML: "<p>Grüße</p>"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := ses.WaitForMail(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Grüße" || m.HTML != "<p>Grüße</p>" || m.Text != "plain" || !strings.Contains(m.From, "no-reply@acme.test") {
		t.Fatalf("mail %+v", m)
	}
}
