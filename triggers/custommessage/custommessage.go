// Package custommessage is the Cognito CustomMessage trigger: it renders the
// email and SMS Cognito sends for each of the seven message sources, in the
// user's language, from the templates in package templates.
//
// The locale is the user's locale attribute, then clientMetadata["locale"],
// then the configured default. Cognito's code placeholder (and, for
// AdminCreateUser, the username placeholder) is always in the result:
// templates that could lose it do not load.
package custommessage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/triggers/domains"
	"github.com/shortfuse/shortfuse/triggers/emailaddr"
	"github.com/shortfuse/shortfuse/triggers/templates"
)

// Event is the trigger's input and output.
type Event = events.CognitoEventUserPoolsCustomMessage

const sourcePrefix = "CustomMessage_"

// Handler renders custom messages. It is safe for concurrent use.
type Handler struct {
	set     *templates.Set
	appName string
	policy  Policy
	log     *slog.Logger
}

// Policy is what the handler checks before a message goes out. Its zero
// value permits every domain and shows no name to unverified addresses.
type Policy struct {
	// Domains is the sign-up domain policy, applied again when a user
	// changes or verifies an address (SHORTFUSE_SIGNUP_ALLOWED_DOMAINS,
	// SHORTFUSE_SIGNUP_DENIED_DOMAINS).
	Domains domains.Policy
	// UnverifiedName is what messages to unverified addresses show of the
	// user's name (SHORTFUSE_MESSAGE_UNVERIFIED_NAME, default none).
	UnverifiedName templates.NameMode
}

// New returns a handler rendering set with appName as the product name,
// with the zero Policy.
func New(set *templates.Set, appName string, log *slog.Logger) *Handler {
	return NewWithPolicy(set, appName, Policy{}, log)
}

// NewWithPolicy returns a handler applying p.
func NewWithPolicy(set *templates.Set, appName string, p Policy, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{set: set, appName: appName, policy: p, log: log}
}

// ErrRender is the error Cognito reports when a message cannot be built; the
// cause is logged, not returned, since Cognito shows the text to the user.
var ErrRender = errors.New("the message could not be prepared")

// Refusals of a code to a changed address. Cognito fails the API call with
// "CustomMessage failed with error <text>." and sends nothing, so the
// address never receives a code and can never become verified.
var (
	ErrDomainNotAllowed = &Refusal{Msg: "This email domain is not allowed"}
	ErrEmailInvalid     = &Refusal{Msg: "Please enter a valid email address"}
)

// Refusal is an error whose text is meant for the user.
type Refusal struct{ Msg string }

func (r *Refusal) Error() string { return r.Msg }

// Handle fills ev.Response. An unknown trigger source leaves the response
// empty, so Cognito sends its default message rather than nothing.
func (h *Handler) Handle(ctx context.Context, ev Event) (Event, error) {
	ev.Response = events.CognitoEventUserPoolsCustomMessageResponse{}
	src := templates.Source(strings.TrimPrefix(ev.TriggerSource, sourcePrefix))
	if !strings.HasPrefix(ev.TriggerSource, sourcePrefix) || !isCognitoSource(src) {
		h.log.WarnContext(ctx, "custommessage: unknown trigger source, Cognito's default message applies",
			"trigger_source", obs.Clip(ev.TriggerSource))
		return ev, nil
	}
	if err := h.checkAddress(ctx, ev, src); err != nil {
		return ev, err
	}
	code := ev.Request.CodeParameter
	if code == "" {
		code = templates.CodePlaceholder
	}
	user := ev.Request.UsernameParameter
	if user == "" && src == templates.AdminCreateUser {
		user = templates.UsernamePlaceholder
	}
	attr := func(name string) string {
		v, _ := ev.Request.UserAttributes[name].(string)
		return v
	}
	name := attr("given_name")
	if name == "" {
		name = attr("name")
	}
	if templates.IsUnverified(src) {
		name = h.policy.UnverifiedName.ForUnverified(name)
	}
	locale := h.set.Locale(attr("locale"), ev.Request.ClientMetadata["locale"])
	m, err := h.set.Render(locale, src, templates.Data{
		AppName:  h.appName,
		Name:     name,
		Email:    attr("email"),
		Username: user,
		Code:     code,
	})
	if err == nil {
		err = hasPlaceholders(m, src, code, user)
	}
	if err != nil {
		h.log.ErrorContext(ctx, "custommessage: render failed", "trigger_source", ev.TriggerSource,
			"locale", locale, "error", err)
		return ev, ErrRender
	}
	ev.Response.EmailSubject = m.Subject
	ev.Response.EmailMessage = m.HTML
	ev.Response.SMSMessage = m.SMS
	h.log.InfoContext(ctx, "custommessage: rendered", "trigger_source", ev.TriggerSource, "locale", locale,
		"user", obs.Clip(ev.UserName), "email_chars", len([]rune(m.HTML)), "sms_chars", len([]rune(m.SMS)))
	return ev, nil
}

// checkAddress refuses a verification code to a changed address that the
// domain policy (or the address parser) refuses, exactly as pre sign-up
// would have refused it. The address is the event's email attribute, where
// Cognito puts the address it verifies; an SMS verification without an
// email attribute has nothing to check.
func (h *Handler) checkAddress(ctx context.Context, ev Event, src templates.Source) error {
	if src != templates.UpdateUserAttribute && src != templates.VerifyUserAttribute {
		return nil
	}
	raw, present := ev.Request.UserAttributes["email"]
	if !present || raw == nil || raw == "" {
		return nil
	}
	s, ok := raw.(string)
	if !ok {
		return ErrEmailInvalid
	}
	a, err := emailaddr.Parse(s)
	if err != nil {
		h.log.InfoContext(ctx, "custommessage: refused an invalid address", "trigger_source", ev.TriggerSource,
			"user", obs.Clip(ev.UserName))
		return ErrEmailInvalid
	}
	if !h.policy.Domains.Permits(a.Domain) {
		h.log.InfoContext(ctx, "custommessage: refused a code to a domain the policy refuses", "event", "domain_refused",
			"trigger_source", ev.TriggerSource, "user", obs.Clip(ev.UserName), "domain", obs.Clip(a.Domain))
		return ErrDomainNotAllowed
	}
	return nil
}

// hasPlaceholders is the last line of defence: Load already proved that
// every template shows its placeholders.
func hasPlaceholders(m templates.Message, src templates.Source, code, user string) error {
	want := []string{code}
	if src == templates.AdminCreateUser {
		want = append(want, user)
	}
	for _, p := range want {
		if p == "" || !strings.Contains(m.HTML, p) || !strings.Contains(m.SMS, p) {
			return fmt.Errorf("placeholder %q missing from the rendered message", p)
		}
	}
	return nil
}

func isCognitoSource(s templates.Source) bool {
	for _, c := range templates.CognitoSources {
		if s == c {
			return true
		}
	}
	return false
}
