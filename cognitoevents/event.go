package cognitoevents

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// What the EventBridge rule matches; anything else reaching the function is
// not a Cognito user pool API call.
const (
	Source      = "aws.cognito-idp"
	DetailType  = "AWS API Call via CloudTrail"
	EventSource = "cognito-idp.amazonaws.com"
)

// MaxEventBytes bounds the input: EventBridge events are at most 256 KiB.
const MaxEventBytes = 256 << 10

// Cognito writes one of these instead of a value it keeps out of CloudTrail
// (usernames, tokens, passwords). The user guide spells the first; the
// events carry the second.
var redacted = []string{"HIDDEN_FOR_SECURITY_REASONS", "HIDDEN_DUE_TO_SECURITY_REASONS"}

// ErrMalformed marks an event that cannot be read as a Cognito API call.
var ErrMalformed = errors.New("cognitoevents: malformed event")

// Call is what one CloudTrail record of a user pool API call says about the
// user it concerns. Values Cognito redacts are empty.
type Call struct {
	EventID    string    // CloudTrail eventID (the same in every delivery of one call)
	Name       string    // eventName: the API operation
	Time       time.Time // eventTime: when Cognito served the call
	ErrorCode  string    // set when the call failed
	UserPoolID string    // requestParameters.userPoolId (admin operations)
	Username   string    // requestParameters.username, unless redacted
	Sub        string    // additionalEventData.sub: the user's sub
	ClientID   string    // requestParameters.clientId (RevokeToken)
	GroupName  string    // requestParameters.groupName (AdminRemoveUserFromGroup)
}

type envelope struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       string          `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

type detail struct {
	EventSource         string            `json:"eventSource"`
	EventName           string            `json:"eventName"`
	EventID             string            `json:"eventID"`
	EventTime           string            `json:"eventTime"`
	ErrorCode           string            `json:"errorCode"`
	RequestParameters   requestParameters `json:"requestParameters"`
	AdditionalEventData struct {
		Sub string `json:"sub"`
	} `json:"additionalEventData"`
}

type requestParameters struct {
	UserPoolID string `json:"userPoolId"`
	Username   string `json:"username"`
	ClientID   string `json:"clientId"`
	GroupName  string `json:"groupName"`
}

// Parse reads an EventBridge event carrying a CloudTrail record of a Cognito
// user pool API call. Every error wraps ErrMalformed and says what is wrong;
// no input makes it panic.
func Parse(raw []byte) (Call, error) {
	if len(raw) > MaxEventBytes {
		return Call{}, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(raw), MaxEventBytes)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Call{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if env.Source != Source || env.DetailType != DetailType {
		return Call{}, fmt.Errorf("%w: source %q detail-type %q, want %q %q", ErrMalformed,
			clip(env.Source), clip(env.DetailType), Source, DetailType)
	}
	if len(env.Detail) == 0 || env.Detail[0] != '{' {
		return Call{}, fmt.Errorf("%w: detail is not an object", ErrMalformed)
	}
	var d detail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return Call{}, fmt.Errorf("%w: detail: %v", ErrMalformed, err)
	}
	if d.EventSource != EventSource {
		return Call{}, fmt.Errorf("%w: eventSource %q, want %q", ErrMalformed, clip(d.EventSource), EventSource)
	}
	c := Call{
		EventID:    d.EventID,
		Name:       d.EventName,
		ErrorCode:  d.ErrorCode,
		UserPoolID: d.RequestParameters.UserPoolID,
		Username:   d.RequestParameters.Username,
		Sub:        d.AdditionalEventData.Sub,
		ClientID:   d.RequestParameters.ClientID,
		GroupName:  d.RequestParameters.GroupName,
	}
	if c.EventID == "" {
		c.EventID = env.ID
	}
	for _, f := range []struct{ name, v string }{
		{"eventName", c.Name}, {"eventID", c.EventID}, {"errorCode", c.ErrorCode},
		{"requestParameters.userPoolId", c.UserPoolID}, {"requestParameters.clientId", c.ClientID},
		{"requestParameters.groupName", c.GroupName},
	} {
		if !plain(f.v, 256) {
			return Call{}, fmt.Errorf("%w: %s is not a short printable string", ErrMalformed, f.name)
		}
	}
	if c.Name == "" {
		return Call{}, fmt.Errorf("%w: no eventName", ErrMalformed)
	}
	for _, r := range redacted {
		if c.Username == r {
			c.Username = ""
		}
	}
	if !plain(c.Username, 128) {
		return Call{}, fmt.Errorf("%w: requestParameters.username is not a Cognito user name", ErrMalformed)
	}
	if c.Sub != "" && !validSub(c.Sub) {
		return Call{}, fmt.Errorf("%w: additionalEventData.sub is not a Cognito sub", ErrMalformed)
	}
	ts := d.EventTime
	if ts == "" {
		ts = env.Time
	}
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return Call{}, fmt.Errorf("%w: eventTime %q is not RFC 3339", ErrMalformed, clip(ts))
	}
	c.Time = t
	return c, nil
}

// validSub accepts what Cognito issues as a sub (a UUID) and little else,
// so an event cannot name an arbitrary key.
func validSub(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// plain reports whether s is valid UTF-8 of at most n bytes without control
// characters.
func plain(s string, n int) bool {
	if len(s) > n || !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}

// clip shortens a value for an error message.
func clip(s string) string {
	if len(s) > 64 || !utf8.ValidString(s) {
		return strings.ToValidUTF8(s[:min(len(s), 64)], "?") + "…"
	}
	return s
}
