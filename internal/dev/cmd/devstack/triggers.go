package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/shortfuse/shortfuse/internal/dev/localmail"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/shared/mail"
	"github.com/shortfuse/shortfuse/triggers/customauth"
	"github.com/shortfuse/shortfuse/triggers/custommessage"
	"github.com/shortfuse/shortfuse/triggers/presignup"
)

// The Cognito triggers: PreSignUp and CustomMessage are wired into
// cognito-local; the three custom auth functions are served by the Lambda
// host too, though cognito-local cannot run CUSTOM_AUTH, so that they can
// be invoked directly. Their settings are the SHORTFUSE_* variables of the
// Lambda functions: the defaults below, overridden by the environment.
func init() {
	functions = append(functions,
		Function{Name: "presignup", Triggers: []string{"PreSignUp"}, New: trigger("presignup", presignup.Function)},
		Function{Name: "custommessage", Triggers: []string{"CustomMessage"}, New: newCustomMessage},
		Function{Name: "defineauth", New: trigger("defineauth", customauth.DefineFunction),
			Example: `{"version":"1","triggerSource":"DefineAuthChallenge_Authentication","userName":"ada","request":{"userAttributes":{"email":"ada@example.com"},"session":[]}}`},
		Function{Name: "createauth", New: trigger("createauth", customauth.CreateFunction)},
		Function{Name: "verifyauth", New: trigger("verifyauth", customauth.VerifyFunction)},
	)
	setups = append(setups, verifyEmailOnSignUp)
	extraSections = append(extraSections, signUpMailSection, customAuthSection)
}

// Domains the local policy refuses and auto-confirms, for the walkthrough.
const (
	devDeniedDomain  = "denied.example"
	devTrustedDomain = "trusted.example"
	devMailFrom      = "shortfuse dev <no-reply@shortfuse.local>"
	devLinkKeyVar    = "SHORTFUSE_DEV_AUTH_LINK_KEY"
)

// triggerVars returns the functions' configuration: local defaults, then
// SHORTFUSE_* variables from the environment, then the stack's endpoints.
func triggerVars(env Env) (map[string]string, error) {
	if err := devLinkKey(); err != nil {
		return nil, err
	}
	m := map[string]string{
		"SHORTFUSE_SIGNUP_DENIED_DOMAINS":      devDeniedDomain,
		"SHORTFUSE_SIGNUP_AUTOCONFIRM_DOMAINS": devTrustedDomain,
		"SHORTFUSE_MAIL_FROM":                  devMailFrom,
		"SHORTFUSE_AUTH_LINK_KEY":              "env:" + devLinkKeyVar,
		"SHORTFUSE_AUTH_LINK_BASE_URL":         "http://localhost:3000/signin",
	}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "SHORTFUSE_") {
			m[k] = v
		}
	}
	m["SHORTFUSE_TABLE"] = env.Table
	m["SHORTFUSE_AWS_REGION"] = env.Region
	m["SHORTFUSE_DYNAMODB_ENDPOINT"] = env.DynamoEndpoint
	m["SHORTFUSE_SES_ENDPOINT"] = env.SESEndpoint
	delete(m, "SHORTFUSE_AWS_ENDPOINT")
	return m, nil
}

var linkKeyOnce sync.Once

// devLinkKey makes a fresh HMAC key for magic links, once per run, unless
// SHORTFUSE_AUTH_LINK_KEY names one.
func devLinkKey() error {
	var err error
	linkKeyOnce.Do(func() {
		if os.Getenv(devLinkKeyVar) != "" {
			return
		}
		b := make([]byte, 32)
		if _, err = rand.Read(b); err == nil {
			err = os.Setenv(devLinkKeyVar, base64.RawURLEncoding.EncodeToString(b))
		}
	})
	return err
}

// trigger builds a trigger through its production constructor.
func trigger(name string, build function.Constructor) func(context.Context, Env) (lambda.Handler, error) {
	return func(ctx context.Context, env Env) (lambda.Handler, error) {
		vars, err := triggerVars(env)
		if err != nil {
			return nil, err
		}
		return lambdaFunction(ctx, name, vars, build)
	}
}

// newCustomMessage builds custommessage as its constructor does, its
// handler wrapped by a relay: cognito-local only prints the message; the
// relay mails it through SES with the code filled in, as Cognito would.
func newCustomMessage(ctx context.Context, env Env) (lambda.Handler, error) {
	vars, err := triggerVars(env)
	if err != nil {
		return nil, err
	}
	return lambdaFunction(ctx, "custommessage", vars, func(_ context.Context, in function.Input) (function.Handler, error) {
		h, err := custommessage.FromEnv(in.Env, in.Log)
		if err != nil {
			return nil, err
		}
		dir := cognitoDataDir(env)
		if dir == "" {
			in.Log.Warn("cognito-local's data directory not found: sign-up mail is not relayed to SES")
			return h.Handle, nil
		}
		sender, err := mail.NewSES(sesv2.NewFromConfig(env.AWS, func(o *sesv2.Options) {
			o.BaseEndpoint = aws.String(env.SESEndpoint)
		}), devMailFrom)
		if err != nil {
			return nil, err
		}
		return localmail.New(dir, sender, in.Log).Wrap(h.Handle), nil
	})
}

// verifyEmailOnSignUp makes the pool verify email addresses, as pools with
// email sign-in do in AWS; cognito-local sends no confirmation message
// (and so runs no CustomMessage trigger) otherwise.
func verifyEmailOnSignUp(ctx context.Context, env Env) error {
	c := cip.NewFromConfig(env.AWS, func(o *cip.Options) { o.BaseEndpoint = aws.String(env.CognitoEndpoint) })
	_, err := c.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{
		UserPoolId:             aws.String(env.UserPoolID),
		AutoVerifiedAttributes: []ciptypes.VerifiedAttributeType{ciptypes.VerifiedAttributeTypeEmail},
	})
	if err != nil {
		return fmt.Errorf("cognito-local UpdateUserPool: %w", err)
	}
	return nil
}

// cognitoDataDir finds the directory cognito-local runs in (it keeps the
// user pool in .cognito/db/<pool>.json there): the stack's persistent data
// directory or the temporary one testenv made. "" if neither holds the pool.
func cognitoDataDir(env Env) string {
	var candidates []string
	if root, err := testenv.RepoRoot(); err == nil {
		candidates = append(candidates, filepath.Join(root, ".devstack", "data", "cognito"))
	}
	tmp, _ := filepath.Glob(filepath.Join(os.TempDir(), "testenv-cognito-*"))
	candidates = append(candidates, tmp...)
	for _, dir := range candidates {
		if _, err := os.Stat(filepath.Join(dir, ".cognito", "db", env.UserPoolID+".json")); err == nil {
			return dir
		}
	}
	return ""
}

// signUpMailSection shows the sign-up policy and the confirmation mail.
func signUpMailSection(env Env) Section {
	const user = "grace@example.com"
	newest := func(to string) string {
		return fmt.Sprintf(`curl -sS %s/store | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=JSON.parse(s).emails.filter(e=>e.destination.to.includes("%s")).pop();console.log(m?m.subject+"\n"+(/>(\d{6})</.exec(m.body.html)||[])[1]:"no mail yet")})'`, env.SESEndpoint, to)
	}
	code := fmt.Sprintf(`curl -sS %s/store | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=JSON.parse(s).emails.filter(e=>e.destination.to.includes("%s")).pop();console.log(/>(\d{6})</.exec(m.body.html)[1])})'`, env.SESEndpoint, user)
	return Section{
		Title: "Sign-up mail (PreSignUp and CustomMessage triggers; mail in the SES emulator)",
		Commands: strings.Join([]string{
			"# Every SignUp runs the presignup function; the confirmation mail is rendered by",
			"# custommessage and delivered to the SES emulator. Read it at " + env.SESWebURL,
			"# The mail of the sign-up in step 1 (subject and code):",
			newest(demoUser),
			"# A new user confirms with the mailed code:",
			cognitoCall(env, "SignUp", fmt.Sprintf(`{"ClientId":"%s","Username":"%s","Password":"%s","UserAttributes":[{"Name":"given_name","Value":"Grace"},{"Name":"locale","Value":"de"}]}`, env.ClientID, user, demoPassword)),
			"sleep 1",
			"export CODE=$(" + code + ")",
			cognitoCall(env, "ConfirmSignUp", fmt.Sprintf(`{"ClientId":"%s","Username":"%s","ConfirmationCode":"'"$CODE"'"}`, env.ClientID, user)),
			"# Domains " + devDeniedDomain + " is refused and " + devTrustedDomain + " auto-confirmed (SHORTFUSE_SIGNUP_* to change):",
			cognitoCall(env, "SignUp", fmt.Sprintf(`{"ClientId":"%s","Username":"mallory@%s","Password":"%s"}`, env.ClientID, devDeniedDomain, demoPassword)),
			cognitoCall(env, "SignUp", fmt.Sprintf(`{"ClientId":"%s","Username":"trent@%s","Password":"%s"}`, env.ClientID, devTrustedDomain, demoPassword)),
			"# Invite codes are checked and consumed by presignup; pass one as ValidationData or ClientMetadata",
			"# invite_code. Create one from the repository root with:",
			fmt.Sprintf("#   go run ./cmd/shortfuse invites create --table %s --endpoint %s --uses 1", env.Table, env.DynamoEndpoint),
		}, "\n"),
	}
}

// customAuthSection runs a whole passwordless sign-in by invoking the
// custom auth functions in the order Cognito's documented loop does
// (define, create, verify, define...), since cognito-local cannot run
// CUSTOM_AUTH: a START round, then a mailed code read from the SES
// emulator and answered, until define issues tokens.
func customAuthSection(env Env) Section {
	user := "trent@" + devTrustedDomain
	common := fmt.Sprintf(`"version":"1","region":"%s","userPoolId":"%s","userName":"trent","callerContext":{"clientId":"%s"}`,
		env.Region, env.UserPoolID, env.ClientID)
	attrs := fmt.Sprintf(`"userAttributes":{"sub":"trent-sub","email":"%s","email_verified":"true"}`, user)
	start := `{"challengeName":"CUSTOM_CHALLENGE","challengeResult":false,"challengeMetadata":"START"}`
	answered := `{"challengeName":"CUSTOM_CHALLENGE","challengeResult":true,"challengeMetadata":"ANSWER"}`
	define := func(session string) string {
		return fmt.Sprintf(`{%s,"triggerSource":"DefineAuthChallenge_Authentication","request":{%s,"session":[%s],"userNotFound":false}}`, common, attrs, session)
	}
	create := func(session string) string {
		return fmt.Sprintf(`{%s,"triggerSource":"CreateAuthChallenge_Authentication","request":{%s,"challengeName":"CUSTOM_CHALLENGE","session":[%s],"clientMetadata":{"signInMethod":"code"},"userNotFound":false}}`,
			common, attrs, session)
	}
	verify := fmt.Sprintf(`{%s,"triggerSource":"VerifyAuthChallengeResponse_Authentication","request":{%s,"privateChallengeParameters":{"step":"answer","cid":"'"$PW_CID"'"},"challengeAnswer":"'"$PW_CODE"'","clientMetadata":{"signInMethod":"code"},"userNotFound":false}}`,
		common, attrs)
	code := fmt.Sprintf(`curl -sS %s/store | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=JSON.parse(s).emails.filter(e=>e.destination.to.includes("%s")&&/sign in/i.test(e.subject)).pop();console.log(/>(\d{6})</.exec(m.body.html)[1])})'`,
		env.SESEndpoint, user)
	return Section{
		Title: "Passwordless sign-in, start to finish (custom auth functions driven as Cognito would; cognito-local cannot run CUSTOM_AUTH)",
		Commands: strings.Join([]string{
			"# invoke FUNCTION EVENT EXPECTED: one invocation through the Lambda Invoke API, its answer checked.",
			fmt.Sprintf(`invoke() { local out; out=$(curl -sS %s/2015-03-31/functions/$1/invocations -d "$2"); echo "$out"; if grep -q "$3" <<<"$out"; then echo "   $1: $3"; else echo "!! $1: expected $3" >&2; return 1; fi; }`, env.LambdaInvokeURL),
			"# InitiateAuth(CUSTOM_AUTH): define, with an empty session, asks for a custom challenge; create's first round is START (no mail):",
			fmt.Sprintf(`invoke defineauth '%s' '"challengeName":"CUSTOM_CHALLENGE"'`, define("")),
			fmt.Sprintf(`invoke createauth '%s' '"challengeMetadata":"START"'`, create("")),
			"# The client answers START; define asks for the real challenge and create mails a code and a magic link:",
			fmt.Sprintf(`invoke defineauth '%s' '"challengeName":"CUSTOM_CHALLENGE"'`, define(start)),
			fmt.Sprintf(`PW_CID=$(curl -sS %s/2015-03-31/functions/createauth/invocations -d '%s' | node -p 'JSON.parse(require("fs").readFileSync(0)).response.privateChallengeParameters.cid')`,
				env.LambdaInvokeURL, create(start)),
			"# RespondToAuthChallenge with the mailed code (read from " + env.SESWebURL + "): verify checks it once,",
			"sleep 0.5",
			"PW_CODE=$(" + code + ")",
			fmt.Sprintf(`invoke verifyauth '%s' '"answerCorrect":true'`, verify),
			"# and define, seeing the correct answer, tells Cognito to issue tokens:",
			fmt.Sprintf(`invoke defineauth '%s' '"issueTokens":true'`, define(start+","+answered)),
			"# The same code again is refused (single use):",
			fmt.Sprintf(`invoke verifyauth '%s' '"answerCorrect":false'`, verify),
		}, "\n"),
	}
}
