// Package pooltriggers attaches shortfuse's Cognito triggers to an existing
// user pool, and detaches them, without touching anything else.
//
// UpdateUserPool resets every setting it is not given (password policy, MFA,
// auto-verified attributes, message templates, other triggers...), so a
// change is a read-modify-write: DescribeUserPool, then UpdateUserPool with
// every updatable setting as read and only the five triggers changed, then
// DescribeUserPool again to confirm. Cognito offers no conditional update: a
// change made by someone else between the read and the write is lost, which
// the confirming read reports when it touches the triggers.
package pooltriggers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// Triggers are the user pool triggers shortfuse provides, by their
// LambdaConfig names.
var Triggers = []string{"PreSignUp", "CustomMessage", "DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse"}

// API is the part of the Cognito client this package uses.
type API interface {
	DescribeUserPool(ctx context.Context, in *cip.DescribeUserPoolInput, opts ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error)
	UpdateUserPool(ctx context.Context, in *cip.UpdateUserPoolInput, opts ...func(*cip.Options)) (*cip.UpdateUserPoolOutput, error)
}

var _ API = (*cip.Client)(nil)

// Change is one trigger's current and wanted function ARN ("" for none).
type Change struct {
	Trigger  string `json:"trigger"`
	From     string `json:"from"`
	To       string `json:"to"`
	Conflict bool   `json:"conflict,omitempty"` // From is another function, which only Force replaces
}

// Plan is what a run found and did.
type Plan struct {
	PoolID  string   `json:"user_pool_id"`
	Changes []Change `json:"changes"` // in Triggers order; unchanged triggers are not listed
	Skipped []Change `json:"skipped"` // conflicts left as they are (no Force)
	Applied bool     `json:"applied"` // UpdateUserPool was called and confirmed
	DryRun  bool     `json:"dry_run"` // nothing was written on purpose
	Kept    []string `json:"kept"`    // other settings written back unchanged
}

// Options of Attach and Detach.
type Options struct {
	Force  bool // replace (attach) or remove (detach) a trigger that holds another function
	DryRun bool // read and plan only
}

// ErrConflict means a trigger holds another function and Force was not set;
// nothing was written.
var ErrConflict = errors.New("a trigger already holds another function (use --force to replace it)")

// Attach points each trigger of want (trigger name -> function ARN) at its
// function. A trigger that already holds another function is a conflict:
// without Force nothing at all is written and the error wraps ErrConflict.
func Attach(ctx context.Context, api API, poolID string, want map[string]string, o Options) (Plan, error) {
	if err := checkNames(want); err != nil {
		return Plan{PoolID: poolID}, err
	}
	return apply(ctx, api, poolID, o, func(cur string, trig string) (string, bool) {
		to, ok := want[trig]
		if !ok || cur == to {
			return cur, false
		}
		return to, cur != "" // replacing another function is a conflict
	})
}

// Detach clears each trigger of ours (trigger name -> function ARN) that
// holds that function. A trigger holding another function is left alone,
// or cleared too with Force (then it is reported as a conflict overridden).
func Detach(ctx context.Context, api API, poolID string, ours map[string]string, o Options) (Plan, error) {
	if err := checkNames(ours); err != nil {
		return Plan{PoolID: poolID}, err
	}
	return apply(ctx, api, poolID, o, func(cur string, trig string) (string, bool) {
		mine, ok := ours[trig]
		if !ok || cur == "" {
			return cur, false
		}
		return "", cur != mine
	})
}

func checkNames(m map[string]string) error {
	if len(m) == 0 {
		return errors.New("no trigger named")
	}
	for k, v := range m {
		if !slices.Contains(Triggers, k) {
			return fmt.Errorf("unknown trigger %q (want one of %s)", k, strings.Join(Triggers, ", "))
		}
		if !strings.HasPrefix(v, "arn:") {
			return fmt.Errorf("%s: %q is not a function ARN", k, v)
		}
	}
	return nil
}

// apply plans with decide (current ARN, trigger -> new ARN, conflict), then
// writes and confirms unless there is nothing to do, a conflict without
// Force, or a dry run.
func apply(ctx context.Context, api API, poolID string, o Options, decide func(cur, trig string) (string, bool)) (Plan, error) {
	p := Plan{PoolID: poolID, DryRun: o.DryRun, Changes: []Change{}, Skipped: []Change{}}
	out, err := api.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
	if err != nil {
		return p, fmt.Errorf("DescribeUserPool %s: %w", poolID, err)
	}
	if out.UserPool == nil {
		return p, fmt.Errorf("DescribeUserPool %s: no pool in the answer", poolID)
	}
	pool := out.UserPool
	lc := types.LambdaConfigType{}
	if pool.LambdaConfig != nil {
		lc = *pool.LambdaConfig
	}
	for _, trig := range Triggers {
		cur := get(&lc, trig)
		to, conflict := decide(cur, trig)
		if to == cur {
			continue
		}
		c := Change{Trigger: trig, From: cur, To: to, Conflict: conflict}
		if conflict && !o.Force {
			p.Skipped = append(p.Skipped, c)
			continue
		}
		p.Changes = append(p.Changes, c)
	}
	p.Kept = kept(pool)
	if len(p.Skipped) > 0 {
		names := make([]string, len(p.Skipped))
		for i, c := range p.Skipped {
			names[i] = c.Trigger
		}
		return p, fmt.Errorf("%w: %s; nothing changed", ErrConflict, strings.Join(names, ", "))
	}
	if len(p.Changes) == 0 || o.DryRun {
		return p, nil
	}
	for _, c := range p.Changes {
		set(&lc, c.Trigger, c.To)
	}
	if _, err := api.UpdateUserPool(ctx, UpdateInput(pool, &lc)); err != nil {
		return p, fmt.Errorf("UpdateUserPool %s: %w", poolID, err)
	}
	// Confirm: a concurrent update, or an implementation that dropped a
	// field, shows here.
	after, err := api.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
	if err != nil {
		return p, fmt.Errorf("updated, but the confirming DescribeUserPool failed: %w", err)
	}
	var got types.LambdaConfigType
	if after.UserPool != nil && after.UserPool.LambdaConfig != nil {
		got = *after.UserPool.LambdaConfig
	}
	for _, trig := range Triggers {
		if g, w := get(&got, trig), get(&lc, trig); g != w {
			return p, fmt.Errorf("updated, but %s reads back as %q, not %q: was the pool changed at the same time?", trig, g, w)
		}
	}
	p.Applied = true
	return p, nil
}

// UpdateInput is the UpdateUserPool request that leaves pool as it is except
// for its LambdaConfig, which becomes lc: every setting UpdateUserPool
// takes is copied from what DescribeUserPool returned.
func UpdateInput(pool *types.UserPoolType, lc *types.LambdaConfigType) *cip.UpdateUserPoolInput {
	in := &cip.UpdateUserPoolInput{
		UserPoolId:                  pool.Id,
		AccountRecoverySetting:      pool.AccountRecoverySetting,
		AdminCreateUserConfig:       pool.AdminCreateUserConfig,
		AutoVerifiedAttributes:      pool.AutoVerifiedAttributes,
		DeletionProtection:          pool.DeletionProtection,
		DeviceConfiguration:         pool.DeviceConfiguration,
		EmailConfiguration:          pool.EmailConfiguration,
		EmailVerificationMessage:    pool.EmailVerificationMessage,
		EmailVerificationSubject:    pool.EmailVerificationSubject,
		IssuerConfiguration:         pool.IssuerConfiguration,
		KeyConfiguration:            pool.KeyConfiguration,
		LambdaConfig:                lc,
		MfaConfiguration:            pool.MfaConfiguration,
		Policies:                    pool.Policies,
		PoolName:                    pool.Name,
		SmsAuthenticationMessage:    pool.SmsAuthenticationMessage,
		SmsConfiguration:            pool.SmsConfiguration,
		SmsVerificationMessage:      pool.SmsVerificationMessage,
		UserAttributeUpdateSettings: pool.UserAttributeUpdateSettings,
		UserPoolAddOns:              pool.UserPoolAddOns,
		UserPoolTags:                pool.UserPoolTags,
		UserPoolTier:                pool.UserPoolTier,
		VerificationMessageTemplate: pool.VerificationMessageTemplate,
	}
	// DescribeUserPool still returns the deprecated UnusedAccountValidityDays,
	// which UpdateUserPool refuses next to the password policy's
	// TemporaryPasswordValidityDays that replaced it (and holds the value).
	if a := pool.AdminCreateUserConfig; a != nil && a.UnusedAccountValidityDays != 0 &&
		pool.Policies != nil && pool.Policies.PasswordPolicy != nil && pool.Policies.PasswordPolicy.TemporaryPasswordValidityDays != 0 {
		c := *a
		c.UnusedAccountValidityDays = 0
		in.AdminCreateUserConfig = &c
	}
	return in
}

// kept names the settings of pool that UpdateInput writes back unchanged,
// for the report.
func kept(pool *types.UserPoolType) []string {
	var k []string
	add := func(name string, present bool) {
		if present {
			k = append(k, name)
		}
	}
	add("PasswordPolicy", pool.Policies != nil)
	add("MfaConfiguration="+string(pool.MfaConfiguration), pool.MfaConfiguration != "")
	add("AutoVerifiedAttributes", len(pool.AutoVerifiedAttributes) > 0)
	add("VerificationMessageTemplate", pool.VerificationMessageTemplate != nil)
	add("EmailConfiguration", pool.EmailConfiguration != nil)
	add("SmsConfiguration", pool.SmsConfiguration != nil)
	add("AdminCreateUserConfig", pool.AdminCreateUserConfig != nil)
	add("AccountRecoverySetting", pool.AccountRecoverySetting != nil)
	add("DeviceConfiguration", pool.DeviceConfiguration != nil)
	add("UserPoolAddOns", pool.UserPoolAddOns != nil)
	add("UserAttributeUpdateSettings", pool.UserAttributeUpdateSettings != nil)
	add("DeletionProtection="+string(pool.DeletionProtection), pool.DeletionProtection != "")
	add("UserPoolTags", len(pool.UserPoolTags) > 0)
	if lc := pool.LambdaConfig; lc != nil {
		for _, o := range otherTriggers(lc) {
			k = append(k, "LambdaConfig."+o)
		}
	}
	return k
}

// otherTriggers names the triggers of lc that are not shortfuse's.
func otherTriggers(lc *types.LambdaConfigType) []string {
	var o []string
	for name, v := range map[string]*string{
		"PostAuthentication": lc.PostAuthentication, "PostConfirmation": lc.PostConfirmation,
		"PreAuthentication": lc.PreAuthentication, "PreTokenGeneration": lc.PreTokenGeneration,
		"UserMigration": lc.UserMigration,
	} {
		if aws.ToString(v) != "" {
			o = append(o, name)
		}
	}
	if lc.PreTokenGenerationConfig != nil {
		o = append(o, "PreTokenGenerationConfig")
	}
	if lc.CustomEmailSender != nil {
		o = append(o, "CustomEmailSender")
	}
	if lc.CustomSMSSender != nil {
		o = append(o, "CustomSMSSender")
	}
	if aws.ToString(lc.KMSKeyID) != "" {
		o = append(o, "KMSKeyID")
	}
	if lc.InboundFederation != nil {
		o = append(o, "InboundFederation")
	}
	slices.Sort(o)
	return o
}

func field(lc *types.LambdaConfigType, trig string) **string {
	switch trig {
	case "PreSignUp":
		return &lc.PreSignUp
	case "CustomMessage":
		return &lc.CustomMessage
	case "DefineAuthChallenge":
		return &lc.DefineAuthChallenge
	case "CreateAuthChallenge":
		return &lc.CreateAuthChallenge
	case "VerifyAuthChallengeResponse":
		return &lc.VerifyAuthChallengeResponse
	}
	panic("pooltriggers: unknown trigger " + trig) // Triggers is the only caller's source
}

func get(lc *types.LambdaConfigType, trig string) string { return aws.ToString(*field(lc, trig)) }

func set(lc *types.LambdaConfigType, trig, arn string) {
	if arn == "" {
		*field(lc, trig) = nil
		return
	}
	*field(lc, trig) = aws.String(arn)
}
