// Package authflow plays Amazon Cognito's part in the custom authentication
// flow, for tests: cognito-local does not run CUSTOM_AUTH, so this follows
// Cognito's documented loop against the real trigger handlers.
//
// InitiateAuth invokes define with an empty session; unless define issues
// tokens or fails, it invokes create with the challenge name and returns the
// public challenge parameters and a session. RespondToAuthChallenge invokes
// verify with the private parameters and the answer, appends
// {challengeName, challengeResult, challengeMetadata} to the session and
// invokes define again, and so on. Client metadata of RespondToAuthChallenge
// reaches all three triggers; InitiateAuth's reaches none. With
// PreventUserExistenceErrors, unknown users run the same loop with
// userNotFound set; without it they get UserNotFoundException at once.
// Each invocation goes through a lambda.Handler as JSON, with Cognito's 5 s
// deadline, and a trigger error surfaces as Cognito reports it. A session can
// be answered once.
package authflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Triggers are the three functions, as the Lambda runtime sees them.
type Triggers struct {
	Define, Create, Verify lambda.Handler
}

// User is a user of the simulated pool.
type User struct {
	Username   string            // the pool's username (a UUID in email-username pools)
	Attributes map[string]string // sub, email, email_verified, ...
}

// Pool is a simulated user pool with a custom auth app client.
type Pool struct {
	ID, ClientID string
	Region       string
	Triggers     Triggers
	// PreventUserExistenceErrors is the app client setting; true (the
	// default in new Cognito clients) runs the flow for unknown users.
	PreventUserExistenceErrors bool
	// Budget is the deadline of one trigger invocation (Cognito: 5 s).
	Budget time.Duration

	mu       sync.Mutex
	users    map[string]*User // by username and by email alias, lower case
	sessions map[string]*session
	seq      int
}

// Errors Cognito returns, matched with errors.Is.
var (
	ErrNotAuthorized  = errors.New("NotAuthorizedException: Incorrect username or password")
	ErrUserNotFound   = errors.New("UserNotFoundException: User does not exist")
	ErrInvalidSession = errors.New("NotAuthorizedException: Invalid session for the user")
)

// LambdaError is a trigger failure as Cognito reports it.
type LambdaError struct {
	Trigger string
	Message string
}

func (e *LambdaError) Error() string {
	return fmt.Sprintf("UserLambdaValidationException: %s failed with error %s.", e.Trigger, e.Message)
}

// NewPool returns a pool with PreventUserExistenceErrors on.
func NewPool(id, clientID string, t Triggers) *Pool {
	return &Pool{ID: id, ClientID: clientID, Region: "us-east-1", Triggers: t, PreventUserExistenceErrors: true,
		Budget: 5 * time.Second, users: map[string]*User{}, sessions: map[string]*session{}}
}

// AddUser adds u, reachable by username and by email.
func (p *Pool) AddUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := &User{Username: u.Username, Attributes: maps.Clone(u.Attributes)}
	p.users[strings.ToLower(u.Username)] = c
	if e := u.Attributes["email"]; e != "" {
		p.users[strings.ToLower(e)] = c
	}
}

// Result is InitiateAuth's or RespondToAuthChallenge's answer.
type Result struct {
	ChallengeName string
	Parameters    map[string]string // public challenge parameters
	Session       string            // pass to RespondToAuthChallenge
	Authenticated bool              // tokens were issued
}

type session struct {
	username    string // as the triggers see it
	user        *User  // nil when not found
	challenge   string
	private     map[string]string
	metadata    string
	results     []*events.CognitoEventUserPoolsChallengeResult
	used        bool
	createdAt   time.Time
	initiatedAs string
}

// InitiateAuth starts CUSTOM_AUTH for username (a username or an email alias).
func (p *Pool) InitiateAuth(ctx context.Context, username string) (*Result, error) {
	p.mu.Lock()
	u := p.users[strings.ToLower(username)]
	p.mu.Unlock()
	if u == nil && !p.PreventUserExistenceErrors {
		return nil, ErrUserNotFound
	}
	s := &session{user: u, username: username, createdAt: time.Now(), initiatedAs: username}
	if u != nil {
		s.username = u.Username
	}
	return p.next(ctx, s, nil)
}

// RespondToAuthChallenge answers the challenge of sessionID.
func (p *Pool) RespondToAuthChallenge(ctx context.Context, sessionID, answer string, clientMetadata map[string]string) (*Result, error) {
	p.mu.Lock()
	s := p.sessions[sessionID]
	if s == nil || s.used || time.Since(s.createdAt) > 3*time.Minute {
		p.mu.Unlock()
		return nil, ErrInvalidSession
	}
	s.used = true
	p.mu.Unlock()

	var ev events.CognitoEventUserPoolsVerifyAuthChallenge
	ev.CognitoEventUserPoolsHeader = p.header(s, "VerifyAuthChallengeResponse_Authentication")
	ev.Request.UserAttributes = s.attrs()
	ev.Request.PrivateChallengeParameters = s.private
	ev.Request.ChallengeAnswer = answer
	ev.Request.ClientMetadata = clientMetadata
	ev.Request.UserNotFound = s.user == nil
	if err := p.invoke(ctx, "VerifyAuthChallengeResponse", p.Triggers.Verify, &ev); err != nil {
		return nil, err
	}
	next := &session{user: s.user, username: s.username, createdAt: time.Now(), initiatedAs: s.initiatedAs,
		results: append(append([]*events.CognitoEventUserPoolsChallengeResult(nil), s.results...),
			&events.CognitoEventUserPoolsChallengeResult{
				ChallengeName:     s.challenge,
				ChallengeResult:   ev.Response.AnswerCorrect,
				ChallengeMetadata: s.metadata,
			})}
	return p.next(ctx, next, clientMetadata)
}

// next runs define and, when it asks for a challenge, create.
func (p *Pool) next(ctx context.Context, s *session, clientMetadata map[string]string) (*Result, error) {
	var def events.CognitoEventUserPoolsDefineAuthChallenge
	def.CognitoEventUserPoolsHeader = p.header(s, "DefineAuthChallenge_Authentication")
	def.Request.UserAttributes = s.attrs()
	def.Request.Session = s.results
	def.Request.ClientMetadata = clientMetadata
	def.Request.UserNotFound = s.user == nil
	if err := p.invoke(ctx, "DefineAuthChallenge", p.Triggers.Define, &def); err != nil {
		return nil, err
	}
	switch {
	case def.Response.IssueTokens && s.user != nil:
		return &Result{Authenticated: true}, nil
	case def.Response.IssueTokens, def.Response.FailAuthentication:
		return nil, ErrNotAuthorized
	case def.Response.ChallengeName != "CUSTOM_CHALLENGE":
		// Cognito would start another challenge type; this simulator knows only custom ones.
		return nil, fmt.Errorf("authflow: define asked for %q", def.Response.ChallengeName)
	}
	var cr events.CognitoEventUserPoolsCreateAuthChallenge
	cr.CognitoEventUserPoolsHeader = p.header(s, "CreateAuthChallenge_Authentication")
	cr.Request.UserAttributes = s.attrs()
	cr.Request.ChallengeName = def.Response.ChallengeName
	cr.Request.Session = s.results
	cr.Request.ClientMetadata = clientMetadata
	cr.Request.UserNotFound = s.user == nil
	if err := p.invoke(ctx, "CreateAuthChallenge", p.Triggers.Create, &cr); err != nil {
		return nil, err
	}
	s.challenge = def.Response.ChallengeName
	s.private = cr.Response.PrivateChallengeParameters
	s.metadata = cr.Response.ChallengeMetadata
	p.mu.Lock()
	p.seq++
	id := fmt.Sprintf("session-%d-%d", p.seq, time.Now().UnixNano())
	p.sessions[id] = s
	p.mu.Unlock()
	return &Result{ChallengeName: s.challenge, Parameters: cr.Response.PublicChallengeParameters, Session: id}, nil
}

func (s *session) attrs() map[string]string {
	if s.user == nil {
		return map[string]string{}
	}
	return maps.Clone(s.user.Attributes)
}

func (p *Pool) header(s *session, source string) events.CognitoEventUserPoolsHeader {
	return events.CognitoEventUserPoolsHeader{
		Version:       "1",
		TriggerSource: source,
		Region:        p.Region,
		UserPoolID:    p.ID,
		CallerContext: events.CognitoEventUserPoolsCallerContext{AWSSDKVersion: "aws-sdk-go-v2", ClientID: p.ClientID},
		UserName:      s.username,
	}
}

// invoke sends ev through h as JSON and decodes the answer into ev.
func (p *Pool) invoke(ctx context.Context, trigger string, h lambda.Handler, ev any) error {
	in, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.Budget)
	defer cancel()
	out, err := h.Invoke(ctx, in)
	if err != nil {
		return &LambdaError{Trigger: trigger, Message: err.Error()}
	}
	if err := json.Unmarshal(out, ev); err != nil {
		return &LambdaError{Trigger: trigger, Message: "invalid lambda response"}
	}
	return nil
}
