package customauth

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

type cr = events.CognitoEventUserPoolsChallengeResult

func start() *cr { return &cr{ChallengeName: ChallengeName, ChallengeMetadata: StepStart} }
func answer(ok bool) *cr {
	return &cr{ChallengeName: ChallengeName, ChallengeMetadata: StepAnswer, ChallengeResult: ok}
}
func other(name string) *cr { return &cr{ChallengeName: name, ChallengeResult: true} }

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name     string
		session  []*cr
		notFound bool
		want     Decision
	}{
		{"empty", nil, false, decideChallenge},
		{"after start", []*cr{start()}, false, decideChallenge},
		{"correct", []*cr{start(), answer(true)}, false, decideTokens},
		{"one wrong", []*cr{start(), answer(false)}, false, decideChallenge},
		{"two wrong", []*cr{start(), answer(false), answer(false)}, false, decideChallenge},
		{"three wrong", []*cr{start(), answer(false), answer(false), answer(false)}, false, decideFail},
		{"two wrong then right", []*cr{start(), answer(false), answer(false), answer(true)}, false, decideTokens},
		{"right after the limit", []*cr{start(), answer(false), answer(false), answer(false), answer(true)}, false, decideFail},
		{"unknown user, correct?", []*cr{start(), answer(true)}, true, decideFail},
		{"unknown user, wrong", []*cr{start(), answer(false)}, true, decideChallenge},
		{"unknown user, start", nil, true, decideChallenge},
		{"no start round", []*cr{answer(true)}, false, decideFail},
		{"second start", []*cr{start(), start()}, false, decideFail},
		{"success not last", []*cr{start(), answer(true), answer(false)}, false, decideFail},
		{"password round", []*cr{other("PASSWORD_VERIFIER")}, false, decideFail},
		{"srp then custom", []*cr{other("SRP_A"), start()}, false, decideFail},
		{"nil entry", []*cr{start(), nil}, false, decideFail},
		{"unknown metadata", []*cr{start(), {ChallengeName: ChallengeName, ChallengeMetadata: "X", ChallengeResult: true}}, false, decideFail},
	} {
		if got := Decide(tc.session, tc.notFound, 3); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func FuzzDefine(f *testing.F) {
	h := lambda.NewHandler(NewDefine(Config{MaxAttempts: 3}).Handle)
	f.Add([]byte(`{"triggerSource":"DefineAuthChallenge_Authentication","request":{"session":[]}}`))
	f.Add([]byte(`{"request":{"session":[{"challengeName":"CUSTOM_CHALLENGE","challengeResult":false,"challengeMetadata":"START"},{"challengeName":"CUSTOM_CHALLENGE","challengeResult":true,"challengeMetadata":"ANSWER"}]}}`))
	f.Add([]byte(`{"request":{"session":[null,{"challengeName":"SRP_A","challengeResult":true}],"userNotFound":true}}`))
	f.Add([]byte(`{"request":{"session":{}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var ev DefineEvent
		ev.TriggerSource = SourceDefine
		if !answered(t, h, in, &ev) {
			return
		}
		r := ev.Response
		n := 0
		for _, b := range []bool{r.IssueTokens, r.FailAuthentication, r.ChallengeName != ""} {
			if b {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("not exactly one decision: %+v", r)
		}
		if r.IssueTokens {
			s := ev.Request.Session
			last := s[len(s)-1]
			if ev.Request.UserNotFound || len(s) < 2 || !last.ChallengeResult || last.ChallengeMetadata != StepAnswer || s[0].ChallengeMetadata != StepStart {
				t.Fatalf("tokens for %s", in)
			}
			if len(s)-2 >= 3 {
				t.Fatalf("tokens after %d wrong answers: %s", len(s)-2, in)
			}
		}
	})
}
