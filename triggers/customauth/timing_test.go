package customauth_test

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/internal/dev/benchpair"
	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/shared/mail"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/triggers/customauth"
)

// The timing benchmarks answer one question: can an attacker tell a known
// user from an unknown one by how long create or verify takes? Each runs
// at least timingPairs invocations of each kind, interleaved in random
// order, against dynalite and the SES emulator, the same as in AWS but for
// the emulators' speed, and reports the medians, their ratio and the AUC:
// the chance that a known user's invocation is the slower of a random
// pair (0.5: no better than a coin; 0 or 1: fully separable).

const timingPairs = 200

type timingRig struct {
	create *customauth.Create
	verify *customauth.Verify
	seq    int
}

func newTimingRig(b *testing.B) *timingRig {
	db, ses := emulators(b)
	table := storetest.NewTable(b, db)
	st := store.New(db.Client, table)
	sender, err := mail.NewSES(ses.Client, "Acme <no-reply@acme.test>")
	if err != nil {
		b.Fatal(err)
	}
	// MailFloor 0 (rigBase's): the floor comes from timed sends alone, the
	// harder case.
	set, keys, cfg := rigBase(b)
	return &timingRig{
		create: customauth.NewCreate(cfg, keys, st, sender, set, "Acme", customauth.Options{}),
		verify: customauth.NewVerify(cfg, keys, st, customauth.Options{}),
	}
}

// createEvent is the create round that mails a code, for a fresh known or
// unknown user, as Cognito sends it with PreventUserExistenceErrors.
func (r *timingRig) createEvent(known bool) customauth.CreateEvent {
	r.seq++
	var ev customauth.CreateEvent
	ev.TriggerSource = customauth.SourceCreate
	ev.UserPoolID = "us-east-1_TIMING"
	ev.Request.Session = []*events.CognitoEventUserPoolsChallengeResult{{ChallengeName: "CUSTOM_CHALLENGE", ChallengeResult: false, ChallengeMetadata: customauth.StepStart}}
	ev.Request.ClientMetadata = map[string]string{customauth.MethodKey: customauth.MethodCode}
	if known {
		ev.UserName = fmt.Sprintf("known-%d-%d", r.seq, time.Now().UnixNano())
		ev.Request.UserAttributes = map[string]string{"sub": ev.UserName, "email": fmt.Sprintf("u%d@timing.test", r.seq),
			"email_verified": "true", "given_name": "Ada"}
	} else {
		ev.UserName = fmt.Sprintf("nobody-%d-%d@timing.test", r.seq, time.Now().UnixNano())
		ev.Request.UserNotFound = true
	}
	return ev
}

// verifyEvent is a wrong answer to the challenge create issued for ev.
func verifyEvent(ev customauth.CreateEvent, out customauth.CreateEvent) customauth.VerifyEvent {
	var v customauth.VerifyEvent
	v.TriggerSource = customauth.SourceVerify
	v.UserPoolID, v.UserName = ev.UserPoolID, ev.UserName
	v.Request.UserAttributes = ev.Request.UserAttributes
	v.Request.UserNotFound = ev.Request.UserNotFound
	v.Request.PrivateChallengeParameters = out.Response.PrivateChallengeParameters
	v.Request.ChallengeAnswer = "000000"
	return v
}

func BenchmarkTimingCreate(b *testing.B) { benchTiming(b, false) }
func BenchmarkTimingVerify(b *testing.B) { benchTiming(b, true) }

func benchTiming(b *testing.B, verify bool) {
	r := newTimingRig(b)
	ctx := context.Background()
	// Warm up: connections, the floor's first samples.
	for i := range 20 {
		if _, err := r.create.Handle(ctx, r.createEvent(i%2 == 0)); err != nil {
			b.Fatal(err)
		}
	}
	n := max(b.N, timingPairs)
	var known, unknown []time.Duration
	if !verify {
		b.ResetTimer()
		for range n {
			first := mrand.IntN(2) == 0
			for _, k := range []bool{first, !first} {
				ev := r.createEvent(k)
				t0 := time.Now()
				if _, err := r.create.Handle(ctx, ev); err != nil {
					b.Fatal(err)
				}
				if d := time.Since(t0); k {
					known = append(known, d)
				} else {
					unknown = append(unknown, d)
				}
			}
		}
	} else {
		// Every challenge first, so that the emulators' work for one
		// create does not fall into the next verify.
		type probe struct {
			known bool
			ev    customauth.VerifyEvent
		}
		probes := make([]probe, 0, 2*n)
		for i := range 2 * n {
			ev := r.createEvent(i%2 == 0)
			out, err := r.create.Handle(ctx, ev)
			if err != nil {
				b.Fatal(err)
			}
			probes = append(probes, probe{i%2 == 0, verifyEvent(ev, out)})
		}
		mrand.Shuffle(len(probes), func(i, j int) { probes[i], probes[j] = probes[j], probes[i] })
		time.Sleep(200 * time.Millisecond)
		b.ResetTimer()
		for _, p := range probes {
			t0 := time.Now()
			res, err := r.verify.Handle(ctx, p.ev)
			d := time.Since(t0)
			if err != nil || res.Response.AnswerCorrect {
				b.Fatalf("verify: %+v %v", res.Response, err)
			}
			if p.known {
				known = append(known, d)
			} else {
				unknown = append(unknown, d)
			}
		}
	}
	b.StopTimer()
	kp, up := benchpair.Median(known), benchpair.Median(unknown)
	b.ReportMetric(float64(kp)/1e6, "known-p50-ms")
	b.ReportMetric(float64(up)/1e6, "unknown-p50-ms")
	b.ReportMetric(float64(kp)/float64(up), "ratio")
	b.ReportMetric(float64(kp-up)/1e6, "diff-ms")
	b.ReportMetric(auc(known, unknown), "auc")
	b.ReportMetric(float64(len(known)), "samples")
}

// auc is the chance that a random sample of a exceeds one of b (ties half).
func auc(a, b []time.Duration) float64 {
	var wins float64
	for _, x := range a {
		for _, y := range b {
			switch {
			case x > y:
				wins++
			case x == y:
				wins += 0.5
			}
		}
	}
	return wins / float64(len(a)*len(b))
}
