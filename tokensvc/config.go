package tokensvc

import (
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/cors"
	"github.com/shortfuse/shortfuse/shared/dpop"
	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// Limits of the settings.
const (
	MinAccessTokenTTL = tokenspec.MinAccessTTL
	MaxAccessTokenTTL = tokenspec.MaxAccessTTL
)

// Config is the token service's configuration, read once at init.
type Config struct {
	Table  string        // SHORTFUSE_TABLE
	Common config.Common // the settings every function shares (log level, region, endpoints)

	Issuer   string // SHORTFUSE_ISSUER: this service's URL, iss of its tokens
	Audience string // SHORTFUSE_AUDIENCE: aud of its access tokens (default Issuer)

	// CognitoIssuers are the user pools whose tokens the exchange takes
	// (SHORTFUSE_COGNITO_ISSUER, one or a comma list, each in Cognito's
	// original or multi-Region form) and each one's JWK Set
	// (SHORTFUSE_COGNITO_JWKS_URL, one per issuer, default derived).
	// CognitoIssuer and CognitoJWKSURL are the first of them.
	CognitoIssuers []tokenspec.Issuer
	CognitoIssuer  string
	CognitoJWKSURL string
	UserPoolID     string // SHORTFUSE_COGNITO_USER_POOL_ID (global sign-out)

	// Clients maps each allowed app client id to its access token lifetime
	// (SHORTFUSE_CLIENTS, "id" or "id:seconds"; default SHORTFUSE_ACCESS_TOKEN_TTL).
	Clients        map[string]time.Duration
	AccessTokenTTL time.Duration // SHORTFUSE_ACCESS_TOKEN_TTL

	// RefreshGrace is how long after a rotation the previous refresh token
	// is still accepted (SHORTFUSE_REFRESH_GRACE, 0 to 60 s, default
	// DefaultRefreshGrace; 0 turns the window off). ClientGrace holds the
	// per-client values set in SHORTFUSE_CLIENTS ("id:grace=N").
	RefreshGrace time.Duration
	ClientGrace  map[string]time.Duration

	SessionIdleTTL time.Duration // SHORTFUSE_SESSION_IDLE_TTL
	SessionMaxTTL  time.Duration // SHORTFUSE_SESSION_MAX_TTL

	SigningKey string // SHORTFUSE_SIGNING_KEY: keys.Load source
	SigningKID string // SHORTFUSE_SIGNING_KID: active key id

	// CognitoRecheck is how often, at most, a refresh re-reads the user's
	// state and groups from Cognito (SHORTFUSE_COGNITO_RECHECK; 0: never).
	CognitoRecheck time.Duration

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
	// RevocationLayout is where the revocation log is written
	// (SHORTFUSE_REVOCATION_REPLICAS, SHORTFUSE_REVOCATION_SHARDS); the
	// authorizers must read the same layout.
	RevocationLayout store.RevocationLayout
	MaxBodyBytes     int64         // SHORTFUSE_MAX_BODY_BYTES
	Scopes           []string      // SHORTFUSE_SCOPES
	Leeway           time.Duration // SHORTFUSE_LEEWAY

	// CORSOrigins are the browser origins allowed to call the service
	// (SHORTFUSE_CORS_ORIGINS, exact origins, see shared/cors).
	CORSOrigins []string

	// DPoP (RFC 9449). DPoP is the default policy (SHORTFUSE_DPOP:
	// required, allowed or off; default allowed) and ClientDPoP the
	// per-client ones set in SHORTFUSE_CLIENTS ("id:dpop=required").
	DPoP       string
	ClientDPoP map[string]string
	// DPoPMaxAge is how old a proof may be (SHORTFUSE_DPOP_MAX_AGE) and
	// DPoPReplayCapacity how many proofs a container remembers
	// (SHORTFUSE_DPOP_REPLAY_CACHE).
	DPoPMaxAge         time.Duration
	DPoPReplayCapacity int
	// DPoPNonceKey, when set, is a secret source (file:, env:, ssm:,
	// secretsmanager:) of the key of server nonces (SHORTFUSE_DPOP_NONCE_KEY):
	// proofs must then carry a nonce the service issued.
	DPoPNonceKey string
	// PublicBaseURL is the URL clients address the service at, which proofs
	// name in htu (SHORTFUSE_PUBLIC_BASE_URL, default the issuer).
	PublicBaseURL string
}

// DPoPFor is the DPoP policy of client id.
func (c *Config) DPoPFor(id string) string {
	if p, ok := c.ClientDPoP[id]; ok {
		return p
	}
	if c.DPoP == "" {
		return tokenspec.DPoPAllowed
	}
	return c.DPoP
}

// LoadConfig reads the configuration from env and reports every problem at
// once, each naming its variable.
func LoadConfig(env *config.Env) (Config, error) {
	var c Config
	c.Common = env.Common()
	c.Table = env.Table()
	c.RevocationLayout = store.RevocationLayoutFromEnv(env)
	c.Issuer = strings.TrimSuffix(requiredURL(env, "SHORTFUSE_ISSUER"), "/")
	c.Audience = env.String("SHORTFUSE_AUDIENCE", c.Issuer)
	c.CognitoIssuers = tokenspec.CognitoIssuers(env)
	if len(c.CognitoIssuers) > 0 {
		c.CognitoIssuer, c.CognitoJWKSURL = c.CognitoIssuers[0].URL, c.CognitoIssuers[0].JWKSURL
	}
	c.UserPoolID = env.String("SHORTFUSE_COGNITO_USER_POOL_ID", "")

	c.AccessTokenTTL = loadAccessTokenTTL(env)
	c.RefreshGrace = env.Duration("SHORTFUSE_REFRESH_GRACE", DefaultRefreshGrace, 0, tokenspec.MaxRefreshGrace)
	c.Clients = parseClients(env, "SHORTFUSE_CLIENTS", env.Required("SHORTFUSE_CLIENTS"), c.AccessTokenTTL)
	c.ClientGrace = clientGrace(env.String("SHORTFUSE_CLIENTS", ""))

	c.SessionIdleTTL = env.Duration("SHORTFUSE_SESSION_IDLE_TTL", 24*time.Hour, time.Minute, 90*24*time.Hour)
	c.SessionMaxTTL = env.Duration("SHORTFUSE_SESSION_MAX_TTL", 30*24*time.Hour, 5*time.Minute, 365*24*time.Hour)
	if c.SessionIdleTTL > c.SessionMaxTTL {
		env.Fail("SHORTFUSE_SESSION_IDLE_TTL", "%s is longer than SHORTFUSE_SESSION_MAX_TTL (%s)", c.SessionIdleTTL, c.SessionMaxTTL)
	}

	c.SigningKey = env.Required("SHORTFUSE_SIGNING_KEY")
	c.SigningKID = env.String("SHORTFUSE_SIGNING_KID", "")

	c.CognitoRecheck = env.Duration("SHORTFUSE_COGNITO_RECHECK", 0, 0, 24*time.Hour)
	if c.CognitoRecheck > 0 && c.CognitoRecheck < time.Minute {
		env.Fail("SHORTFUSE_COGNITO_RECHECK", "%s is shorter than a minute (0 turns the check off)", c.CognitoRecheck)
	}
	if c.CognitoRecheck > 0 && c.UserPoolID == "" {
		env.Fail("SHORTFUSE_COGNITO_RECHECK", "needs SHORTFUSE_COGNITO_USER_POOL_ID")
	}

	c.AdminGroup = env.String("SHORTFUSE_ADMIN_GROUP", "shortfuse-admin")
	c.Revocation = revoke.LoadPolicy(env)
	c.AdminGlobalSignOut = !c.Revocation.NoGlobalSignOut
	if c.AdminGlobalSignOut && c.UserPoolID == "" {
		env.Fail("SHORTFUSE_ADMIN_GLOBAL_SIGNOUT", "true (the default) needs SHORTFUSE_COGNITO_USER_POOL_ID; set it, or set SHORTFUSE_ADMIN_GLOBAL_SIGNOUT=false")
	}
	c.AllowIDTokenReuse = env.Bool("SHORTFUSE_ALLOW_ID_TOKEN_REUSE", false)
	c.MaxSessionsPerUser = env.Int("SHORTFUSE_MAX_SESSIONS_PER_USER", DefaultMaxSessionsPerUser, 1, 100)

	c.Leeway = loadLeeway(env)
	c.Revocation.AccessTokenTTL = c.LongestAccessTokenTTL()
	c.Revocation.Leeway = max(c.Leeway, revoke.DefaultLeeway)
	c.RevocationRetention = revoke.LoadRetention(env, c.Revocation)
	c.MaxBodyBytes = int64(env.Int("SHORTFUSE_MAX_BODY_BYTES", 8192, 1024, 1<<20))
	c.Scopes = env.List("SHORTFUSE_SCOPES", nil)
	for _, s := range c.Scopes {
		if !validScopeToken(s) {
			env.Fail("SHORTFUSE_SCOPES", "%q is not a valid scope", s)
		}
	}
	origins, err := cors.ParseOrigins(env.String("SHORTFUSE_CORS_ORIGINS", ""))
	if err != nil {
		env.Fail("SHORTFUSE_CORS_ORIGINS", "%v", err)
	}
	c.CORSOrigins = origins

	c.DPoP = env.OneOf("SHORTFUSE_DPOP", tokenspec.DPoPAllowed, tokenspec.DPoPRequired, tokenspec.DPoPAllowed, tokenspec.DPoPOff)
	c.ClientDPoP = clientDPoP(env.String("SHORTFUSE_CLIENTS", ""))
	c.DPoPMaxAge = env.Duration("SHORTFUSE_DPOP_MAX_AGE", dpop.DefaultMaxAge, 5*time.Second, 10*time.Minute)
	c.DPoPReplayCapacity = env.Int("SHORTFUSE_DPOP_REPLAY_CACHE", dpop.DefaultReplayCapacity, 1000, 10_000_000)
	c.DPoPNonceKey = env.String("SHORTFUSE_DPOP_NONCE_KEY", "")
	c.PublicBaseURL = strings.TrimSuffix(env.URL("SHORTFUSE_PUBLIC_BASE_URL", c.Issuer), "/")
	if c.PublicBaseURL != "" {
		if _, err := dpop.NormalizeURL(c.PublicBaseURL); err != nil || strings.ContainsAny(c.PublicBaseURL, "?#") {
			env.Fail("SHORTFUSE_PUBLIC_BASE_URL", "not an absolute http(s) URL without query or fragment")
		}
	}
	return c, env.Err()
}

// DefaultMaxSessionsPerUser is the per-user session cap, as Cognito's.
const DefaultMaxSessionsPerUser = 20

// DefaultRefreshGrace covers a refresh answer lost on a mobile network and
// retried after a typical 10 to 20 s client timeout, and tabs that refresh
// together; it is Okta's default and half of Cognito's maximum.
const DefaultRefreshGrace = 30 * time.Second

// GraceFor is the refresh grace window of client id.
func (c *Config) GraceFor(id string) time.Duration {
	if g, ok := c.ClientGrace[id]; ok {
		return g
	}
	return c.RefreshGrace
}

// loadAccessTokenTTL and loadLeeway read settings the token service shares
// with LoadRevocationPolicy.
func loadAccessTokenTTL(env *config.Env) time.Duration {
	return env.Duration("SHORTFUSE_ACCESS_TOKEN_TTL", 300*time.Second, MinAccessTokenTTL, MaxAccessTokenTTL)
}

func loadLeeway(env *config.Env) time.Duration {
	return env.Duration("SHORTFUSE_LEEWAY", 5*time.Second, time.Second, 5*time.Minute)
}

// LoadRevocationPolicy reads, with the token service's rules, what decides
// how long a revocation lasts, for the writers other than the service (the
// admin CLI): revoke.LoadPolicy's variables, the longest access token
// lifetime (SHORTFUSE_ACCESS_TOKEN_TTL and SHORTFUSE_CLIENTS), SHORTFUSE_LEEWAY
// and SHORTFUSE_REVOCATION_RETENTION (revoke.LoadRetention). Without
// SHORTFUSE_CLIENTS it assumes the longest lifetime the service allows, so
// its entries never end before the service's would.
func LoadRevocationPolicy(env *config.Env) (revoke.Policy, time.Duration, error) {
	p := revoke.LoadPolicy(env)
	c := Config{AccessTokenTTL: MaxAccessTokenTTL}
	if v := env.String("SHORTFUSE_CLIENTS", ""); v != "" {
		c.AccessTokenTTL = loadAccessTokenTTL(env)
		c.Clients = parseClients(env, "SHORTFUSE_CLIENTS", v, c.AccessTokenTTL)
	}
	p.AccessTokenTTL = c.LongestAccessTokenTTL()
	p.Leeway = max(loadLeeway(env), revoke.DefaultLeeway)
	retention := revoke.LoadRetention(env, p)
	return p, retention, env.Err()
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

// checkSecureURL applies tokenspec's https rule to a URL keys are fetched
// from, or derived from.
func checkSecureURL(env *config.Env, name, v string) {
	if v == "" {
		return
	}
	if err := tokenspec.CheckKeyURL(v); err != nil {
		env.Fail(name, "%q: %v", v, err)
	}
}

// clientGrace returns the per-client grace windows of a client list that
// parseClients has checked (and reported on).
func clientGrace(v string) map[string]time.Duration {
	list, err := tokenspec.ParseClients(v)
	if err != nil {
		return nil
	}
	out := map[string]time.Duration{}
	for _, c := range list {
		if c.HasGrace {
			out[c.ID] = c.Grace
		}
	}
	return out
}

// clientDPoP returns the per-client DPoP policies; parse errors are
// reported by parseClients.
func clientDPoP(v string) map[string]string {
	list, err := tokenspec.ParseClients(v)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, c := range list {
		if c.DPoP != "" {
			out[c.ID] = c.DPoP
		}
	}
	return out
}

func parseClients(env *config.Env, name, v string, def time.Duration) map[string]time.Duration {
	list, err := tokenspec.ParseClients(v)
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
