// Package customauth is passwordless sign-in for Cognito's custom
// authentication flow: the DefineAuthChallenge, CreateAuthChallenge and
// VerifyAuthChallengeResponse triggers.
//
// The user gets one email with a one-time code and, when a link page is
// configured, a magic link. Codes are random digits from crypto/rand, stored
// only as a MAC, limited in attempts and lifetime and compared in constant
// time. Links are HMAC-signed, single-use (a conditional write), bound to
// the user and the pool, and replaced when a new mail goes out, so a user
// has at most one live link. Mails to one user are paced by a minimum
// interval; within it, a new sign-in reuses the live code and link.
//
// Each code takes at most Config.MaxAttempts answers. Code answers are also
// counted per user over a window, across every code mailed in it
// (Config.LockoutAttempts per Config.LockoutWindow): past that ceiling no
// answer is refused, but new codes are mailed at most once per
// Config.SlowInterval, so requesting new codes buys few extra guesses and a
// stranger cannot lock the owner out. Links, 256-bit signed tokens, are not
// counted and keep working.
//
// The client protocol (see Decide):
//
//  1. InitiateAuth(CUSTOM_AUTH, USERNAME) → CUSTOM_CHALLENGE, parameters {"step": "start"}.
//  2. RespondToAuthChallenge(ANSWER "start", ClientMetadata {"signInMethod": "code"})
//     → the mail goes out; parameters {"step": "answer", ...}. A page opened
//     from a magic link sends {"signInMethod": "link"} instead and no mail is sent.
//  3. RespondToAuthChallenge(ANSWER <code or link token>) → tokens, another
//     try at the same code (nothing is mailed after the first answer round),
//     or NotAuthorizedException after MaxAttempts wrong answers.
//
// With PreventUserExistenceErrors, Cognito runs the triggers for unknown
// users too (userNotFound). They get the same rounds and parameters, and
// the same store writes, under a key derived from the typed username; only
// no mail is sent, and no answer is ever correct.
package customauth

import (
	"context"
	"errors"
	"log/slog"
	"net/mail"
	"time"

	"github.com/shortfuse/shortfuse/shared/store"
)

// Challenges is the challenge state; *store.Store implements it.
type Challenges interface {
	IssueChallenge(ctx context.Context, c *store.Challenge, minInterval time.Duration, budget store.AttemptBudget) (*store.Challenge, bool, error)
	GetChallenge(ctx context.Context, key string) (*store.Challenge, error)
	AttemptChallenge(ctx context.Context, key, id string, now time.Time, budget store.AttemptBudget) (*store.Challenge, error)
	UseChallenge(ctx context.Context, key, id string, now time.Time) error
	DeleteChallenge(ctx context.Context, key, id string) error
}

var _ Challenges = (*store.Store)(nil)

// Client metadata and challenge parameters.
const (
	MethodKey  = "signInMethod" // clientMetadata key
	MethodCode = "code"
	MethodLink = "link"

	paramStep   = "step"
	paramCID    = "cid"
	stepStart   = "start"
	stepAnswer  = "answer"
	maxAnswer   = 2048
	maxUsername = 128
)

// ErrUnavailable is what Cognito reports when a dependency fails; details go
// to the log, never to the client.
var ErrUnavailable = errors.New("sign-in is temporarily unavailable, please try again in a moment")

// Options are the collaborators of create and verify.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
	Budget time.Duration    // deadline of one invocation (default 4s)
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Budget <= 0 {
		o.Budget = 4 * time.Second
	}
}

// user is what both create and verify need to know about the user.
type user struct {
	key         string // challenge key
	known       bool
	email       string
	deliverable bool // a known user whose address may receive codes
}

func identify(k *Keys, cfg Config, userName string, attrs map[string]string, notFound bool) user {
	sub := attrs["sub"]
	if notFound || sub == "" {
		return user{key: k.userKey("", clipString(userName, maxUsername))}
	}
	u := user{key: k.userKey(sub, ""), known: true, email: attrs["email"]}
	if a, err := mail.ParseAddress(u.email); err == nil && a.Address == u.email && a.Name == "" {
		u.deliverable = !cfg.RequireVerifiedEmail || attrs["email_verified"] == "true"
	}
	return u
}

func clipString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
