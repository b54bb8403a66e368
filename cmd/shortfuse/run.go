package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/tokensvc"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

var usageText = `Usage: shortfuse <command> [flags]

Commands:
  sessions list   --user SUB        list a user's sessions
  sessions revoke --session ID      revoke one session
  users revoke    --user SUB        revoke every login of a user
                  [--global-signout=false] do not sign the user out of Cognito
  keys generate   [--alg ES256|RS256|EdDSA] [--out FILE]
                                    generate a signing key (private JWK)
  revocations copy --from-replicas N
                                    fill replicas N and up of the revocation log
                                    (SHORTFUSE_REVOCATION_REPLICAS, _SHARDS) with
                                    its live entries, when adding replicas
` + inviteUsage + triggersUsage + `
Common flags (also from the environment):
  --table NAME          DynamoDB table (SHORTFUSE_TABLE)
  --endpoint URL        AWS endpoint (DynamoDB; Cognito and CloudFormation for triggers),
                        for the local stack (SHORTFUSE_AWS_ENDPOINT); an absolute http(s) URL
  --region REGION       AWS region (SHORTFUSE_AWS_REGION, else AWS_REGION)
  --json                print JSON instead of text
  --timeout DURATION    give up after this long (default 30s)

Run 'shortfuse <command> -h' for the flags of one command.
Exit status: 0 success, 1 error, 2 usage error.
`

// errUsage marks errors caused by how the command was called.
var errUsage = errors.New("usage")

// cli holds the common flags and the output streams.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string

	table, endpoint, region string
	jsonOut                 bool
	timeout                 time.Duration
}

func (c *cli) commonFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.table, "table", c.getenv(config.VarTable), "DynamoDB table")
	fs.StringVar(&c.endpoint, "endpoint", c.getenv(config.VarEndpoint), "AWS endpoint URL (local stack)")
	region := c.getenv(config.VarRegion)
	if region == "" {
		region = c.getenv("AWS_REGION") // first in the SDK's chain, as for the functions
	}
	fs.StringVar(&c.region, "region", region, "AWS region")
	fs.BoolVar(&c.jsonOut, "json", false, "print JSON")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "overall time limit")
}

// run executes one command and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	name := args[0]
	rest := args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name += " " + rest[0]
		rest = rest[1:]
	}
	cmds := map[string]func(context.Context, []string) error{
		"sessions list":    c.sessionsList,
		"sessions revoke":  c.sessionsRevoke,
		"users revoke":     c.usersRevoke,
		"keys generate":    c.keysGenerate,
		"revocations copy": c.revocationsCopy,
	}
	for k, f := range c.inviteCommands() {
		cmds[k] = f
	}
	for k, f := range c.triggersCommands() {
		cmds[k] = f
	}
	cmd, ok := cmds[name]
	if !ok {
		subs := subcommands(cmds, args[0])
		// "shortfuse sessions -h" asks for the group's commands: answer
		// with them, as "shortfuse -h" does for all.
		if len(subs) > 0 && len(rest) > 0 && name == args[0] && (rest[0] == "-h" || rest[0] == "--help") {
			fmt.Fprintf(stdout, "%s commands: %s\n\n%s", args[0], strings.Join(subs, ", "), usageText)
			return exitOK
		}
		if len(subs) > 0 {
			fmt.Fprintf(stderr, "shortfuse: unknown command %q: %s needs one of: %s\n\n%s", name, args[0], strings.Join(subs, ", "), usageText)
			return exitUsage
		}
		fmt.Fprintf(stderr, "shortfuse: unknown command %q\n\n%s", name, usageText)
		return exitUsage
	}
	err := cmd(ctx, rest)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "shortfuse %s: %v\nRun 'shortfuse %s -h' for its flags.\n", name, err, name)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "shortfuse %s: %v\n", name, err)
		return exitError
	}
}

// subcommands returns the sorted subcommands of group ("sessions" ->
// list, revoke), or nil when group is not a command group.
func subcommands[F any](cmds map[string]F, group string) []string {
	var subs []string
	for k := range cmds {
		if g, sub, ok := strings.Cut(k, " "); ok && g == group {
			subs = append(subs, sub)
		}
	}
	slices.Sort(subs)
	return subs
}

// parse parses a command's flags; positional arguments are a usage error.
// Asked for help (-h), it prints the command's flags on standard output.
func (c *cli) parse(fs *flag.FlagSet, args []string) error {
	c.commonFlags(fs)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(c.stdout, "Usage: shortfuse %s [flags]\n\nFlags:\n", fs.Name())
			fs.SetOutput(c.stdout)
			fs.PrintDefaults()
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	// The settings the functions share, checked by their rules
	// (config.Common): a flag is checked as the variable it defaults from.
	env := config.FromMap(map[string]string{config.VarEndpoint: c.endpoint, config.VarRegion: c.region})
	env.Common()
	if err := env.Err(); err != nil {
		return fmt.Errorf("%w: %v (--endpoint, --region)", errUsage, err)
	}
	return nil
}

func required(name, v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("%w: --%s is required", errUsage, name)
	}
	return nil
}

func (c *cli) store(ctx context.Context) (*store.Store, error) {
	if err := required("table", c.table); err != nil {
		return nil, err
	}
	cfg, err := awsx.Load(ctx, awsx.Options{Region: c.region, Endpoint: c.endpoint})
	if err != nil {
		return nil, err
	}
	// The CLI writes revocations: it must use the layout the authorizers read.
	env := c.env(store.EnvRevocationReplicas, store.EnvRevocationShards)
	layout := store.RevocationLayoutFromEnv(env)
	if err := env.Err(); err != nil {
		return nil, err
	}
	return store.New(dynamodb.NewFromConfig(cfg), c.table, store.WithRevocationLayout(layout)), nil
}

// withStore runs f with the command's time limit and the table's store.
func (c *cli) withStore(ctx context.Context, f func(context.Context, *store.Store) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	return f(ctx, st)
}

func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) sessionsList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sessions list", flag.ContinueOnError)
	user := fs.String("user", "", "the user's sub")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := required("user", *user); err != nil {
		return err
	}
	var list []store.Session
	err := c.withStore(ctx, func(ctx context.Context, st *store.Store) (err error) {
		list, err = st.ListUserSessions(ctx, *user)
		return err
	})
	if err != nil {
		return err
	}
	now := time.Now()
	views := make([]tokensvc.SessionView, 0, len(list))
	for i := range list {
		views = append(views, tokensvc.View(&list[i], now))
	}
	if c.jsonOut {
		return c.printJSON(tokensvc.SessionList{Sessions: views})
	}
	if len(views) == 0 {
		fmt.Fprintf(c.stdout, "no sessions for %s\n", *user)
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tCLIENT\tSTATE\tCREATED\tLAST USED\tSOURCE IP")
	for _, v := range views {
		state := "active"
		switch {
		case v.RevokedAt != nil:
			state = "revoked (" + v.RevokeReason + ")"
		case !v.Active:
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.ClientID, state,
			v.CreatedAt.Format(time.RFC3339), v.LastUsedAt.Format(time.RFC3339), v.SourceIP)
	}
	return tw.Flush()
}

// revocationPolicy reads what decides how long a revocation lasts with the
// token service's own rules (tokensvc.LoadRevocationPolicy), so that the
// CLI's revocations last as long as the service's, and a
// SHORTFUSE_REVOCATION_RETENTION too short for them is refused as the
// service refuses it.
func (c *cli) revocationPolicy() (revoke.Policy, error) {
	p, _, err := tokensvc.LoadRevocationPolicy(c.env("SHORTFUSE_AUTHORIZER_MODE", "SHORTFUSE_DIRECT_MAX_AGE",
		"SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY", "SHORTFUSE_ADMIN_GLOBAL_SIGNOUT", "SHORTFUSE_ACCESS_TOKEN_TTL",
		"SHORTFUSE_CLIENTS", "SHORTFUSE_LEEWAY", "SHORTFUSE_REVOCATION_RETENTION", "SHORTFUSE_DIRECT_FAMILY_LIMIT"))
	return p, err
}

// env holds the named variables, for the service's own loaders.
func (c *cli) env(names ...string) *config.Env {
	vars := map[string]string{}
	for _, k := range names {
		if v := c.getenv(k); v != "" {
			vars[k] = v
		}
	}
	return config.FromMap(vars)
}

func (c *cli) revoker(st *store.Store) (*revoke.Revoker, error) {
	p, err := c.revocationPolicy()
	if err != nil {
		return nil, err
	}
	return revoke.New(st, p)
}

func (c *cli) sessionsRevoke(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sessions revoke", flag.ContinueOnError)
	id := fs.String("session", "", "the session id")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := required("session", *id); err != nil {
		return err
	}
	var sess *store.Session
	err := c.withStore(ctx, func(ctx context.Context, st *store.Store) error {
		r, err := c.revoker(st)
		if err != nil {
			return err
		}
		sess, err = r.Session(ctx, *id, revoke.ReasonAdmin)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no session %q", *id)
	}
	if err != nil {
		return err
	}
	if c.jsonOut {
		return c.printJSON(tokensvc.View(sess, time.Now()))
	}
	fmt.Fprintf(c.stdout, "session %s of %s revoked at %s\n", sess.ID, sess.Sub, sess.RevokedAt.UTC().Format(time.RFC3339))
	return nil
}

func (c *cli) usersRevoke(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("users revoke", flag.ContinueOnError)
	user := fs.String("user", "", "the user's sub")
	pol, err := c.revocationPolicy()
	if err != nil {
		return err
	}
	global := fs.Bool("global-signout", !pol.NoGlobalSignOut, "also call Cognito AdminUserGlobalSignOut (default from SHORTFUSE_ADMIN_GLOBAL_SIGNOUT, true)")
	pool := fs.String("user-pool-id", c.getenv("SHORTFUSE_COGNITO_USER_POOL_ID"), "Cognito user pool id (SHORTFUSE_COGNITO_USER_POOL_ID), for the global sign-out")
	username := fs.String("username", "", "Cognito user name (default: from the user's sessions, else the sub)")
	cognitoEndpoint := fs.String("cognito-endpoint", c.getenv("SHORTFUSE_COGNITO_ENDPOINT"), "Cognito endpoint URL (local stack)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := required("user", *user); err != nil {
		return err
	}
	if ep := config.FromMap(map[string]string{config.VarCognitoEndpoint: *cognitoEndpoint}); ep.Common().CognitoEndpoint == "" && *cognitoEndpoint != "" {
		return fmt.Errorf("%w: --cognito-endpoint: %v", errUsage, ep.Err())
	}
	if *global && *pool == "" {
		return fmt.Errorf("%w: --global-signout (the default) needs --user-pool-id or SHORTFUSE_COGNITO_USER_POOL_ID; --global-signout=false revokes without signing the user out of Cognito, whose refresh tokens then keep minting ID tokens", errUsage)
	}
	var res revoke.UserResult
	err = c.withStore(ctx, func(ctx context.Context, st *store.Store) error {
		var opts []revoke.Option
		if *global {
			cfg, err := awsx.Load(ctx, awsx.Options{Region: c.region, Endpoint: *cognitoEndpoint})
			if err != nil {
				return err
			}
			opts = append(opts, revoke.WithCognito(cip.NewFromConfig(cfg), *pool))
		}
		r, err := revoke.New(st, pol, opts...)
		if err != nil {
			return err
		}
		signOut := revoke.SignOutSkip
		if *global {
			signOut = revoke.SignOutCognito
		}
		res, err = r.User(ctx, revoke.UserRequest{Sub: *user, Username: *username, Reason: revoke.ReasonAdmin, SignOut: signOut})
		return err
	})
	if err != nil {
		return err
	}
	if res.Sessions == nil {
		res.Sessions = []string{}
	}
	if c.jsonOut {
		return c.printJSON(res)
	}
	fmt.Fprintf(c.stdout, "user %s revoked at %s: %d live session(s) revoked", res.Sub, res.RevokedAt.UTC().Format(time.RFC3339), len(res.Sessions))
	if res.GlobalSignOut {
		fmt.Fprint(c.stdout, ", signed out of Cognito")
	}
	fmt.Fprintln(c.stdout)
	return nil
}

func (c *cli) keysGenerate(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("keys generate", flag.ContinueOnError)
	alg := fs.String("alg", keys.ES256, "algorithm: ES256, RS256 or EdDSA")
	out := fs.String("out", "", "write the key to this file (mode 0600) instead of standard output")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	switch *alg {
	case keys.ES256, keys.RS256, keys.EdDSA:
	default:
		return fmt.Errorf("%w: --alg %q is not one of ES256, RS256, EdDSA", errUsage, *alg)
	}
	k, err := keys.Generate(*alg)
	if err != nil {
		return err
	}
	doc, err := keys.MarshalPrivateJWK(k)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err := fmt.Fprintf(c.stdout, "%s\n", doc)
		if err == nil && !c.jsonOut {
			fmt.Fprintf(c.stderr, "generated %s key %s\n", k.Alg, k.KID)
		}
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%s\n", doc); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if c.jsonOut {
		return c.printJSON(map[string]string{"kid": k.KID, "alg": k.Alg, "file": *out})
	}
	fmt.Fprintf(c.stdout, "wrote %s key %s to %s\n", k.Alg, k.KID, *out)
	return nil
}

// revocationsCopy fills new replicas of the revocation log (docs/scale.md,
// "Changing the layout"): run it after the writers write the new layout and
// before the authorizers read it.
func (c *cli) revocationsCopy(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("revocations copy", flag.ContinueOnError)
	from := fs.Int("from-replicas", 0, "the replica count before the change; replicas from this one up are filled")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *from < 1 {
		return fmt.Errorf("%w: --from-replicas is required (the replica count before the change)", errUsage)
	}
	return c.withStore(ctx, func(ctx context.Context, st *store.Store) error {
		n, err := st.CopyRevocations(ctx, *from)
		if err != nil {
			return err
		}
		if c.jsonOut {
			return c.printJSON(map[string]any{"copied": n, "layout": st.RevocationLayout().String()})
		}
		fmt.Fprintf(c.stdout, "%d live entries copied into replicas %d to %d (layout %s)\n", n, *from, st.RevocationLayout().Replicas-1, st.RevocationLayout())
		return nil
	})
}
