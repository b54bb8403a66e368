package customauth

import (
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/config"
)

func TestLockoutConfig(t *testing.T) {
	for _, tt := range []struct {
		name     string
		vars     map[string]string
		attempts int
		window   time.Duration
		bad      string // the variable the error must name; "" accepts
	}{
		{name: "defaults", attempts: 10, window: time.Hour},
		{name: "set", vars: map[string]string{"SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS": "20", "SHORTFUSE_AUTH_LOCKOUT_WINDOW": "30m"}, attempts: 20, window: 30 * time.Minute},
		{name: "window in seconds", vars: map[string]string{"SHORTFUSE_AUTH_LOCKOUT_WINDOW": "86400"}, attempts: 10, window: 24 * time.Hour},
		{name: "lowest", vars: map[string]string{"SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS": "3", "SHORTFUSE_AUTH_LOCKOUT_WINDOW": "1m"}, attempts: 3, window: time.Minute},
		{name: "highest", vars: map[string]string{"SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS": "1000"}, attempts: 1000, window: time.Hour},
		{name: "equal to max attempts", vars: map[string]string{"SHORTFUSE_AUTH_MAX_ATTEMPTS": "5", "SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS": "5"}, attempts: 5, window: time.Hour},
		{name: "too few", vars: map[string]string{"SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS": "2"}, bad: "SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS"},
		{name: "too many", vars: map[string]string{"SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS": "1001"}, bad: "SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS"},
		{name: "not a number", vars: map[string]string{"SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS": "ten"}, bad: "SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS"},
		{name: "below max attempts", vars: map[string]string{"SHORTFUSE_AUTH_MAX_ATTEMPTS": "5", "SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS": "4"}, bad: "SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS"},
		{name: "below the highest max attempts", vars: map[string]string{"SHORTFUSE_AUTH_MAX_ATTEMPTS": "10", "SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS": "9"}, bad: "SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS"},
		{name: "short window", vars: map[string]string{"SHORTFUSE_AUTH_LOCKOUT_WINDOW": "59s"}, bad: "SHORTFUSE_AUTH_LOCKOUT_WINDOW"},
		{name: "long window", vars: map[string]string{"SHORTFUSE_AUTH_LOCKOUT_WINDOW": "25h"}, bad: "SHORTFUSE_AUTH_LOCKOUT_WINDOW"},
		{name: "not a duration", vars: map[string]string{"SHORTFUSE_AUTH_LOCKOUT_WINDOW": "an hour"}, bad: "SHORTFUSE_AUTH_LOCKOUT_WINDOW"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := config.FromMap(tt.vars)
			c := LoadConfig(env)
			err := env.Err()
			if tt.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tt.bad) {
					t.Fatalf("error %v, want one naming %s", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.LockoutAttempts != tt.attempts || c.LockoutWindow != tt.window {
				t.Fatalf("budget %d per %s, want %d per %s", c.LockoutAttempts, c.LockoutWindow, tt.attempts, tt.window)
			}
			if b := c.budget(); b.Attempts != tt.attempts || b.Window != tt.window {
				t.Fatalf("store budget %+v", b)
			}
		})
	}
}
