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

	"github.com/shortfuse/shortfuse/triggers/templates"
)

// Event is the trigger's input and output.
type Event = events.CognitoEventUserPoolsCustomMessage

const sourcePrefix = "CustomMessage_"

// Handler renders custom messages. It is safe for concurrent use.
type Handler struct {
	set     *templates.Set
	appName string
	log     *slog.Logger
}

// New returns a handler rendering set with appName as the product name.
func New(set *templates.Set, appName string, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{set: set, appName: appName, log: log}
}

// ErrRender is the error Cognito reports when a message cannot be built; the
// cause is logged, not returned, since Cognito shows the text to the user.
var ErrRender = errors.New("the message could not be prepared")

// Handle fills ev.Response. An unknown trigger source leaves the response
// empty, so Cognito sends its default message rather than nothing.
func (h *Handler) Handle(ctx context.Context, ev Event) (Event, error) {
	ev.Response = events.CognitoEventUserPoolsCustomMessageResponse{}
	src := templates.Source(strings.TrimPrefix(ev.TriggerSource, sourcePrefix))
	if !strings.HasPrefix(ev.TriggerSource, sourcePrefix) || !isCognitoSource(src) {
		h.log.WarnContext(ctx, "custommessage: unknown trigger source, Cognito's default message applies",
			"trigger_source", clip(ev.TriggerSource))
		return ev, nil
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
		"user", clip(ev.UserName), "email_chars", len([]rune(m.HTML)), "sms_chars", len([]rune(m.SMS)))
	return ev, nil
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

// clip bounds a client-supplied string before it reaches a log line.
func clip(s string) string {
	if len(s) > 128 {
		return s[:128]
	}
	return s
}
