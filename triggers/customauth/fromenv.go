package customauth

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/shared/mail"
	"github.com/shortfuse/shortfuse/shared/secret"
	"github.com/shortfuse/shortfuse/triggers/templates"
	"github.com/shortfuse/shortfuse/triggers/triggerenv"
)

// DefineFunction, CreateFunction and VerifyFunction are the constructors of
// the three custom auth triggers (see package function).
func DefineFunction(_ context.Context, in function.Input) (function.Handler, error) {
	h, err := DefineFromEnv(in.Env)
	if err != nil {
		return nil, err
	}
	return h.Handle, nil
}

func CreateFunction(ctx context.Context, in function.Input) (function.Handler, error) {
	h, err := CreateFromEnv(ctx, in.Env, in.Log)
	if err != nil {
		return nil, err
	}
	return h.Handle, nil
}

func VerifyFunction(ctx context.Context, in function.Input) (function.Handler, error) {
	h, err := VerifyFromEnv(ctx, in.Env, in.Log)
	if err != nil {
		return nil, err
	}
	return h.Handle, nil
}

// DefineFromEnv builds the define trigger from env.
func DefineFromEnv(env *config.Env) (*Define, error) {
	cfg := LoadConfig(env)
	if err := env.Err(); err != nil {
		return nil, err
	}
	return NewDefine(cfg), nil
}

type deps struct {
	cfg    Config
	common triggerenv.Settings
	opts   Options
}

// load reads the settings create and verify share, then extra's, and
// reports every problem at once.
func load(env *config.Env, log *slog.Logger, extra func()) (deps, error) {
	d := deps{common: triggerenv.Load(env), cfg: LoadConfig(env)}
	if extra != nil {
		extra()
	}
	if err := env.Err(); err != nil {
		return d, err
	}
	d.opts = Options{Logger: log, Budget: d.common.Budget}
	return d, nil
}

// CreateFromEnv builds the create trigger from env: store, SES sender,
// templates and HMAC key, once, at init.
func CreateFromEnv(ctx context.Context, env *config.Env, log *slog.Logger) (*Create, error) {
	var mc mail.Config
	var tc templates.Config
	var names templates.NameMode
	var floor time.Duration
	d, err := load(env, log, func() {
		mc = mail.LoadConfig(env)
		tc = templates.LoadConfig(env)
		names = templates.LoadNameMode(env)
		floor = env.Duration("SHORTFUSE_AUTH_MAIL_FLOOR", 100*time.Millisecond, 0, maxMailFloor)
	})
	if err != nil {
		return nil, err
	}
	d.cfg.UnverifiedName, d.cfg.MailFloor = names, floor
	set, err := tc.Load()
	if err != nil {
		return nil, err
	}
	awsCfg, k, err := d.connect(ctx)
	if err != nil {
		return nil, err
	}
	sender, err := mc.New(d.common.SES(awsCfg))
	if err != nil {
		return nil, err
	}
	return NewCreate(d.cfg, k, d.common.Store(awsCfg), sender, set, tc.AppName, d.opts), nil
}

// VerifyFromEnv builds the verify trigger from env: store and HMAC key.
func VerifyFromEnv(ctx context.Context, env *config.Env, log *slog.Logger) (*Verify, error) {
	d, err := load(env, log, nil)
	if err != nil {
		return nil, err
	}
	awsCfg, k, err := d.connect(ctx)
	if err != nil {
		return nil, err
	}
	return NewVerify(d.cfg, k, d.common.Store(awsCfg), d.opts), nil
}

// connect loads the AWS configuration and, through it, the HMAC keys
// create and verify share.
func (d deps) connect(ctx context.Context) (aws.Config, *Keys, error) {
	awsCfg, err := d.common.AWS(ctx)
	if err != nil {
		return aws.Config{}, nil, err
	}
	master, err := LoadKey(ctx, d.cfg.KeySource, secret.Fetchers{SSM: ssm.NewFromConfig(awsCfg), Secrets: secretsmanager.NewFromConfig(awsCfg)})
	if err != nil {
		return aws.Config{}, nil, err
	}
	k, err := NewKeys(master)
	return awsCfg, k, err
}
