package customauth

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/shared/mail"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/triggers/templates"
)

// CreateEvent is create's input and output.
type CreateEvent = events.CognitoEventUserPoolsCreateAuthChallenge

// Create is the CreateAuthChallenge trigger.
type Create struct {
	cfg     Config
	keys    *Keys
	store   Challenges
	mail    mail.Sender
	tmpl    *templates.Set
	appName string
	opts    Options
	timer   *mailTimer
}

// NewCreate returns the create trigger. appName is the product name in mails.
func NewCreate(cfg Config, keys *Keys, st Challenges, sender mail.Sender, tmpl *templates.Set, appName string, opts Options) *Create {
	opts.defaults()
	return &Create{cfg: cfg, keys: keys, store: st, mail: sender, tmpl: tmpl, appName: appName, opts: opts,
		timer: &mailTimer{min: cfg.MailFloor}}
}

// Handle answers one create invocation.
func (c *Create) Handle(ctx context.Context, ev CreateEvent) (CreateEvent, error) {
	if ev.TriggerSource != SourceCreate {
		return ev, ErrTriggerSource
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Budget)
	defer cancel()
	log := c.opts.Logger
	if len(ev.Request.Session) == 0 {
		ev.Response = events.CognitoEventUserPoolsCreateAuthChallengeResponse{
			PublicChallengeParameters:  map[string]string{paramStep: stepStart},
			PrivateChallengeParameters: map[string]string{paramStep: stepStart},
			ChallengeMetadata:          StepStart,
		}
		return ev, nil
	}
	u := identify(c.keys, c.cfg, ev.UserName, ev.Request.UserAttributes, ev.Request.UserNotFound)
	now := c.opts.Now()
	var cid string
	if len(ev.Request.Session) > 1 || ev.Request.ClientMetadata[MethodKey] == MethodLink {
		// Another try after a wrong answer, or a client that holds a link:
		// point the session at the live challenge and send nothing, which
		// would replace the code and link the user already has.
		cur, err := c.store.GetChallenge(ctx, u.key)
		switch {
		case err == nil:
			cid = cur.ID
		case !errors.Is(err, store.ErrNotFound):
			log.ErrorContext(ctx, "createauth: read challenge failed", "error", err)
			return ev, ErrUnavailable
		}
	} else {
		id, err := c.issue(ctx, ev, u, now)
		if err != nil {
			return ev, err
		}
		cid = id
	}
	ev.Response = events.CognitoEventUserPoolsCreateAuthChallengeResponse{
		PublicChallengeParameters: map[string]string{
			paramStep:    stepAnswer,
			"delivery":   "EMAIL",
			"codeLength": itoa(c.cfg.CodeLength),
		},
		PrivateChallengeParameters: map[string]string{paramStep: stepAnswer, paramCID: cid},
		ChallengeMetadata:          StepAnswer,
	}
	return ev, nil
}

// issue stores a new challenge and mails it, or reuses the live one within
// the minimum interval (or the slow interval, past the attempt ceiling); it
// returns the challenge id the session answers.
func (c *Create) issue(ctx context.Context, ev CreateEvent, u user, now time.Time) (string, error) {
	log := c.opts.Logger
	code, err := newCode(c.cfg.CodeLength)
	if err != nil {
		return "", err
	}
	cid, err := newID()
	if err != nil {
		return "", err
	}
	ch := &store.Challenge{
		Key:         u.key,
		ID:          cid,
		CodeMAC:     c.keys.codeMAC(u.key, cid, code),
		MaxAttempts: c.cfg.MaxAttempts,
		SentAt:      now,
		ExpiresAt:   now.Add(c.cfg.CodeTTL),
	}
	cur, issued, err := c.store.IssueChallenge(ctx, ch, c.cfg.MinInterval, c.cfg.budget())
	if errors.Is(err, store.ErrSlowed) {
		// The user's attempt ceiling is reached and the slow interval has
		// not passed: answer as when the pacing holds a mail back, so the
		// client learns nothing, and point the session at the current
		// challenge, which keeps its own attempts for whoever holds the code.
		id := ""
		if cur != nil {
			id = cur.ID
		}
		log.WarnContext(ctx, "createauth: attempt ceiling reached, new codes slowed", "event", "signin_slowed",
			"user_key", obs.TokenID(u.key), "known", u.known, "slow_interval", c.cfg.SlowInterval.String())
		return id, nil
	}
	if err != nil {
		log.ErrorContext(ctx, "createauth: store challenge failed", "error", err)
		return "", ErrUnavailable
	}
	if !issued {
		log.InfoContext(ctx, "createauth: reusing live challenge", "challenge", obs.TokenID(cur.ID),
			"sent_at", cur.SentAt.UTC().Format(time.RFC3339))
		return cur.ID, nil
	}
	// The mail step lasts at least the floor, mail or not (see mailtime.go).
	start := time.Now()
	floor := c.timer.floor()
	if !u.deliverable {
		// The same work as a mail but the send: sign a link, render.
		if _, err := c.message(ev, u, cid, code, ch.ExpiresAt); err != nil {
			log.ErrorContext(ctx, "createauth: render failed", "error", err)
		}
		waitUntil(ctx, start.Add(floor), cleanupReserve(c.opts.Budget))
		log.InfoContext(ctx, "createauth: challenge without mail", "challenge", obs.TokenID(cid), "known", u.known)
		return cid, nil
	}
	// The mail gets the budget but for a reserve, in which an unsent
	// challenge can still be dropped before Cognito's deadline.
	sendCtx, cancelSend := context.WithDeadline(ctx, deadline(ctx, c.opts.Budget).Add(-cleanupReserve(c.opts.Budget)))
	err = c.send(sendCtx, ev, u, cid, code, ch.ExpiresAt)
	cancelSend()
	if err == nil {
		c.timer.observe(time.Since(start))
		waitUntil(ctx, start.Add(floor), cleanupReserve(c.opts.Budget))
	}
	if err != nil {
		log.ErrorContext(ctx, "createauth: mail failed", "challenge", obs.TokenID(cid), "error", err)
		// Let the next attempt mail a fresh challenge instead of waiting out
		// the interval for a mail that never arrived. This runs even when
		// the caller gave up, but never past the invocation's deadline.
		dctx, cancelDrop := context.WithDeadline(context.WithoutCancel(ctx), deadline(ctx, c.opts.Budget))
		derr := c.store.DeleteChallenge(dctx, u.key, cid)
		cancelDrop()
		if derr != nil {
			log.ErrorContext(ctx, "createauth: drop unsent challenge failed", "error", derr)
		}
		return "", ErrUnavailable
	}
	log.InfoContext(ctx, "createauth: challenge sent", "challenge", obs.TokenID(cid), "user", clipString(ev.UserName, maxUsername))
	return cid, nil
}

// cleanupReserve is the part of an invocation's budget the mail may not use:
// a quarter of it, at most 500ms.
func cleanupReserve(budget time.Duration) time.Duration {
	return min(budget/4, 500*time.Millisecond)
}

// deadline returns ctx's deadline, or budget from now when it has none
// (Handle always sets one).
func deadline(ctx context.Context, budget time.Duration) time.Time {
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return time.Now().Add(budget)
}

func (c *Create) send(ctx context.Context, ev CreateEvent, u user, cid, code string, exp time.Time) error {
	m, err := c.message(ev, u, cid, code, exp)
	if err != nil {
		return err
	}
	_, err = c.mail.Send(ctx, mail.Message{
		To: u.email, Subject: m.Subject, HTML: m.HTML, Text: m.Text,
		Tags: map[string]string{"kind": "signin"},
	})
	return err
}

// message signs the link and renders the sign-in mail.
func (c *Create) message(ev CreateEvent, u user, cid, code string, exp time.Time) (templates.Message, error) {
	link := ""
	if c.cfg.LinkBaseURL != "" {
		tok, err := c.keys.signLink(linkClaims{Pool: ev.UserPoolID, User: ev.UserName, JTI: cid, Exp: exp.Unix()})
		if err != nil {
			return templates.Message{}, err
		}
		link = linkURL(c.cfg.LinkBaseURL, tok)
	}
	attrs := ev.Request.UserAttributes
	name := attrs["given_name"]
	if name == "" {
		name = attrs["name"]
	}
	if attrs["email_verified"] != "true" {
		name = c.cfg.UnverifiedName.ForUnverified(name)
	}
	return c.tmpl.Render(c.tmpl.Locale(attrs["locale"], ev.Request.ClientMetadata["locale"]), templates.SignIn, templates.Data{
		AppName:  c.appName,
		Name:     name,
		Email:    u.email,
		Username: ev.UserName,
		Code:     code,
		Link:     link,
		TTL:      int(c.cfg.CodeTTL / time.Minute),
	})
}
