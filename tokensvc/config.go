package tokensvc

import (
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/shared/appclient"
	"github.com/shortfuse/shortfuse/shared/config"
)

// Limits of the settings.
const (
	MinAccessTokenTTL = appclient.MinTTL
	MaxAccessTokenTTL = appclient.MaxTTL
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

	AdminGroup         string // SHORTFUSE_ADMIN_GROUP
	AdminGlobalSignOut bool   // SHORTFUSE_ADMIN_GLOBAL_SIGNOUT: default of ?global_signout

	RevocationRetention time.Duration // SHORTFUSE_REVOCATION_RETENTION
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
	c.AdminGlobalSignOut = env.Bool("SHORTFUSE_ADMIN_GLOBAL_SIGNOUT", false)
	if c.AdminGlobalSignOut && c.UserPoolID == "" {
		env.Fail("SHORTFUSE_ADMIN_GLOBAL_SIGNOUT", "needs SHORTFUSE_COGNITO_USER_POOL_ID")
	}

	c.Leeway = env.Duration("SHORTFUSE_LEEWAY", 5*time.Second, time.Second, 5*time.Minute)
	c.RevocationRetention = env.Duration("SHORTFUSE_REVOCATION_RETENTION", time.Hour, time.Minute, 7*24*time.Hour)
	if longest := c.LongestAccessTokenTTL() + c.Leeway; c.RevocationRetention < longest {
		env.Fail("SHORTFUSE_REVOCATION_RETENTION", "%s is shorter than the longest access token lifetime plus leeway (%s)", c.RevocationRetention, longest)
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
	list, err := appclient.Parse(v)
	if err != nil {
		env.Fail(name, "%v", err)
		return nil
	}
	if v != "" && len(list) == 0 {
		env.Fail(name, "no client id")
	}
	out := make(map[string]time.Duration, len(list))
	for _, c := range list {
		out[c.ID] = def
		if c.TTL != 0 {
			out[c.ID] = c.TTL
		}
	}
	return out
}
