// Package mail sends transactional email through Amazon SES v2.
//
// A Sender is built once at init with the From address and an optional
// configuration set; each Send runs under its own deadline, retries
// included, so a trigger stays inside Cognito's 5 s budget. Messages are
// checked before they leave: one recipient, no line breaks in headers,
// a subject and a body.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/shortfuse/shortfuse/shared/awsx"
)

// Message is one email to one recipient. At least one of Text and HTML is set.
type Message struct {
	To      string // a bare address, "user@example.com"
	Subject string
	Text    string
	HTML    string
	// Tags are SES message tags, useful in a configuration set's event
	// destinations (e.g. "kind": "signin").
	Tags map[string]string
}

// A Sender delivers a Message and returns the provider's message id.
type Sender interface {
	Send(ctx context.Context, m Message) (messageID string, err error)
}

// Errors returned by Send, matched with errors.Is.
var (
	// ErrInvalid: the message itself is wrong (bad address, empty body);
	// retrying will not help.
	ErrInvalid = errors.New("mail: invalid message")
	// ErrUnavailable: SES did not accept the message in time or refused it
	// for a reason that may pass (throttling, an outage).
	ErrUnavailable = errors.New("mail: unavailable")
)

// API is the part of the SES v2 client a Sender uses.
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends through Amazon SES v2. It is safe for concurrent use.
type SES struct {
	api       API
	from      string
	configSet string
	replyTo   []string
	timeout   time.Duration
}

var _ Sender = (*SES)(nil)

// An Option configures an SES sender.
type Option func(*SES)

// WithConfigurationSet sends every message with the named SES configuration set.
func WithConfigurationSet(name string) Option { return func(s *SES) { s.configSet = name } }

// WithReplyTo sets the Reply-To addresses.
func WithReplyTo(addrs ...string) Option { return func(s *SES) { s.replyTo = addrs } }

// WithTimeout sets the deadline of one Send, retries included (default awsx.CallTimeout).
func WithTimeout(d time.Duration) Option {
	return func(s *SES) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// NewSES returns a sender that mails from from, an address optionally with a
// display name ("Example <no-reply@example.com>").
func NewSES(api API, from string, opts ...Option) (*SES, error) {
	if err := CheckFrom(from); err != nil {
		return nil, err
	}
	s := &SES{api: api, from: from, timeout: awsx.CallTimeout}
	for _, o := range opts {
		o(s)
	}
	for _, a := range s.replyTo {
		if err := CheckAddress(a); err != nil {
			return nil, fmt.Errorf("mail: reply-to: %w", err)
		}
	}
	return s, nil
}

// CheckFrom reports whether from is a usable From header: one address, with
// or without a display name.
func CheckFrom(from string) error {
	if from == "" || strings.ContainsAny(from, "\r\n") {
		return fmt.Errorf("%w: from address %q", ErrInvalid, from)
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return fmt.Errorf("%w: from address %q: %v", ErrInvalid, from, err)
	}
	return nil
}

// CheckAddress reports whether addr is one bare address (no display name,
// no list, no line breaks) of at most 254 bytes.
func CheckAddress(addr string) error {
	if addr == "" || len(addr) > 254 || strings.ContainsAny(addr, "\r\n<>,;") {
		return fmt.Errorf("%w: address %q", ErrInvalid, addr)
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return fmt.Errorf("%w: address %q", ErrInvalid, addr)
	}
	return nil
}

func (m Message) check() error {
	if err := CheckAddress(m.To); err != nil {
		return err
	}
	if strings.TrimSpace(m.Subject) == "" || strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("%w: subject is empty or has a line break", ErrInvalid)
	}
	if m.Text == "" && m.HTML == "" {
		return fmt.Errorf("%w: no body", ErrInvalid)
	}
	return nil
}

// Send delivers m. Errors wrap ErrInvalid or ErrUnavailable.
func (s *SES) Send(ctx context.Context, m Message) (string, error) {
	if err := m.check(); err != nil {
		return "", err
	}
	body := &types.Body{}
	if m.Text != "" {
		body.Text = &types.Content{Data: aws.String(m.Text), Charset: aws.String("UTF-8")}
	}
	if m.HTML != "" {
		body.Html = &types.Content{Data: aws.String(m.HTML), Charset: aws.String("UTF-8")}
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.from),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		ReplyToAddresses: s.replyTo,
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String("UTF-8")},
			Body:    body,
		}},
	}
	if s.configSet != "" {
		in.ConfigurationSetName = aws.String(s.configSet)
	}
	for k, v := range m.Tags {
		in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String(k), Value: aws.String(v)})
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out, err := s.api.SendEmail(ctx, in)
	if err != nil {
		return "", classify(err)
	}
	return aws.ToString(out.MessageId), nil
}

// classify maps an SES error: a request SES rejects for its content is
// ErrInvalid, anything else (network, deadline, throttling, a paused
// account, a server fault) is ErrUnavailable.
func classify(err error) error {
	var bad *types.BadRequestException
	var rejected *types.MessageRejected
	var notVerified *types.MailFromDomainNotVerifiedException
	switch {
	case errors.As(err, &bad), errors.As(err, &rejected), errors.As(err, &notVerified):
		return fmt.Errorf("%w: ses: %w", ErrInvalid, err)
	default:
		return fmt.Errorf("%w: ses: %w", ErrUnavailable, err)
	}
}
