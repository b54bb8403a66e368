package customauth

import (
	"context"
	"errors"
	"testing"
)

// TestTriggerSource: each trigger answers only its own trigger source, and
// a wrong one never lets a sign-in through.
func TestTriggerSource(t *testing.T) {
	ctx := context.Background()
	for _, src := range []string{"", "CreateAuthChallenge_Authentication", "VerifyAuthChallengeResponse_Authentication",
		"DefineAuthChallenge_Authentication", "PreSignUp_SignUp", "DefineAuthChallenge_authentication"} {
		if src != SourceDefine {
			var ev DefineEvent
			ev.TriggerSource = src
			ev.Response.IssueTokens = true
			out, err := NewDefine(Config{MaxAttempts: 3}).Handle(ctx, ev)
			if !errors.Is(err, ErrTriggerSource) || out.Response.IssueTokens || !out.Response.FailAuthentication {
				t.Errorf("define, source %q: %v %+v", src, err, out.Response)
			}
		}
		if src != SourceCreate {
			var ev CreateEvent
			ev.TriggerSource = src
			if _, err := NewCreate(Config{}, nil, nil, nil, nil, "", Options{}).Handle(ctx, ev); !errors.Is(err, ErrTriggerSource) {
				t.Errorf("create, source %q: %v", src, err)
			}
		}
		if src != SourceVerify {
			var ev VerifyEvent
			ev.TriggerSource = src
			ev.Response.AnswerCorrect = true
			out, err := NewVerify(Config{}, nil, nil, Options{}).Handle(ctx, ev)
			if !errors.Is(err, ErrTriggerSource) || out.Response.AnswerCorrect {
				t.Errorf("verify, source %q: %v %+v", src, err, out.Response)
			}
		}
	}
}
