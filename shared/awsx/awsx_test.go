package awsx

import (
	"context"
	"os"
	"path/filepath"
	"testing"
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
