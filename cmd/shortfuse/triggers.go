package main

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/pooltriggers"
)

// triggersUsage is the triggers part of the usage text.
const triggersUsage = `  triggers attach --user-pool-id ID (--stack NAME | --functions PreSignUp=ARN,...)
                  [--dry-run] [--force]
                                    attach the triggers to an existing user pool,
                                    keeping every other setting of the pool
  triggers detach --user-pool-id ID (--stack NAME | --functions ...) [--dry-run] [--force]
                                    remove them again
`

// StackOutputs maps each trigger to the stack output holding its function's
// ARN (template.yaml declares them).
var StackOutputs = map[string]string{
	"PreSignUp":                   "PreSignUpFunctionArn",
	"CustomMessage":               "CustomMessageFunctionArn",
	"DefineAuthChallenge":         "DefineAuthChallengeFunctionArn",
	"CreateAuthChallenge":         "CreateAuthChallengeFunctionArn",
	"VerifyAuthChallengeResponse": "VerifyAuthChallengeFunctionArn",
}

func (c *cli) triggersCommands() map[string]func(context.Context, []string) error {
	return map[string]func(context.Context, []string) error{
		"triggers attach": func(ctx context.Context, args []string) error { return c.triggers(ctx, "attach", args) },
		"triggers detach": func(ctx context.Context, args []string) error { return c.triggers(ctx, "detach", args) },
	}
}

// regionInPoolID is the region prefix of a user pool id (eu-west-1_AbC).
var regionInPoolID = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-\d)_[0-9A-Za-z]+$`)

func (c *cli) triggers(ctx context.Context, verb string, args []string) error {
	fs := flag.NewFlagSet("triggers "+verb, flag.ContinueOnError)
	pool := fs.String("user-pool-id", c.getenv("SHORTFUSE_COGNITO_USER_POOL_ID"), "the existing user pool")
	stack := fs.String("stack", "", "CloudFormation stack whose outputs name the functions")
	functions := fs.String("functions", "", "Trigger=ARN,... (PreSignUp, CustomMessage, DefineAuthChallenge, CreateAuthChallenge, VerifyAuthChallengeResponse)")
	dryRun := fs.Bool("dry-run", false, "print the change, write nothing")
	force := fs.Bool("force", false, "replace (attach) or remove (detach) a trigger that holds another function")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := required("user-pool-id", *pool); err != nil {
		return err
	}
	if (*stack == "") == (*functions == "") {
		return fmt.Errorf("%w: give exactly one of --stack and --functions", errUsage)
	}
	var fns map[string]string
	if *functions != "" {
		var err error
		if fns, err = parseFunctions(*functions); err != nil {
			return fmt.Errorf("%w: --functions: %v", errUsage, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	region := c.region
	if m := regionInPoolID.FindStringSubmatch(*pool); region == "" && m != nil {
		region = m[1] // the pool lives there, whatever the default region is
	}
	cfg, err := awsx.Load(ctx, awsx.Options{Region: region, Endpoint: c.endpoint})
	if err != nil {
		return err
	}
	if *stack != "" {
		if fns, err = stackFunctions(ctx, cloudformation.NewFromConfig(cfg), *stack); err != nil {
			return err
		}
	}
	o := pooltriggers.Options{Force: *force, DryRun: *dryRun}
	api := cip.NewFromConfig(cfg)
	var plan pooltriggers.Plan
	if verb == "attach" {
		plan, err = pooltriggers.Attach(ctx, api, *pool, fns, o)
	} else {
		plan, err = pooltriggers.Detach(ctx, api, *pool, fns, o)
	}
	if plan.Changes != nil || plan.Skipped != nil {
		if c.jsonOut {
			if perr := c.printJSON(plan); perr != nil {
				return perr
			}
		} else {
			c.printPlan(verb, plan)
		}
	}
	return err
}

// printPlan prints what changes (or would), then the outcome.
func (c *cli) printPlan(verb string, p pooltriggers.Plan) {
	none := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "user pool %s:\n", p.PoolID)
	for _, ch := range p.Changes {
		note := ""
		if ch.Conflict {
			note = "\t(--force: replaces another function)"
			if verb == "detach" {
				note = "\t(--force: removes another function)"
			}
		}
		fmt.Fprintf(tw, "  %s\t%s -> %s%s\n", ch.Trigger, none(ch.From), none(ch.To), note)
	}
	for _, ch := range p.Skipped {
		fmt.Fprintf(tw, "  %s\t%s held by another function; not %s without --force (wanted %s)\n", ch.Trigger, none(ch.From), verb+"ed", none(ch.To))
	}
	_ = tw.Flush()
	if len(p.Kept) > 0 {
		fmt.Fprintf(c.stdout, "kept as they are: %s\n", strings.Join(p.Kept, ", "))
	}
	switch {
	case len(p.Skipped) > 0:
		fmt.Fprintln(c.stdout, "nothing written")
	case len(p.Changes) == 0:
		fmt.Fprintln(c.stdout, "nothing to change")
	case p.DryRun:
		fmt.Fprintf(c.stdout, "dry run: %d trigger(s) would change, nothing written\n", len(p.Changes))
	case p.Applied:
		fmt.Fprintf(c.stdout, "%d trigger(s) changed\n", len(p.Changes))
	}
}

// parseFunctions parses Trigger=ARN,Trigger=ARN.
func parseFunctions(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, arn, ok := strings.Cut(item, "=")
		name, arn = strings.TrimSpace(name), strings.TrimSpace(arn)
		switch {
		case !ok || arn == "":
			return nil, fmt.Errorf("%q is not Trigger=ARN", item)
		case !slices.Contains(pooltriggers.Triggers, name):
			return nil, fmt.Errorf("unknown trigger %q (want one of %s)", name, strings.Join(pooltriggers.Triggers, ", "))
		case !strings.HasPrefix(arn, "arn:"):
			return nil, fmt.Errorf("%s: %q is not a function ARN", name, arn)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s given twice", name)
		}
		out[name] = arn
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no trigger given")
	}
	return out, nil
}

// stacksAPI is the part of the CloudFormation client used here.
type stacksAPI interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// stackFunctions reads the five function ARNs from the stack's outputs.
func stackFunctions(ctx context.Context, api stacksAPI, stack string) (map[string]string, error) {
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return nil, fmt.Errorf("DescribeStacks %s: %w", stack, err)
	}
	if len(out.Stacks) != 1 {
		return nil, fmt.Errorf("DescribeStacks %s: %d stacks", stack, len(out.Stacks))
	}
	outputs := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	fns := map[string]string{}
	var missing []string
	for _, trig := range pooltriggers.Triggers {
		v := outputs[StackOutputs[trig]]
		if !strings.HasPrefix(v, "arn:") {
			missing = append(missing, StackOutputs[trig])
			continue
		}
		fns[trig] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("stack %s has no function ARN in output(s) %s: is it a shortfuse stack?", stack, strings.Join(missing, ", "))
	}
	return fns, nil
}
