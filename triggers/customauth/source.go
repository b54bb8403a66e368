package customauth

import "errors"

// Trigger sources Cognito sends to the three custom auth triggers.
const (
	SourceDefine = "DefineAuthChallenge_Authentication"
	SourceCreate = "CreateAuthChallenge_Authentication"
	SourceVerify = "VerifyAuthChallengeResponse_Authentication"
)

// ErrTriggerSource refuses an event meant for another trigger: a function
// attached to the wrong trigger fails every sign-in instead of answering a
// question it was not asked.
var ErrTriggerSource = errors.New("unexpected trigger source")
