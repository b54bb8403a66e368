package customauth

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
)

// VerifyEvent is verify's input and output.
type VerifyEvent = events.CognitoEventUserPoolsVerifyAuthChallenge

// Verify is the VerifyAuthChallengeResponse trigger.
type Verify struct {
	cfg   Config
	keys  *Keys
	store Challenges
	opts  Options
}

// NewVerify returns the verify trigger.
func NewVerify(cfg Config, keys *Keys, st Challenges, opts Options) *Verify {
	opts.defaults()
	return &Verify{cfg: cfg, keys: keys, store: st, opts: opts}
}

// Handle answers one verify invocation. Only a dependency failure is an
// error; every wrong, expired, used or malformed answer is answerCorrect false.
func (v *Verify) Handle(ctx context.Context, ev VerifyEvent) (VerifyEvent, error) {
	if ev.TriggerSource != SourceVerify {
		ev.Response.AnswerCorrect = false
		return ev, ErrTriggerSource
	}
	ctx, cancel := context.WithTimeout(ctx, v.opts.Budget)
	defer cancel()
	ok, err := v.check(ctx, ev)
	ev.Response.AnswerCorrect = ok && err == nil
	if err != nil {
		v.opts.Logger.ErrorContext(ctx, "verifyauth: failed", "error", err)
		return ev, ErrUnavailable
	}
	return ev, nil
}

func (v *Verify) check(ctx context.Context, ev VerifyEvent) (bool, error) {
	log := v.opts.Logger
	priv := ev.Request.PrivateChallengeParameters
	if priv[paramStep] != stepAnswer {
		return false, nil // the START round: nothing to verify
	}
	answer, _ := ev.Request.ChallengeAnswer.(string)
	answer = strings.TrimSpace(answer)
	if answer == "" || len(answer) > maxAnswer {
		return false, nil
	}
	u := identify(v.keys, v.cfg, ev.UserName, ev.Request.UserAttributes, ev.Request.UserNotFound)
	cid := priv[paramCID]
	now := v.opts.Now()

	if strings.Contains(answer, ".") {
		claims, err := v.keys.verifyLink(answer, ev.UserPoolID, ev.UserName, now)
		if err != nil {
			// An answer that is not a signed token may be a mistyped code
			// ("123.456"), whose hash is no secret: name only tokens.
			attrs := []any{"reason", err.Error()}
			if !errors.Is(err, errLinkMalformed) && !errors.Is(err, errLinkSignature) {
				attrs = append(attrs, "link", obs.TokenID(answer))
			}
			log.InfoContext(ctx, "verifyauth: link refused", attrs...)
			return false, nil
		}
		if claims.JTI != cid || !u.deliverable {
			log.InfoContext(ctx, "verifyauth: link not for this challenge", "link", obs.TokenID(answer))
			return false, nil
		}
		if err := v.store.UseChallenge(ctx, u.key, cid, now); err != nil {
			if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				log.InfoContext(ctx, "verifyauth: link already used, replaced or expired", "challenge", obs.TokenID(cid))
				return false, nil
			}
			return false, fmt.Errorf("use challenge: %w", err)
		}
		log.InfoContext(ctx, "verifyauth: link accepted", "challenge", obs.TokenID(cid))
		return true, nil
	}

	if cid == "" {
		return false, nil
	}
	// Count the attempt first, whatever the answer looks like, so that every
	// answer costs one of the challenge's attempts and counts toward the
	// user's ceiling (which slows new codes, never refuses an answer).
	// Once the challenge's attempts are spent, every answer is wrong.
	ch, err := v.store.AttemptChallenge(ctx, u.key, cid, now, v.cfg.budget())
	if err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			log.InfoContext(ctx, "verifyauth: challenge used, replaced, expired or out of attempts", "challenge", obs.TokenID(cid))
			return false, nil
		}
		return false, fmt.Errorf("attempt challenge: %w", err)
	}
	mac := v.keys.codeMAC(u.key, cid, answer)
	if !hmac.Equal(mac, ch.CodeMAC) || !isCode(answer, v.cfg.CodeLength) || !u.deliverable {
		log.InfoContext(ctx, "verifyauth: wrong code", "challenge", obs.TokenID(cid), "attempts", ch.Attempts,
			"window_attempts", ch.WindowAttempts)
		return false, nil
	}
	if err := v.store.UseChallenge(ctx, u.key, cid, now); err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("use challenge: %w", err)
	}
	log.InfoContext(ctx, "verifyauth: code accepted", "challenge", obs.TokenID(cid))
	return true, nil
}
