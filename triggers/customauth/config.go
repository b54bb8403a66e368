package customauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/secret"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/triggers/templates"
)

// Config is the passwordless sign-in policy. The three functions read the
// same variables; define uses only MaxAttempts.
type Config struct {
	CodeLength  int           // SHORTFUSE_AUTH_CODE_LENGTH: digits per code (default 6, 6 to 10)
	CodeTTL     time.Duration // SHORTFUSE_AUTH_CODE_TTL: lifetime of a code and its link (default 10m, 1m to 1h)
	MaxAttempts int           // SHORTFUSE_AUTH_MAX_ATTEMPTS: wrong answers before sign-in fails (default 3, 1 to 10)
	// LinkBaseURL is the page that completes a magic-link sign-in
	// (SHORTFUSE_AUTH_LINK_BASE_URL); the token is appended as the fragment
	// "#token=...", which browsers never send to a server. "" sends codes only.
	LinkBaseURL string
	// MinInterval is the least time between two sign-in mails to one user
	// (SHORTFUSE_AUTH_LINK_MIN_INTERVAL, default 60s, up to 1h). Within it a
	// new sign-in reuses the live code and link instead of mailing new ones.
	MinInterval time.Duration
	// KeySource holds the HMAC key that signs links and codes
	// (SHORTFUSE_AUTH_LINK_KEY): file:PATH, env:VAR, ssm:NAME (SecureString)
	// or secretsmanager:ID, at least 32 bytes.
	KeySource string
	// LockoutAttempts is the per-user ceiling: code answers counted per
	// user per LockoutWindow, across every code mailed in it
	// (SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS, default 10, 3 to 1000, at least
	// MaxAttempts). Past it nothing is refused: new codes are mailed at
	// most once per SlowInterval for the rest of the window. Magic links are
	// not counted.
	LockoutAttempts int
	// LockoutWindow is the span of the ceiling (SHORTFUSE_AUTH_LOCKOUT_WINDOW,
	// default 1h, 1m to 24h). A window starts with the first code mailed
	// after the previous one has passed.
	LockoutWindow time.Duration
	// SlowInterval is the least time between two codes to one user once the
	// ceiling is reached (SHORTFUSE_AUTH_SLOW_INTERVAL, default 15m or the
	// window when shorter, from MinInterval to LockoutWindow).
	SlowInterval time.Duration
	// RequireVerifiedEmail mails codes only to verified addresses
	// (SHORTFUSE_AUTH_REQUIRE_VERIFIED_EMAIL, default true); other users are
	// treated like unknown ones.
	RequireVerifiedEmail bool
	// MailFloor is the least time the mail step of a new code takes, mail
	// or not, so that it does not tell known users from unknown ones
	// (SHORTFUSE_AUTH_MAIL_FLOOR, default 100ms, 0 to 1s). Once the
	// container has timed real sends, the floor is the longest of the last
	// 32 when that is longer. Only create reads it.
	MailFloor time.Duration
	// UnverifiedName is what a sign-in mail to an unverified address (only
	// with RequireVerifiedEmail false) shows of the user's name
	// (SHORTFUSE_MESSAGE_UNVERIFIED_NAME, default none; see package
	// templates). Only create reads it.
	UnverifiedName templates.NameMode
}

// LoadConfig reads the policy; problems are recorded in env.
func LoadConfig(env *config.Env) Config {
	c := Config{
		CodeLength:           env.Int("SHORTFUSE_AUTH_CODE_LENGTH", 6, 6, 10),
		CodeTTL:              env.Duration("SHORTFUSE_AUTH_CODE_TTL", 10*time.Minute, time.Minute, time.Hour),
		MaxAttempts:          env.Int("SHORTFUSE_AUTH_MAX_ATTEMPTS", 3, 1, 10),
		LinkBaseURL:          env.URL("SHORTFUSE_AUTH_LINK_BASE_URL", ""),
		MinInterval:          env.Duration("SHORTFUSE_AUTH_LINK_MIN_INTERVAL", time.Minute, 0, time.Hour),
		KeySource:            env.String("SHORTFUSE_AUTH_LINK_KEY", ""),
		LockoutAttempts:      env.Int("SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS", 10, 3, 1000),
		LockoutWindow:        env.Duration("SHORTFUSE_AUTH_LOCKOUT_WINDOW", time.Hour, time.Minute, 24*time.Hour),
		RequireVerifiedEmail: env.Bool("SHORTFUSE_AUTH_REQUIRE_VERIFIED_EMAIL", true),
	}
	if c.LinkBaseURL != "" {
		u, err := url.Parse(c.LinkBaseURL)
		switch {
		case err != nil:
		case u.Fragment != "" || strings.Contains(c.LinkBaseURL, "#"):
			env.Fail("SHORTFUSE_AUTH_LINK_BASE_URL", "must not have a fragment: the token goes there")
		case len(c.LinkBaseURL) > maxLinkBase:
			env.Fail("SHORTFUSE_AUTH_LINK_BASE_URL", "longer than %d bytes", maxLinkBase)
		}
	}
	if c.MinInterval >= c.CodeTTL {
		env.Fail("SHORTFUSE_AUTH_LINK_MIN_INTERVAL", "%s must be shorter than SHORTFUSE_AUTH_CODE_TTL (%s)", c.MinInterval, c.CodeTTL)
	}
	c.SlowInterval = env.Duration("SHORTFUSE_AUTH_SLOW_INTERVAL", min(15*time.Minute, c.LockoutWindow), 0, 24*time.Hour)
	if c.SlowInterval < c.MinInterval || c.SlowInterval > c.LockoutWindow {
		env.Fail("SHORTFUSE_AUTH_SLOW_INTERVAL", "%s must be from SHORTFUSE_AUTH_LINK_MIN_INTERVAL (%s) to SHORTFUSE_AUTH_LOCKOUT_WINDOW (%s)", c.SlowInterval, c.MinInterval, c.LockoutWindow)
	}
	if c.LockoutAttempts < c.MaxAttempts {
		env.Fail("SHORTFUSE_AUTH_LOCKOUT_ATTEMPTS", "%d must be at least SHORTFUSE_AUTH_MAX_ATTEMPTS (%d)", c.LockoutAttempts, c.MaxAttempts)
	}
	return c
}

// budget is the store's view of the attempt budget.
func (c Config) budget() store.AttemptBudget {
	return store.AttemptBudget{Attempts: c.LockoutAttempts, Window: c.LockoutWindow, SlowInterval: min(c.SlowInterval, c.LockoutWindow)}
}

// MinKeyBytes is the least length of the HMAC key.
const MinKeyBytes = 32

// LoadKey reads the HMAC key from source (see Config.KeySource). The value
// is used as it is, surrounding whitespace removed: generate it with e.g.
// `openssl rand -base64 48`. Errors never include key material.
func LoadKey(ctx context.Context, source string, f secret.Fetchers) ([]byte, error) {
	if source == "" {
		return nil, errors.New("SHORTFUSE_AUTH_LINK_KEY: required but not set")
	}
	b, err := secret.Read(ctx, source, f, maxSecret)
	if err != nil {
		return nil, fmt.Errorf("SHORTFUSE_AUTH_LINK_KEY: %w", err)
	}
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) < MinKeyBytes {
		return nil, fmt.Errorf("SHORTFUSE_AUTH_LINK_KEY: key from %s has %d bytes, want at least %d", schemeOf(source), len(b), MinKeyBytes)
	}
	return b, nil
}

func schemeOf(source string) string {
	s, _, _ := strings.Cut(source, ":")
	return s
}

const maxSecret = 64 << 10
