package revoke

import (
	"time"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// MaxAccessTokenTTL is the longest access token lifetime the token service
// allows (tokenspec.MaxAccessTTL); a writer that does not know the clients'
// lifetimes assumes it.
const MaxAccessTokenTTL = tokenspec.MaxAccessTTL

// LoadPolicy reads the variables every revocation writer of a deployment
// shares (the token service, the admin CLI, the Cognito events function),
// recording problems in env:
//
//	SHORTFUSE_AUTHORIZER_MODE                 exchange (default) or direct
//	SHORTFUSE_DIRECT_MAX_AGE                  direct mode's maximum ID token age (default 60s)
//	SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY  the app clients' refresh token validity (default 720h)
//	SHORTFUSE_ADMIN_GLOBAL_SIGNOUT            user revocations sign out of Cognito (default true)
//	SHORTFUSE_DIRECT_FAMILY_LIMIT             direct mode: long login family entries per user (default 50, 1-10000)
//
// AccessTokenTTL is MaxAccessTokenTTL and Leeway DefaultLeeway (the
// authorizer's); the token service, which knows its clients, adjusts both.
func LoadPolicy(env *config.Env) Policy {
	p := Policy{AccessTokenTTL: MaxAccessTokenTTL}
	mode := env.OneOf("SHORTFUSE_AUTHORIZER_MODE", "exchange", "exchange", "direct")
	maxAge := env.Duration("SHORTFUSE_DIRECT_MAX_AGE", 60*time.Second, time.Second, time.Hour)
	if mode == "direct" {
		p.DirectMaxAge = maxAge
	}
	p.RefreshTokenValidity = env.Duration("SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY", DefaultRefreshTokenValidity, time.Hour, 3650*24*time.Hour)
	p.Leeway = DefaultLeeway
	p.NoGlobalSignOut = !env.Bool("SHORTFUSE_ADMIN_GLOBAL_SIGNOUT", true)
	p.FamilyLimit = env.Int("SHORTFUSE_DIRECT_FAMILY_LIMIT", DefaultFamilyLimit, 1, 10000)
	return p
}

// MaxRetention bounds SHORTFUSE_REVOCATION_RETENTION: ten years and a
// month, past any refresh token validity Cognito allows.
const MaxRetention = 3660 * 24 * time.Hour

// LoadRetention reads SHORTFUSE_REVOCATION_RETENTION, the longest a
// revocation log entry may live, for a writer under p: 0 or unset derives
// it (p.MaxEntryLifetime()); a value shorter than the entries p writes need
// is recorded as an error naming what sets that need, since authorizers
// that load only that far back would forget a revocation that still
// matters.
func LoadRetention(env *config.Env, p Policy) time.Duration {
	retention := env.Duration("SHORTFUSE_REVOCATION_RETENTION", 0, 0, MaxRetention)
	need := p.MaxEntryLifetime()
	if retention == 0 {
		return need
	}
	if retention < need {
		env.Fail("SHORTFUSE_REVOCATION_RETENTION", "%s is shorter than the longest a revocation must be remembered (%s), set by SHORTFUSE_ACCESS_TOKEN_TTL, SHORTFUSE_CLIENTS, SHORTFUSE_LEEWAY and, in direct mode (SHORTFUSE_AUTHORIZER_MODE), SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY and SHORTFUSE_DIRECT_MAX_AGE", retention, need)
	}
	return retention
}
