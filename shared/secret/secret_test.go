package secret_test

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

	"github.com/shortfuse/shortfuse/shared/secret"
)

type fakeSSM struct {
	typ      ssmtypes.ParameterType
	value    *string
	err      error
	deadline bool
}

func (f *fakeSSM) GetParameter(ctx context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	_, f.deadline = ctx.Deadline()
	if f.err != nil {
		return nil, f.err
	}
	if !aws.ToBool(in.WithDecryption) {
		return nil, errors.New("not decrypted")
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Type: f.typ, Value: f.value}}, nil
}

type fakeSecrets struct {
	str *string
	bin []byte
	err error
}

func (f *fakeSecrets) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: f.str, SecretBinary: f.bin}, nil
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(small, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, make([]byte, 65), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SHORTFUSE_TEST_SECRET", "from-env")
	secure := &fakeSSM{typ: ssmtypes.ParameterTypeSecureString, value: aws.String("from-ssm")}

	tests := []struct {
		name, source string
		f            secret.Fetchers
		want         string // value, or with wantErr a fragment of the error
		wantErr      bool
	}{
		{"file", "file:" + small, secret.Fetchers{}, "s3cret", false},
		{"env", "env:SHORTFUSE_TEST_SECRET", secret.Fetchers{}, "from-env", false},
		{"ssm", "ssm:/app/key", secret.Fetchers{SSM: secure}, "from-ssm", false},
		{"secret string", "secretsmanager:key", secret.Fetchers{Secrets: &fakeSecrets{str: aws.String("str")}}, "str", false},
		{"secret binary", "secretsmanager:key", secret.Fetchers{Secrets: &fakeSecrets{bin: []byte("bin")}}, "bin", false},

		{"no scheme", "key.pem", secret.Fetchers{}, "want file:PATH", true},
		{"empty reference", "env:", secret.Fetchers{}, "want file:PATH", true},
		{"unknown scheme", "https://example.com/key", secret.Fetchers{}, "unknown scheme", true},
		{"missing file", "file:" + filepath.Join(dir, "nope"), secret.Fetchers{}, "no such file", true},
		{"file too large", "file:" + big, secret.Fetchers{}, "larger than 64 bytes", true},
		{"unset variable", "env:SHORTFUSE_TEST_UNSET", secret.Fetchers{}, "SHORTFUSE_TEST_UNSET", true},
		{"ssm without client", "ssm:key", secret.Fetchers{}, "needs an SSM client", true},
		{"ssm plain String", "ssm:key", secret.Fetchers{SSM: &fakeSSM{typ: ssmtypes.ParameterTypeString, value: aws.String("x")}}, "want SecureString", true},
		{"ssm no value", "ssm:key", secret.Fetchers{SSM: &fakeSSM{typ: ssmtypes.ParameterTypeSecureString}}, "no value", true},
		{"ssm error", "ssm:key", secret.Fetchers{SSM: &fakeSSM{err: errors.New("AccessDeniedException")}}, "AccessDeniedException", true},
		{"secrets without client", "secretsmanager:key", secret.Fetchers{}, "needs a Secrets Manager client", true},
		{"secret without value", "secretsmanager:key", secret.Fetchers{Secrets: &fakeSecrets{}}, "no value", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := secret.Read(context.Background(), tt.source, tt.f, 64)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Read(%q) error = %v, want one containing %q", tt.source, err, tt.want)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("Read(%q) = %q, %v; want %q", tt.source, got, err, tt.want)
			}
		})
	}
}

// Every AWS call carries a deadline, so a hung endpoint cannot stall a cold start.
func TestReadAWSCallHasDeadline(t *testing.T) {
	f := &fakeSSM{typ: ssmtypes.ParameterTypeSecureString, value: aws.String("v")}
	if _, err := secret.Read(context.Background(), "ssm:key", secret.Fetchers{SSM: f, Timeout: time.Second}, 64); err != nil {
		t.Fatal(err)
	}
	if !f.deadline {
		t.Fatal("GetParameter was called without a deadline")
	}
}

// An error names the source, never the value.
func TestReadErrorHidesValue(t *testing.T) {
	f := &fakeSSM{typ: ssmtypes.ParameterTypeString, value: aws.String("hunter2-value")}
	_, err := secret.Read(context.Background(), "ssm:key", secret.Fetchers{SSM: f}, 64)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error = %v", err)
	}
}
