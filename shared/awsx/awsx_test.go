package awsx

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/shared/config"
)

// isolate hides the machine's AWS configuration from the SDK's chain.
func isolate(t *testing.T) {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "none")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_REGION", "")
}

func TestLoadRegion(t *testing.T) {
	cases := []struct {
		name               string
		env, opt, ep, want string
	}{
		{"endpoint honours AWS_REGION", "eu-west-1", "", "http://127.0.0.1:9", "eu-west-1"},
		{"endpoint without any region", "", "", "http://127.0.0.1:9", DefaultLocalRegion},
		{"option wins over AWS_REGION", "eu-west-1", "ap-south-1", "http://127.0.0.1:9", "ap-south-1"},
		{"AWS without endpoint", "eu-central-1", "", "", "eu-central-1"},
		{"AWS without any region stays empty", "", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			isolate(t)
			if c.env != "" {
				t.Setenv("AWS_REGION", c.env)
			}
			cfg, err := Load(context.Background(), Options{Region: c.opt, Endpoint: c.ep})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != c.want {
				t.Fatalf("region %q, want %q", cfg.Region, c.want)
			}
		})
	}
}

// A call to an endpoint that never answers ends at CallTimeout, retries
// included, though the caller's context has no deadline.
func TestCallTimeout(t *testing.T) {
	isolate(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold the connection open, answer nothing
		}
	}()
	cfg, err := Load(context.Background(), Options{Endpoint: "http://" + ln.Addr().String(), CallTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dynamodb.NewFromConfig(cfg).ListTables(context.Background(), &dynamodb.ListTablesInput{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the call's deadline", err)
	}
}

func TestForFunction(t *testing.T) {
	isolate(t)
	cfg, err := ForFunction(context.Background(), config.Common{SESEndpoint: "http://127.0.0.1:9", Region: "eu-north-1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-north-1" || cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:9" {
		t.Fatalf("region %q endpoint %v", cfg.Region, cfg.BaseEndpoint)
	}
	if BaseEndpoint("") != nil || *BaseEndpoint("x") != "x" {
		t.Fatal("BaseEndpoint")
	}
}
