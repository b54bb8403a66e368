package keys_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/shortfuse/shortfuse/shared/keys"
)

type fakeSSM struct {
	typ      ssmtypes.ParameterType
	value    string
	err      error
	in       *ssm.GetParameterInput
	deadline time.Duration
}

func (f *fakeSSM) GetParameter(ctx context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.in = in
	if d, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(d)
	}
	if f.err != nil {
		return nil, f.err
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Type: f.typ, Value: aws.String(f.value)}}, nil
}

type fakeSecrets struct {
	str      *string
	bin      []byte
	err      error
	in       *secretsmanager.GetSecretValueInput
	deadline time.Duration
}

func (f *fakeSecrets) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.in = in
	if d, ok := ctx.Deadline(); ok {
		f.deadline = time.Until(d)
	}
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: f.str, SecretBinary: f.bin}, nil
}

func TestLoad(t *testing.T) {
	k := mustGenerate(t, keys.EdDSA)
	doc, err := keys.MarshalPrivateJWK(k)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(t *testing.T, set *keys.Set, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if set.Active().KID != k.KID {
			t.Fatalf("active %s, want %s", set.Active().KID, k.KID)
		}
	}

	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "key.json")
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		set, err := keys.Load(ctx, "file:"+path, "", keys.Fetchers{})
		check(t, set, err)
	})
	t.Run("env", func(t *testing.T) {
		t.Setenv("SHORTFUSE_TEST_SIGNING_KEY", string(doc))
		set, err := keys.Load(ctx, "env:SHORTFUSE_TEST_SIGNING_KEY", k.KID, keys.Fetchers{})
		check(t, set, err)
	})
	t.Run("ssm", func(t *testing.T) {
		f := &fakeSSM{typ: ssmtypes.ParameterTypeSecureString, value: string(doc)}
		set, err := keys.Load(ctx, "ssm:/shortfuse/prod/signing-key", "", keys.Fetchers{SSM: f, Timeout: time.Second})
		check(t, set, err)
		if aws.ToString(f.in.Name) != "/shortfuse/prod/signing-key" || !aws.ToBool(f.in.WithDecryption) {
			t.Fatalf("GetParameter input %+v", f.in)
		}
		if f.deadline <= 0 || f.deadline > time.Second {
			t.Fatalf("deadline %v, want within 1s", f.deadline)
		}
	})
	t.Run("secretsmanager string", func(t *testing.T) {
		f := &fakeSecrets{str: aws.String(string(doc))}
		set, err := keys.Load(ctx, "secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:key-AbCdEf", "", keys.Fetchers{Secrets: f})
		check(t, set, err)
		if aws.ToString(f.in.SecretId) != "arn:aws:secretsmanager:eu-west-1:123456789012:secret:key-AbCdEf" {
			t.Fatalf("SecretId %q", aws.ToString(f.in.SecretId))
		}
		if f.deadline <= 0 || f.deadline > 2*time.Second {
			t.Fatalf("deadline %v, want the 2s default", f.deadline)
		}
	})
	t.Run("secretsmanager binary", func(t *testing.T) {
		set, err := keys.Load(ctx, "secretsmanager:key", "", keys.Fetchers{Secrets: &fakeSecrets{bin: doc}})
		check(t, set, err)
	})

	secret := string(doc)
	for _, tt := range []struct {
		name, source string
		f            keys.Fetchers
		msg          string
	}{
		{"no scheme", "key.pem", keys.Fetchers{}, "want file:PATH"},
		{"empty reference", "file:", keys.Fetchers{}, "want file:PATH"},
		{"unknown scheme", "http://example.com/key", keys.Fetchers{}, "unknown scheme"},
		{"missing file", "file:" + filepath.Join(t.TempDir(), "nope"), keys.Fetchers{}, "no such file"},
		{"unset variable", "env:SHORTFUSE_TEST_UNSET_VARIABLE", keys.Fetchers{}, "SHORTFUSE_TEST_UNSET_VARIABLE"},
		{"ssm without a client", "ssm:key", keys.Fetchers{}, "needs an SSM client"},
		{"ssm plain String", "ssm:key", keys.Fetchers{SSM: &fakeSSM{typ: ssmtypes.ParameterTypeString, value: secret}}, "want SecureString"},
		{"ssm error", "ssm:key", keys.Fetchers{SSM: &fakeSSM{err: errors.New("AccessDeniedException")}}, "AccessDeniedException"},
		{"ssm garbage", "ssm:key", keys.Fetchers{SSM: &fakeSSM{typ: ssmtypes.ParameterTypeSecureString, value: "{not json"}}, "source ssm:key"},
		{"secrets without a client", "secretsmanager:key", keys.Fetchers{}, "needs a Secrets Manager client"},
		{"secret without a value", "secretsmanager:key", keys.Fetchers{Secrets: &fakeSecrets{}}, "no value"},
		{"secret error", "secretsmanager:key", keys.Fetchers{Secrets: &fakeSecrets{err: context.DeadlineExceeded}}, "deadline"},
		{"wrong active kid", "ssm:key", keys.Fetchers{SSM: &fakeSSM{typ: ssmtypes.ParameterTypeSecureString, value: secret}}, "not in the key set"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			active := ""
			if tt.name == "wrong active kid" {
				active = "other"
			}
			_, err := keys.Load(ctx, tt.source, active, tt.f)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %q does not say %q", err, tt.msg)
			}
			if strings.Contains(err.Error(), secret[10:40]) {
				t.Fatal("error holds key material")
			}
		})
	}
}
