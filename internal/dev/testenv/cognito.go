package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// CognitoTriggers lists the trigger names cognito-local understands in
// CognitoOptions.Triggers. It invokes no custom auth challenge triggers.
var CognitoTriggers = []string{
	"CustomEmailSender", "CustomMessage", "PostAuthentication", "PostConfirmation",
	"PreSignUp", "PreTokenGeneration", "UserMigration",
}

// CognitoOptions configures cognito-local and the user pool created in it.
type CognitoOptions struct {
	// LambdaEndpoint is the base URL of a Lambda Invoke API (see package
	// lambdahost), e.g. "http://127.0.0.1:9001". Required when Triggers is set.
	LambdaEndpoint string
	// Triggers maps a trigger name (one of CognitoTriggers) to the function
	// name cognito-local invokes, e.g. {"PreSignUp": "presignup"}.
	Triggers map[string]string
	// PoolName names the user pool; default "shortfuse-test".
	PoolName string
}

// Cognito is a running cognito-local with one user pool and one app client.
//
// The pool signs in with the email address as username (SignUp's Username
// must be an email; the stored username becomes the sub). Tokens are RS256
// with kid "CognitoLocal"; the ID token carries aud = ClientID, token_use "id",
// auth_time, cognito:username, email and jti, the access token client_id,
// token_use "access" and username; neither carries origin_jti. Triggers are
// invoked with POST <LambdaEndpoint>/2015-03-31/functions/<name>/invocations
// and the standard Cognito event; only the reply's "response" is used. Email
// is an auto-verified attribute, so SignUp sends a code: cognito-local prints
// it to its output (see Output), after passing it through the CustomMessage
// trigger if one is set; errors of that trigger are logged and ignored.
type Cognito struct {
	Endpoint   string // "http://127.0.0.1:<Port>"
	Port       int
	UserPoolID string // e.g. "local_AbCdEf12"
	ClientID   string // app client without secret
	Issuer     string // the tokens' iss: Endpoint + "/" + UserPoolID
	JWKSURL    string // Issuer + "/.well-known/jwks.json"
	Client     *cip.Client

	mu      sync.Mutex
	proc    *process
	tempDir string
}

// CognitoLocal starts cognito-local for the duration of the test.
func CognitoLocal(t testing.TB, opts CognitoOptions, more ...Option) *Cognito {
	t.Helper()
	c, err := StartCognitoLocal(context.Background(), opts, more...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cognito-local output:\n%s", c.Output())
		}
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// StartCognitoLocal starts cognito-local, waits until it answers and creates
// (or, in a WithDataDir directory that has one, reuses) the user pool and app
// client. The caller must call Stop.
func StartCognitoLocal(ctx context.Context, opts CognitoOptions, more ...Option) (*Cognito, error) {
	s := newSettings(more)
	if err := opts.validate(); err != nil {
		return nil, err
	}
	_, startJS, _, err := script("cognito-local/lib/bin/start.js")
	if err != nil {
		return nil, err
	}
	c := &Cognito{}
	dir := s.dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "testenv-cognito-"); err != nil {
			return nil, fmt.Errorf("testenv: cognito-local data dir: %w", err)
		}
		c.tempDir = dir
	}
	if err := writeCognitoConfig(dir, opts); err != nil {
		c.removeTemp()
		return nil, err
	}
	sp := spec{
		name:   "cognito-local",
		dir:    dir, // cognito-local reads ./.cognito relative to its working directory
		output: s.output,
		args:   func(int) []string { return []string{startJS} },
		env: func(port int) []string {
			// HOST and PORT also make up the issuer cognito-local writes into tokens.
			return []string{"HOST=127.0.0.1", "PORT=" + strconv.Itoa(port), "DEBUG=", "COGNITO_LOCAL_DEVMODE="}
		},
		health: func(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) + "/health" },
	}
	p, port, err := startOnPort(ctx, sp, s.port)
	if err != nil {
		c.removeTemp()
		return nil, err
	}
	c.proc = p
	c.Port = port
	c.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	c.Client = cip.NewFromConfig(AWSConfig(), func(o *cip.Options) {
		o.BaseEndpoint = aws.String(c.Endpoint)
	})
	name := opts.PoolName
	if name == "" {
		name = "shortfuse-test"
	}
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.ensurePool(setupCtx, name); err != nil {
		_ = c.Stop()
		return nil, err
	}
	c.Issuer = c.Endpoint + "/" + c.UserPoolID
	c.JWKSURL = c.Issuer + "/.well-known/jwks.json"
	return c, nil
}

func (o CognitoOptions) validate() error {
	for trig, fn := range o.Triggers {
		if !slices.Contains(CognitoTriggers, trig) {
			return fmt.Errorf("testenv: unknown cognito-local trigger %q (want one of %v)", trig, CognitoTriggers)
		}
		if fn == "" {
			return fmt.Errorf("testenv: trigger %s has no function name", trig)
		}
	}
	if len(o.Triggers) > 0 && o.LambdaEndpoint == "" {
		return errors.New("testenv: CognitoOptions.Triggers needs a LambdaEndpoint")
	}
	return nil
}

// writeCognitoConfig writes dir/.cognito/config.json. Retries are off so that
// a trigger runs exactly once per Cognito operation, which keeps tests exact.
func writeCognitoConfig(dir string, o CognitoOptions) error {
	lambdaClient := map[string]any{
		"credentials": map[string]string{"accessKeyId": "local", "secretAccessKey": "local"},
		"region":      Region,
		"maxRetries":  0,
		"httpOptions": map[string]any{"timeout": 10000, "connectTimeout": 2000},
	}
	if o.LambdaEndpoint != "" {
		lambdaClient["endpoint"] = o.LambdaEndpoint
	}
	triggers := o.Triggers
	if triggers == nil {
		triggers = map[string]string{}
	}
	cfg := map[string]any{
		"LambdaClient":     lambdaClient,
		"TriggerFunctions": triggers,
		"UserPoolDefaults": map[string]any{"UsernameAttributes": []string{"email"}},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	cdir := filepath.Join(dir, ".cognito")
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return fmt.Errorf("testenv: cognito-local config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cdir, "config.json"), b, 0o644); err != nil {
		return fmt.Errorf("testenv: cognito-local config: %w", err)
	}
	return nil
}

// ensurePool reuses the pool and client named name, or creates them.
func (c *Cognito) ensurePool(ctx context.Context, name string) error {
	pools, err := c.Client.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil {
		return fmt.Errorf("testenv: cognito-local ListUserPools: %w", err)
	}
	for _, p := range pools.UserPools {
		if aws.ToString(p.Name) != name {
			continue
		}
		clients, err := c.Client.ListUserPoolClients(ctx, &cip.ListUserPoolClientsInput{
			UserPoolId: p.Id, MaxResults: aws.Int32(60),
		})
		if err != nil {
			return fmt.Errorf("testenv: cognito-local ListUserPoolClients: %w", err)
		}
		for _, cl := range clients.UserPoolClients {
			if aws.ToString(cl.ClientName) == name {
				c.UserPoolID, c.ClientID = aws.ToString(p.Id), aws.ToString(cl.ClientId)
				return nil
			}
		}
	}
	pool, err := c.Client.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:           aws.String(name),
		UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
		// As in most real pools; it also makes cognito-local send the sign-up
		// code, through the CustomMessage trigger when one is set.
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
	})
	if err != nil {
		return fmt.Errorf("testenv: cognito-local CreateUserPool: %w", err)
	}
	client, err := c.Client.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: pool.UserPool.Id,
		ClientName: aws.String(name),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{
			types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth,
			types.ExplicitAuthFlowsTypeAllowCustomAuth,
		},
		// Cognito's defaults, stated so tokens do not get cognito-local's 24 h.
		IdTokenValidity:      aws.Int32(60),
		AccessTokenValidity:  aws.Int32(60),
		RefreshTokenValidity: 30,
		TokenValidityUnits: &types.TokenValidityUnitsType{
			IdToken: types.TimeUnitsTypeMinutes, AccessToken: types.TimeUnitsTypeMinutes, RefreshToken: types.TimeUnitsTypeDays,
		},
		EnableTokenRevocation: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("testenv: cognito-local CreateUserPoolClient: %w", err)
	}
	c.UserPoolID, c.ClientID = aws.ToString(pool.UserPool.Id), aws.ToString(client.UserPoolClient.ClientId)
	return nil
}

// Stop stops cognito-local and removes its temporary data directory.
func (c *Cognito) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		c.proc.stop()
	}
	c.removeTemp()
	return nil
}

// Output returns the last lines cognito-local printed.
func (c *Cognito) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return ""
	}
	return c.proc.output()
}

func (c *Cognito) removeTemp() {
	if c.tempDir != "" {
		_ = os.RemoveAll(c.tempDir)
		c.tempDir = ""
	}
}

// Tokens are the tokens InitiateAuth returned.
type Tokens struct {
	IDToken      string
	AccessToken  string
	RefreshToken string
	ExpiresIn    int32
}

// SignUp registers username (an email address) with password and extra
// attributes, then confirms the user with AdminConfirmSignUp unless a
// PreSignUp trigger already did. It returns the user's sub.
func (c *Cognito) SignUp(ctx context.Context, username, password string, attrs map[string]string) (string, error) {
	in := &cip.SignUpInput{
		ClientId: aws.String(c.ClientID),
		Username: aws.String(username),
		Password: aws.String(password),
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		in.UserAttributes = append(in.UserAttributes, types.AttributeType{Name: aws.String(k), Value: aws.String(attrs[k])})
	}
	out, err := c.Client.SignUp(ctx, in)
	if err != nil {
		return "", err
	}
	if !out.UserConfirmed {
		if _, err := c.Client.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{
			UserPoolId: aws.String(c.UserPoolID),
			Username:   aws.String(username),
		}); err != nil {
			return "", err
		}
	}
	return aws.ToString(out.UserSub), nil
}

// Login signs in with USER_PASSWORD_AUTH.
func (c *Cognito) Login(ctx context.Context, username, password string) (*Tokens, error) {
	out, err := c.Client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
		ClientId:       aws.String(c.ClientID),
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": password},
	})
	if err != nil {
		return nil, err
	}
	r := out.AuthenticationResult
	if r == nil {
		return nil, fmt.Errorf("testenv: InitiateAuth returned challenge %q instead of tokens", out.ChallengeName)
	}
	return &Tokens{
		IDToken:      aws.ToString(r.IdToken),
		AccessToken:  aws.ToString(r.AccessToken),
		RefreshToken: aws.ToString(r.RefreshToken),
		ExpiresIn:    r.ExpiresIn,
	}, nil
}

// SignUpAndLogin runs SignUp then Login.
func (c *Cognito) SignUpAndLogin(ctx context.Context, username, password string, attrs map[string]string) (*Tokens, error) {
	if _, err := c.SignUp(ctx, username, password, attrs); err != nil {
		return nil, err
	}
	return c.Login(ctx, username, password)
}

// Done is closed when the cognito-local process exits.
func (c *Cognito) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return doneOf(c.proc)
}
