package customauth

import (
	"context"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/shared/config"
)

// Misconfiguration stops a cold start with every problem, each naming its
// variable, before any AWS call.
func TestFromEnvErrors(t *testing.T) {
	ctx := context.Background()
	env := config.FromMap(map[string]string{"SHORTFUSE_AUTH_CODE_LENGTH": "3", "SHORTFUSE_MAIL_FROM": "nope"})
	_, err := CreateFromEnv(ctx, env, nil)
	for _, name := range []string{"SHORTFUSE_TABLE", "SHORTFUSE_AUTH_CODE_LENGTH", "SHORTFUSE_MAIL_FROM"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("create: %v does not name %s", err, name)
		}
	}
	_, err = VerifyFromEnv(ctx, config.FromMap(map[string]string{"SHORTFUSE_TABLE": "t", "SHORTFUSE_AWS_ENDPOINT": "http://127.0.0.1:1"}), nil)
	if err == nil || !strings.Contains(err.Error(), "SHORTFUSE_AUTH_LINK_KEY") {
		t.Errorf("verify without key: %v", err)
	}
	t.Setenv("SHORTFUSE_TEST_KEY", strings.Repeat("k", 32))
	if _, err := VerifyFromEnv(ctx, config.FromMap(map[string]string{"SHORTFUSE_TABLE": "t", "SHORTFUSE_AWS_ENDPOINT": "http://127.0.0.1:1",
		"SHORTFUSE_AUTH_LINK_KEY": "env:SHORTFUSE_TEST_KEY"}), nil); err != nil {
		t.Errorf("verify: %v", err)
	}
	if _, err := DefineFromEnv(config.FromMap(map[string]string{"SHORTFUSE_AUTH_MAX_ATTEMPTS": "99"})); err == nil {
		t.Error("define accepted 99 attempts")
	}
}
