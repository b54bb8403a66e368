// Package localmail delivers, through SES, the email that cognito-local only
// prints, so that the local stack shows sign-up and password-reset mail the
// way Cognito sends it in AWS: the CustomMessage trigger's email with the
// code filled in.
//
// cognito-local asks the trigger for the message, substitutes the code and
// logs the result; it has no mail delivery. The relay wraps the trigger:
// after the trigger answers, it waits for cognito-local to store the code
// with the user (in <DataDir>/.cognito/db/<pool>.json, written right after
// the message is built), fills in the placeholders and sends the mail.
// It is for the local stack and tests only.
package localmail

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/shared/mail"
	"github.com/shortfuse/shortfuse/triggers/custommessage"
	"github.com/shortfuse/shortfuse/triggers/templates"
)

// Relay sends the mail of wrapped CustomMessage handlers.
type Relay struct {
	dataDir string
	sender  mail.Sender
	log     *slog.Logger
	wait    time.Duration
	wg      sync.WaitGroup
}

// New returns a relay reading cognito-local's state under dataDir (its
// working directory) and sending with sender.
func New(dataDir string, sender mail.Sender, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Relay{dataDir: dataDir, sender: sender, log: log, wait: 10 * time.Second}
}

// Handler is a CustomMessage handler.
type Handler func(context.Context, custommessage.Event) (custommessage.Event, error)

// codeField is where cognito-local keeps the code of each message source.
var codeField = map[string]string{
	"CustomMessage_SignUp":              "ConfirmationCode",
	"CustomMessage_ResendCode":          "ConfirmationCode",
	"CustomMessage_ForgotPassword":      "ConfirmationCode",
	"CustomMessage_UpdateUserAttribute": "AttributeVerificationCode",
	"CustomMessage_VerifyUserAttribute": "AttributeVerificationCode",
	"CustomMessage_Authentication":      "MFACode",
	"CustomMessage_AdminCreateUser":     "Password",
}

// Wrap returns h followed by delivery of its email message.
func (r *Relay) Wrap(h Handler) Handler {
	return func(ctx context.Context, ev custommessage.Event) (custommessage.Event, error) {
		out, err := h(ctx, ev)
		if err != nil || out.Response.EmailMessage == "" {
			return out, err
		}
		field, ok := codeField[ev.TriggerSource]
		to, _ := ev.Request.UserAttributes["email"].(string)
		if !ok || mail.CheckAddress(to) != nil {
			return out, nil
		}
		before, _ := r.userField(ev.UserPoolID, ev.UserName, field)
		codeParam := ev.Request.CodeParameter
		if codeParam == "" {
			codeParam = templates.CodePlaceholder
		}
		userParam := ev.Request.UsernameParameter
		if userParam == "" {
			userParam = templates.UsernamePlaceholder
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.deliver(ev, out.Response, field, before, codeParam, userParam, to)
		}()
		return out, nil
	}
}

// Close waits for deliveries in flight.
func (r *Relay) Close() { r.wg.Wait() }

func (r *Relay) deliver(ev custommessage.Event, msg events.CognitoEventUserPoolsCustomMessageResponse, field, before, codeParam, userParam, to string) {
	deadline := time.Now().Add(r.wait)
	for {
		code, err := r.userField(ev.UserPoolID, ev.UserName, field)
		if err == nil && code != "" && code != before {
			body := strings.ReplaceAll(msg.EmailMessage, codeParam, code)
			body = strings.ReplaceAll(body, userParam, ev.UserName)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			id, err := r.sender.Send(ctx, mail.Message{To: to, Subject: msg.EmailSubject, HTML: body,
				Tags: map[string]string{"kind": strings.TrimPrefix(ev.TriggerSource, "CustomMessage_")}})
			cancel()
			if err != nil {
				r.log.Error("localmail: send failed", "trigger_source", ev.TriggerSource, "error", err)
			} else {
				r.log.Info("localmail: sent", "trigger_source", ev.TriggerSource, "message_id", id)
			}
			return
		}
		if time.Now().After(deadline) {
			r.log.Warn("localmail: cognito-local stored no new code; mail not sent", "trigger_source", ev.TriggerSource)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// userField reads one field of a user's record in cognito-local's store.
func (r *Relay) userField(pool, username, field string) (string, error) {
	if strings.ContainsAny(pool, `/\.`) || pool == "" {
		return "", errors.New("localmail: bad pool id")
	}
	b, err := os.ReadFile(filepath.Join(r.dataDir, ".cognito", "db", pool+".json"))
	if err != nil {
		return "", err
	}
	var db struct {
		Users map[string]map[string]any `json:"Users"`
	}
	if err := json.Unmarshal(b, &db); err != nil {
		return "", err // written concurrently; the caller polls again
	}
	v, _ := db.Users[username][field].(string)
	return v, nil
}
