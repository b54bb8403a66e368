package customauth

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// The flow has two kinds of round, told apart by the challenge metadata that
// create sets and Cognito replays in the session:
//
//	START   the first round. Cognito passes no client metadata to the
//	        triggers on InitiateAuth, so this round only lets the client
//	        answer with its ClientMetadata ("signInMethod": "code" or
//	        "link"); any answer is "wrong" and costs nothing.
//	ANSWER  every later round: the client answers with the emailed code or
//	        with a magic link's token.
const (
	ChallengeName = "CUSTOM_CHALLENGE"
	StepStart     = "START"
	StepAnswer    = "ANSWER"
)

// Decision is what define answers.
type Decision struct {
	ChallengeName      string
	IssueTokens        bool
	FailAuthentication bool
}

var (
	decideFail      = Decision{FailAuthentication: true}
	decideChallenge = Decision{ChallengeName: ChallengeName}
	decideTokens    = Decision{IssueTokens: true}
)

// Decide is define's state machine over Cognito's session array: a START
// round first, then ANSWER rounds until one is correct (tokens) or
// maxAttempts are wrong (failure). Anything else (another challenge type, a
// START later on, a success followed by more rounds) fails: the session is
// built by Cognito from our own answers, so an unexpected shape means
// something is wrong, and the safe answer is no.
func Decide(session []*events.CognitoEventUserPoolsChallengeResult, userNotFound bool, maxAttempts int) Decision {
	if len(session) == 0 {
		return decideChallenge
	}
	wrong := 0
	for i, r := range session {
		if r == nil || r.ChallengeName != ChallengeName {
			return decideFail
		}
		if i == 0 {
			if r.ChallengeMetadata != StepStart {
				return decideFail
			}
			continue
		}
		if r.ChallengeMetadata != StepAnswer || wrong >= maxAttempts {
			// No answer counts once maxAttempts were wrong, not even a
			// correct one (say, after the limit was lowered mid-session).
			return decideFail
		}
		if r.ChallengeResult {
			if i != len(session)-1 || userNotFound {
				return decideFail
			}
			return decideTokens
		}
		wrong++
	}
	if wrong >= maxAttempts {
		return decideFail
	}
	return decideChallenge
}

// DefineEvent is define's input and output.
type DefineEvent = events.CognitoEventUserPoolsDefineAuthChallenge

// Define is the DefineAuthChallenge trigger. It does no I/O.
type Define struct{ maxAttempts int }

// NewDefine returns the define trigger.
func NewDefine(cfg Config) *Define { return &Define{maxAttempts: cfg.MaxAttempts} }

// Handle answers one define invocation.
func (d *Define) Handle(_ context.Context, ev DefineEvent) (DefineEvent, error) {
	if ev.TriggerSource != SourceDefine {
		ev.Response.FailAuthentication, ev.Response.IssueTokens = true, false
		return ev, ErrTriggerSource
	}
	dec := Decide(ev.Request.Session, ev.Request.UserNotFound, d.maxAttempts)
	ev.Response.ChallengeName = dec.ChallengeName
	ev.Response.IssueTokens = dec.IssueTokens
	ev.Response.FailAuthentication = dec.FailAuthentication
	return ev, nil
}
