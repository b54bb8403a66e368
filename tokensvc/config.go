package tokensvc

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/revoke"
)

// Limits of the settings.
const (
	MinAccessTokenTTL = 5 * time.Second
	MaxAccessTokenTTL = time.Hour
)

// Config is the token service's configuration, read once at init.
type Config struct {
	Table       string // SHORTFUSE_TABLE
	AWSEndpoint string // SHORTFUSE_AWS_ENDPOINT (local stack)

	Issuer   string // SHORTFUSE_ISSUER: this service's URL, iss of its tokens
	Audience string // SHORTFUSE_AUDIENCE: aud of its access tokens (default Issuer)

	CognitoIssuer  string // SHORTFUSE_COGNITO_ISSUER
	CognitoJWKSURL string // SHORTFUSE_COGNITO_JWKS_URL
	UserPoolID     string // SHORTFUSE_COGNITO_USER_POOL_ID (global sign-out)

	// Clients maps each allowed app client id to its access token lifetime
	// (SHORTFUSE_CLIENTS, "id" or "id:seconds"; default SHORTFUSE_ACCESS_TOKEN_TTL).
	Clients        map[string]time.Duration
	AccessTokenTTL time.Duration // SHORTFUSE_ACCESS_TOKEN_TTL

	SessionIdleTTL time.Duration // SHORTFUSE_SESSION_IDLE_TTL
	SessionMaxTTL  time.Duration // SHORTFUSE_SESSION_MAX_TTL

	SigningKey string // SHORTFUSE_SIGNING_KEY: keys.Load source
	SigningKID string // SHORTFUSE_SIGNING_KID: active key id

	AdminGroup string // SHORTFUSE_ADMIN_GROUP
	// AdminGlobalSignOut (SHORTFUSE_ADMIN_GLOBAL_SIGNOUT, default true):
	// user revocations also sign the user out of Cognito; the default of
	// ?global_signout.
	AdminGlobalSignOut bool

	// Revocation is how long revocations last (revoke.LoadPolicy reads
	// SHORTFUSE_AUTHORIZER_MODE, SHORTFUSE_DIRECT_MAX_AGE and
	// SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY; AccessTokenTTL and Leeway
	// come from this service's settings).
	Revocation revoke.Policy
	// AllowIDTokenReuse (SHORTFUSE_ALLOW_ID_TOKEN_REUSE, default false)
	// lets one ID token buy several sessions; by default it buys one, so a
	// stolen copy cannot mint parallel sessions.
	AllowIDTokenReuse bool
	// MaxSessionsPerUser (SHORTFUSE_MAX_SESSIONS_PER_USER, 1-100, default
	// 20): an exchange that would pass it ends the least recently used.
	MaxSessionsPerUser int

	// RevocationRetention (SHORTFUSE_REVOCATION_RETENTION, 0 or unset:
	// derived) is the longest a revocation log entry may live; authorizers
	// load that far back. A configuration whose entries would need longer is
	// refused.
	RevocationRetention time.Duration
	MaxBodyBytes        int64         // SHORTFUSE_MAX_BODY_BYTES
	Scopes              []string      // SHORTFUSE_SCOPES
	Leeway              time.Duration // SHORTFUSE_LEEWAY
}

// LoadConfig reads the configuration from env and reports every problem at
// once, each naming its variable.
func LoadConfig(env *config.Env) (Config, error) {
	var c Config
	c.Table = env.Required("SHORTFUSE_TABLE")
	c.AWSEndpoint = env.URL("SHORTFUSE_AWS_ENDPOINT", "")
	c.Issuer = strings.TrimSuffix(requiredURL(env, "SHORTFUSE_ISSUER"), "/")
	c.Audience = env.String("SHORTFUSE_AUDIENCE", c.Issuer)
	c.CognitoIssuer = strings.TrimSuffix(requiredURL(env, "SHORTFUSE_COGNITO_ISSUER"), "/")
	def := ""
	if c.CognitoIssuer != "" {
		def = c.CognitoIssuer + "/.well-known/jwks.json"
	}
	c.CognitoJWKSURL = env.URL("SHORTFUSE_COGNITO_JWKS_URL", def)
	checkSecureURL(env, "SHORTFUSE_COGNITO_JWKS_URL", c.CognitoJWKSURL)
	c.UserPoolID = env.String("SHORTFUSE_COGNITO_USER_POOL_ID", "")

	c.AccessTokenTTL = env.Duration("SHORTFUSE_ACCESS_TOKEN_TTL", 300*time.Second, MinAccessTokenTTL, MaxAccessTokenTTL)
	c.Clients = parseClients(env, "SHORTFUSE_CLIENTS", env.Required("SHORTFUSE_CLIENTS"), c.AccessTokenTTL)

	c.SessionIdleTTL = env.Duration("SHORTFUSE_SESSION_IDLE_TTL", 24*time.Hour, time.Minute, 90*24*time.Hour)
	c.SessionMaxTTL = env.Duration("SHORTFUSE_SESSION_MAX_TTL", 30*24*time.Hour, 5*time.Minute, 365*24*time.Hour)
	if c.SessionIdleTTL > c.SessionMaxTTL {
		env.Fail("SHORTFUSE_SESSION_IDLE_TTL", "%s is longer than SHORTFUSE_SESSION_MAX_TTL (%s)", c.SessionIdleTTL, c.SessionMaxTTL)
	}

	c.SigningKey = env.Required("SHORTFUSE_SIGNING_KEY")
	c.SigningKID = env.String("SHORTFUSE_SIGNING_KID", "")

	c.AdminGroup = env.String("SHORTFUSE_ADMIN_GROUP", "shortfuse-admin")
	c.Revocation = revoke.LoadPolicy(env)
	c.AdminGlobalSignOut = !c.Revocation.NoGlobalSignOut
	if c.AdminGlobalSignOut && c.UserPoolID == "" {
		env.Fail("SHORTFUSE_ADMIN_GLOBAL_SIGNOUT", "true (the default) needs SHORTFUSE_COGNITO_USER_POOL_ID; set it, or set SHORTFUSE_ADMIN_GLOBAL_SIGNOUT=false")
	}
	c.AllowIDTokenReuse = env.Bool("SHORTFUSE_ALLOW_ID_TOKEN_REUSE", false)
	c.MaxSessionsPerUser = env.Int("SHORTFUSE_MAX_SESSIONS_PER_USER", DefaultMaxSessionsPerUser, 1, 100)

	c.Leeway = env.Duration("SHORTFUSE_LEEWAY", 5*time.Second, time.Second, 5*time.Minute)
	// 0 (the default) derives it.
	c.RevocationRetention = env.Duration("SHORTFUSE_REVOCATION_RETENTION", 0, 0, 3660*24*time.Hour)
	c.Revocation.AccessTokenTTL = c.LongestAccessTokenTTL()
	c.Revocation.Leeway = max(c.Leeway, revoke.DefaultLeeway)
	if need := c.Revocation.MaxEntryLifetime(); c.RevocationRetention == 0 {
		c.RevocationRetention = need
	} else if c.RevocationRetention < need {
		env.Fail("SHORTFUSE_REVOCATION_RETENTION", "%s is shorter than the longest a revocation must be remembered (%s), set by SHORTFUSE_ACCESS_TOKEN_TTL, SHORTFUSE_CLIENTS, SHORTFUSE_LEEWAY and, in direct mode (SHORTFUSE_AUTHORIZER_MODE), SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY and SHORTFUSE_DIRECT_MAX_AGE", c.RevocationRetention, need)
	}
	c.MaxBodyBytes = int64(env.Int("SHORTFUSE_MAX_BODY_BYTES", 8192, 1024, 1<<20))
	c.Scopes = env.List("SHORTFUSE_SCOPES", nil)
	for _, s := range c.Scopes {
		if !validScopeToken(s) {
			env.Fail("SHORTFUSE_SCOPES", "%q is not a valid scope", s)
		}
	}
	return c, env.Err()
}

// DefaultMaxSessionsPerUser is the per-user session cap, as Cognito's.
const DefaultMaxSessionsPerUser = 20

// LongestAccessTokenTTL is the longest lifetime any client's tokens get.
func (c *Config) LongestAccessTokenTTL() time.Duration {
	longest := c.AccessTokenTTL
	for _, d := range c.Clients {
		longest = max(longest, d)
	}
	return longest
}

func requiredURL(env *config.Env, name string) string {
	if env.Required(name) == "" {
		return ""
	}
	v := env.URL(name, "")
	checkSecureURL(env, name, v)
	return v
}

// checkSecureURL refuses plain http except on loopback (the local stack).
func checkSecureURL(env *config.Env, name, v string) {
	u, err := url.Parse(v)
	if v == "" || err != nil || u.Scheme == "https" {
		return
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		env.Fail(name, "%q must use https", v)
	}
}

func parseClients(env *config.Env, name, v string, def time.Duration) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, secs, hasTTL := strings.Cut(item, ":")
		id = strings.TrimSpace(id)
		ttl := def
		if hasTTL {
			n, err := strconv.Atoi(strings.TrimSpace(secs))
			d := time.Duration(n) * time.Second
			if err != nil || d < MinAccessTokenTTL || d > MaxAccessTokenTTL {
				env.Fail(name, "client %q: lifetime %q is not a number of seconds in [%d, %d]", id,
					secs, int(MinAccessTokenTTL.Seconds()), int(MaxAccessTokenTTL.Seconds()))
				continue
			}
			ttl = d
		}
		if id == "" || strings.ContainsAny(id, " \t") {
			env.Fail(name, "%q is not a client id", item)
			continue
		}
		if _, dup := out[id]; dup {
			env.Fail(name, "client %q listed twice", id)
			continue
		}
		out[id] = ttl
	}
	if v != "" && len(out) == 0 {
		env.Fail(name, "no client id")
	}
	return out
}
