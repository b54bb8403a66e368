package keys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/shortfuse/shortfuse/shared/awsx"
)

// SSMAPI is the part of *ssm.Client that Load uses.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// SecretsAPI is the part of *secretsmanager.Client that Load uses.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Fetchers are the AWS clients Load may need; a nil client is fine when its
// source is not used.
type Fetchers struct {
	SSM     SSMAPI        // for "ssm:" sources; *ssm.Client
	Secrets SecretsAPI    // for "secretsmanager:" sources; *secretsmanager.Client
	Timeout time.Duration // per AWS call; default awsx.CallTimeout
}

// Load reads a key document from source and parses it with [ParseSet].
// Sources:
//
//	file:PATH            a file
//	env:VAR              the value of the environment variable VAR
//	ssm:NAME             an SSM SecureString parameter, decrypted
//	secretsmanager:ID    a Secrets Manager secret (name or ARN)
//
// Errors name the source but never include key material.
func Load(ctx context.Context, source string, activeKID string, f Fetchers) (*Set, error) {
	data, err := read(ctx, source, f)
	if err != nil {
		return nil, err
	}
	set, err := ParseSet(data, activeKID)
	if err != nil {
		return nil, fmt.Errorf("%w (source %s)", err, source)
	}
	return set, nil
}

func read(ctx context.Context, source string, f Fetchers) ([]byte, error) {
	scheme, ref, ok := strings.Cut(source, ":")
	if !ok || ref == "" {
		return nil, fmt.Errorf("keys: key source %q: want file:PATH, env:VAR, ssm:NAME or secretsmanager:ID", source)
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = awsx.CallTimeout
	}
	switch scheme {
	case "file":
		fi, err := os.Stat(ref)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		if fi.Size() > maxDocument {
			return nil, fmt.Errorf("keys: %s is larger than 1 MiB", ref)
		}
		b, err := os.ReadFile(ref)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		return b, nil
	case "env":
		v, ok := os.LookupEnv(ref)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("keys: environment variable %s is empty or unset", ref)
		}
		return []byte(v), nil
	case "ssm":
		if f.SSM == nil {
			return nil, errors.New("keys: source " + source + " needs an SSM client")
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		out, err := f.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(ref), WithDecryption: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("keys: ssm GetParameter %s: %w", ref, err)
		}
		p := out.Parameter
		if p == nil || p.Value == nil {
			return nil, fmt.Errorf("keys: ssm parameter %s has no value", ref)
		}
		// A signing key in a plain String parameter is readable by anyone
		// with ssm:GetParameter; refuse rather than normalise that.
		if p.Type != ssmtypes.ParameterTypeSecureString {
			return nil, fmt.Errorf("keys: ssm parameter %s is %s, want SecureString", ref, p.Type)
		}
		return []byte(*p.Value), nil
	case "secretsmanager":
		if f.Secrets == nil {
			return nil, errors.New("keys: source " + source + " needs a Secrets Manager client")
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		out, err := f.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref)})
		if err != nil {
			return nil, fmt.Errorf("keys: secretsmanager GetSecretValue %s: %w", ref, err)
		}
		switch {
		case out.SecretString != nil:
			return []byte(*out.SecretString), nil
		case len(out.SecretBinary) > 0:
			return out.SecretBinary, nil
		}
		return nil, fmt.Errorf("keys: secret %s has no value", ref)
	default:
		return nil, fmt.Errorf("keys: key source %q: unknown scheme %q (want file, env, ssm or secretsmanager)", source, scheme)
	}
}
