package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/pooltriggers"
)

const (
	fnPrefix  = "arn:aws:lambda:us-east-1:123456789012:function:"
	otherFunc = fnPrefix + "someone-elses"
)

// ours are the five functions, as a deployed stack would name them.
func ours(suffix string) map[string]string {
	return map[string]string{
		"PreSignUp":                   fnPrefix + "presignup" + suffix,
		"CustomMessage":               fnPrefix + "custommessage" + suffix,
		"DefineAuthChallenge":         fnPrefix + "defineauth" + suffix,
		"CreateAuthChallenge":         fnPrefix + "createauth" + suffix,
		"VerifyAuthChallengeResponse": fnPrefix + "verifyauth" + suffix,
	}
}

func functionsFlag(m map[string]string) string {
	var parts []string
	for _, t := range pooltriggers.Triggers {
		if v, ok := m[t]; ok {
			parts = append(parts, t+"="+v)
		}
	}
	return strings.Join(parts, ",")
}

// customSettings are what a team's pool has and must keep: a password
// policy, MFA, message templates, auto-verified attributes, admin-only sign
// up, account recovery and another trigger of their own.
func customSettings(poolID string) *cip.UpdateUserPoolInput {
	return &cip.UpdateUserPoolInput{
		UserPoolId: aws.String(poolID),
		Policies: &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{
			MinimumLength: aws.Int32(14), RequireLowercase: true, RequireUppercase: true, RequireNumbers: true,
			RequireSymbols: true, TemporaryPasswordValidityDays: 2,
		}},
		MfaConfiguration:         types.UserPoolMfaTypeOptional,
		AutoVerifiedAttributes:   []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		EmailVerificationMessage: aws.String("Acme code: {####}"),
		EmailVerificationSubject: aws.String("Your Acme code"),
		SmsAuthenticationMessage: aws.String("Acme sign-in {####}"),
		VerificationMessageTemplate: &types.VerificationMessageTemplateType{
			DefaultEmailOption: types.DefaultEmailOptionTypeConfirmWithCode,
			EmailMessage:       aws.String("Acme code: {####}"), EmailSubject: aws.String("Your Acme code"),
		},
		AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true},
		AccountRecoverySetting: &types.AccountRecoverySettingType{RecoveryMechanisms: []types.RecoveryOptionType{
			{Name: types.RecoveryOptionNameTypeVerifiedEmail, Priority: aws.Int32(1)}}},
		LambdaConfig: &types.LambdaConfigType{PostConfirmation: aws.String(fnPrefix + "their-post-confirmation")},
	}
}

// settings is the pool as DescribeUserPool shows it, without what attach
// and detach may change (the five triggers) or what any write changes.
func settings(t *testing.T, api *cip.Client, poolID string) (string, *types.LambdaConfigType) {
	t.Helper()
	out, err := api.DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
	if err != nil {
		t.Fatal(err)
	}
	p := *out.UserPool
	lc := types.LambdaConfigType{}
	if p.LambdaConfig != nil {
		lc = *p.LambdaConfig
	}
	p.LastModifiedDate, p.EstimatedNumberOfUsers = nil, 0
	trimmed := lc
	trimmed.PreSignUp, trimmed.CustomMessage, trimmed.DefineAuthChallenge, trimmed.CreateAuthChallenge, trimmed.VerifyAuthChallengeResponse = nil, nil, nil, nil, nil
	p.LambdaConfig = &trimmed
	b, err := json.MarshalIndent(p, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b), &lc
}

// scenario runs attach and detach on a pool with custom settings and checks
// that every other setting survives each step.
func scenario(t *testing.T, endpoint string, api *cip.Client, poolID string) {
	ctx := context.Background()
	if _, err := api.UpdateUserPool(ctx, customSettings(poolID)); err != nil {
		t.Fatal(err)
	}
	before, lc := settings(t, api, poolID)
	if aws.ToString(lc.PostConfirmation) == "" || !strings.Contains(before, `"MinimumLength": 14`) {
		t.Fatalf("the emulator did not keep the custom settings: %s", before)
	}
	env := map[string]string{"SHORTFUSE_AWS_ENDPOINT": endpoint}
	fns := ours("")
	cli := func(args ...string) result {
		t.Helper()
		return runCLI(env, append(args, "--user-pool-id", poolID)...)
	}
	same := func(step string) *types.LambdaConfigType {
		t.Helper()
		after, lc := settings(t, api, poolID)
		if after != before {
			t.Fatalf("%s changed other settings:\nbefore %s\nafter  %s", step, before, after)
		}
		return lc
	}
	triggersAre := func(step string, lc *types.LambdaConfigType, want map[string]string) {
		t.Helper()
		got := map[string]string{"PreSignUp": aws.ToString(lc.PreSignUp), "CustomMessage": aws.ToString(lc.CustomMessage),
			"DefineAuthChallenge": aws.ToString(lc.DefineAuthChallenge), "CreateAuthChallenge": aws.ToString(lc.CreateAuthChallenge),
			"VerifyAuthChallengeResponse": aws.ToString(lc.VerifyAuthChallengeResponse)}
		for _, trig := range pooltriggers.Triggers {
			if got[trig] != want[trig] {
				t.Fatalf("%s: %s is %q, want %q", step, trig, got[trig], want[trig])
			}
		}
	}

	r := cli("triggers", "attach", "--functions", functionsFlag(fns), "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "dry run: 5 trigger(s) would change") || !strings.Contains(r.stdout, "(none) -> "+fns["PreSignUp"]) {
		t.Fatalf("dry run: %+v", r)
	}
	triggersAre("dry run", same("dry run"), nil)

	r = cli("triggers", "attach", "--functions", functionsFlag(fns))
	if r.code != 0 || !strings.Contains(r.stdout, "5 trigger(s) changed") || !strings.Contains(r.stdout, "LambdaConfig.PostConfirmation") ||
		!strings.Contains(r.stdout, "PasswordPolicy") {
		t.Fatalf("attach: %+v", r)
	}
	t.Logf("attach:\n%s", r.stdout)
	triggersAre("attach", same("attach"), fns)

	r = cli("triggers", "attach", "--functions", functionsFlag(fns))
	if r.code != 0 || !strings.Contains(r.stdout, "nothing to change") {
		t.Fatalf("attach again: %+v", r)
	}

	// Another function in one trigger: refused without --force, nothing
	// written, not even the triggers that were free.
	newer := ours("-v2")
	r = cli("triggers", "attach", "--functions", functionsFlag(newer))
	if r.code != 1 || !strings.Contains(r.stderr, "--force") || !strings.Contains(r.stdout, "nothing written") {
		t.Fatalf("conflict: %+v", r)
	}
	triggersAre("refused conflict", same("refused conflict"), fns)
	r = cli("triggers", "attach", "--functions", functionsFlag(newer), "--force", "--json")
	var plan pooltriggers.Plan
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &plan) != nil || !plan.Applied || len(plan.Changes) != 5 || !plan.Changes[0].Conflict {
		t.Fatalf("--force: %+v", r)
	}
	triggersAre("--force", same("--force"), newer)

	// Detach removes only our functions: a trigger someone pointed
	// elsewhere meanwhile stays, unless --force.
	partial := map[string]string{"PreSignUp": otherFunc}
	for k, v := range newer {
		if k != "PreSignUp" {
			partial[k] = v
		}
	}
	if _, err := api.UpdateUserPool(ctx, pooltriggers.UpdateInput(describe(t, api, poolID), withTrigger(lcOf(t, api, poolID), otherFunc))); err != nil {
		t.Fatal(err)
	}
	r = cli("triggers", "detach", "--functions", functionsFlag(newer))
	if r.code != 1 || !strings.Contains(r.stdout, "PreSignUp") {
		t.Fatalf("detach with a foreign trigger: %+v", r)
	}
	triggersAre("refused detach", same("refused detach"), partial)
	r = cli("triggers", "detach", "--functions", functionsFlag(newer), "--force")
	if r.code != 0 || !strings.Contains(r.stdout, "5 trigger(s) changed") {
		t.Fatalf("detach --force: %+v", r)
	}
	t.Logf("detach:\n%s", r.stdout)
	lc = same("detach")
	triggersAre("detach", lc, nil)
	if aws.ToString(lc.PostConfirmation) != fnPrefix+"their-post-confirmation" {
		t.Fatalf("detach removed the pool's own trigger: %+v", lc)
	}
	if r := cli("triggers", "detach", "--functions", functionsFlag(newer)); r.code != 0 || !strings.Contains(r.stdout, "nothing to change") {
		t.Fatalf("detach again: %+v", r)
	}
}

func describe(t *testing.T, api *cip.Client, poolID string) *types.UserPoolType {
	t.Helper()
	out, err := api.DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
	if err != nil {
		t.Fatal(err)
	}
	return out.UserPool
}

func lcOf(t *testing.T, api *cip.Client, poolID string) types.LambdaConfigType {
	return *describe(t, api, poolID).LambdaConfig
}

func withTrigger(lc types.LambdaConfigType, preSignUp string) *types.LambdaConfigType {
	lc.PreSignUp = aws.String(preSignUp)
	return &lc
}

// partialUpdateResets shows that the implementation resets what a partial
// UpdateUserPool leaves out, so that scenario proves something.
func partialUpdateResets(t *testing.T, api *cip.Client, poolID string) {
	ctx := context.Background()
	if _, err := api.UpdateUserPool(ctx, customSettings(poolID)); err != nil {
		t.Fatal(err)
	}
	if _, err := api.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(poolID),
		LambdaConfig: &types.LambdaConfigType{PreSignUp: aws.String(fnPrefix + "presignup")}}); err != nil {
		t.Fatal(err)
	}
	p := describe(t, api, poolID)
	if p.VerificationMessageTemplate != nil && aws.ToString(p.VerificationMessageTemplate.EmailSubject) == "Your Acme code" &&
		p.LambdaConfig != nil && p.LambdaConfig.PostConfirmation != nil {
		t.Fatalf("a partial UpdateUserPool kept every setting here: the test would prove nothing")
	}
}

func TestTriggersAttachCognitoLocal(t *testing.T) {
	c := testenv.CognitoLocal(t, testenv.CognitoOptions{})
	out, err := c.Client.CreateUserPool(context.Background(), &cip.CreateUserPoolInput{PoolName: aws.String("reset-check")})
	if err != nil {
		t.Fatal(err)
	}
	partialUpdateResets(t, c.Client, aws.ToString(out.UserPool.Id))
	scenario(t, c.Endpoint, c.Client, c.UserPoolID)
}

func TestTriggersAttachMoto(t *testing.T) {
	m := testenv.MotoServer(t)
	api := cip.NewFromConfig(testenv.AWSConfig(), func(o *cip.Options) { o.BaseEndpoint = aws.String(m.Endpoint) })
	ctx := context.Background()
	pool := func(name string) string {
		out, err := api.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.UserPool.Id)
	}
	partialUpdateResets(t, api, pool("reset-check"))
	poolID := pool("existing")
	scenario(t, m.Endpoint, api, poolID)

	t.Run("--stack", func(t *testing.T) {
		// moto loads its CloudFormation backend on first use, which can take
		// longer than testenv's 10 s timeout on a busy machine: one slow try
		// rather than a retry that finds the stack already created.
		cf := cloudformation.NewFromConfig(testenv.AWSConfig(), func(o *cloudformation.Options) {
			o.BaseEndpoint = aws.String(m.Endpoint)
			o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(time.Minute)
			o.RetryMaxAttempts = 1
		})
		fns := ours("-stack")
		outputs := map[string]any{}
		for trig, key := range StackOutputs {
			outputs[key] = map[string]any{"Value": fns[trig]}
		}
		body, _ := json.Marshal(map[string]any{
			"Resources": map[string]any{"Marker": map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"}},
			"Outputs":   outputs,
		})
		if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String("shortfuse"), TemplateBody: aws.String(string(body))}); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"SHORTFUSE_AWS_ENDPOINT": m.Endpoint}
		r := runCLI(env, "triggers", "attach", "--user-pool-id", poolID, "--stack", "shortfuse")
		if r.code != 0 || !strings.Contains(r.stdout, "5 trigger(s) changed") || !strings.Contains(r.stdout, fns["VerifyAuthChallengeResponse"]) {
			t.Fatalf("attach --stack: %+v", r)
		}
		if lc := lcOf(t, api, poolID); aws.ToString(lc.VerifyAuthChallengeResponse) != fns["VerifyAuthChallengeResponse"] {
			t.Fatalf("%+v", lc)
		}
		if r := runCLI(env, "triggers", "attach", "--user-pool-id", poolID, "--stack", "nope"); r.code != 1 || !strings.Contains(r.stderr, "DescribeStacks") {
			t.Fatalf("unknown stack: %+v", r)
		}
	})
}

func TestTriggersUsage(t *testing.T) {
	for _, args := range [][]string{
		{"triggers", "attach", "--functions", "PreSignUp=" + fnPrefix + "x"},
		{"triggers", "attach", "--user-pool-id", "p"},
		{"triggers", "attach", "--user-pool-id", "p", "--stack", "s", "--functions", "PreSignUp=" + fnPrefix + "x"},
		{"triggers", "attach", "--user-pool-id", "p", "--functions", "PostConfirmation=" + fnPrefix + "x"},
		{"triggers", "attach", "--user-pool-id", "p", "--functions", "PreSignUp=presignup"},
		{"triggers", "attach", "--user-pool-id", "p", "--functions", "PreSignUp=" + fnPrefix + "x,PreSignUp=" + fnPrefix + "y"},
		{"triggers", "detach", "--user-pool-id", "p", "--functions", "PreSignUp"},
	} {
		if r := runCLI(nil, args...); r.code != exitUsage {
			t.Errorf("%v: %+v", args, r)
		}
	}
}
