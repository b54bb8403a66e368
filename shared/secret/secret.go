// Package secret reads a secret value named by a source string, so that
// every function takes its keys from the same kinds of place:
//
//	file:PATH            a file
//	env:VAR              the value of the environment variable VAR
//	ssm:NAME             an SSM SecureString parameter, decrypted
//	secretsmanager:ID    a Secrets Manager secret (name or ARN)
//
// Errors name the source but never include the value.
package secret

import (
	"context"
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

// SSMAPI is the part of *ssm.Client that Read uses.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// SecretsAPI is the part of *secretsmanager.Client that Read uses.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Fetchers are the AWS clients Read may need; a nil client is fine when its
// source is not used.
type Fetchers struct {
	SSM     SSMAPI        // for "ssm:" sources; *ssm.Client
	Secrets SecretsAPI    // for "secretsmanager:" sources; *secretsmanager.Client
	Timeout time.Duration // per AWS call; default awsx.CallTimeout
}

// Read returns the value source names. A file larger than maxBytes is
// refused before it is read.
func Read(ctx context.Context, source string, f Fetchers, maxBytes int64) ([]byte, error) {
	scheme, ref, ok := strings.Cut(source, ":")
	if !ok || ref == "" {
		return nil, fmt.Errorf("source %q: want file:PATH, env:VAR, ssm:NAME or secretsmanager:ID", source)
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = awsx.CallTimeout
	}
	switch scheme {
	case "file":
		fi, err := os.Stat(ref)
		if err != nil {
			return nil, err
		}
		if fi.Size() > maxBytes {
			return nil, fmt.Errorf("%s is larger than %d bytes", ref, maxBytes)
		}
		return os.ReadFile(ref)
	case "env":
		v, ok := os.LookupEnv(ref)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("environment variable %s is empty or unset", ref)
		}
		return []byte(v), nil
	case "ssm":
		if f.SSM == nil {
			return nil, fmt.Errorf("source %s needs an SSM client", source)
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		out, err := f.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(ref), WithDecryption: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("ssm GetParameter %s: %w", ref, err)
		}
		p := out.Parameter
		if p == nil || p.Value == nil {
			return nil, fmt.Errorf("ssm parameter %s has no value", ref)
		}
		// A secret in a plain String parameter is readable by anyone with
		// ssm:GetParameter; refuse rather than normalise that.
		if p.Type != ssmtypes.ParameterTypeSecureString {
			return nil, fmt.Errorf("ssm parameter %s is %s, want SecureString", ref, p.Type)
		}
		return []byte(*p.Value), nil
	case "secretsmanager":
		if f.Secrets == nil {
			return nil, fmt.Errorf("source %s needs a Secrets Manager client", source)
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		out, err := f.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref)})
		if err != nil {
			return nil, fmt.Errorf("secretsmanager GetSecretValue %s: %w", ref, err)
		}
		switch {
		case out.SecretString != nil:
			return []byte(*out.SecretString), nil
		case len(out.SecretBinary) > 0:
			return out.SecretBinary, nil
		}
		return nil, fmt.Errorf("secret %s has no value", ref)
	default:
		return nil, fmt.Errorf("source %q: unknown scheme %q (want file, env, ssm or secretsmanager)", source, scheme)
	}
}
