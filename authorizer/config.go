package authorizer

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/dpop"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/revset"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// Modes.
const (
	// ModeExchange accepts only the token service's at+jwt access tokens.
	ModeExchange = "exchange"
	// ModeDirect accepts only Cognito tokens younger than a maximum age: ID
	// tokens, access tokens or both (SHORTFUSE_DIRECT_TOKEN_USE).
	ModeDirect = "direct"
)

// Defaults for Config.
const (
	DefaultDirectMaxAge   = 60 * time.Second
	DefaultTokenCacheSize = 4096
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat: the
	// token service's default too, so both judge a token's age alike.
	DefaultLeeway = tokenspec.DefaultLeeway
)

// Config is the authorizer's configuration, read once at init.
type Config struct {
	Mode  string // ModeExchange | ModeDirect
	Shape Shape

	// Exchange mode: the token service's issuer and audience. In direct
	// mode Issuer is the Cognito pool issuer and Audiences its app clients.
	Issuer    string
	Audiences []string
	// ClientIDs restricts client_id in exchange mode (optional).
	ClientIDs []string
	JWKS      []byte // inline JWK Set, or
	JWKSURL   string // a URL fetched and cached
	MaxAge    time.Duration
	// TokenUses are the Cognito token kinds direct mode accepts
	// (SHORTFUSE_DIRECT_TOKEN_USE: "id", "access" or both; default "id").
	// Audiences are then the app clients: aud of ID tokens, client_id of
	// access tokens.
	TokenUses []string
	// CognitoIssuers are direct mode's user pools (SHORTFUSE_COGNITO_ISSUER,
	// one or a comma list) and each one's JWK Set
	// (SHORTFUSE_COGNITO_JWKS_URL); Issuer and JWKSURL are the first.
	// Empty: Issuer and JWKSURL alone.
	CognitoIssuers []tokenspec.Issuer
	// Leeway is the clock skew allowed on exp, nbf, iat and auth_time
	// (SHORTFUSE_LEEWAY).
	Leeway time.Duration

	// Revocation log: see package revset and docs/scale.md.
	Poll, Grace, Overlap time.Duration
	InitWait             time.Duration
	Strict, Consistent   bool
	Layout               store.RevocationLayout
	// Lookback is how far back the initial load reads the revocation log
	// (zero: all of it). In direct mode it covers the longest a writer
	// keeps an entry live.
	Lookback time.Duration

	Routes         *Routes
	TokenCacheSize int

	// DPoP: proof age and replay cache size, and the URL clients address
	// the API at when API Gateway does not see it (custom domain, CDN).
	DPoPMaxAge         time.Duration
	DPoPReplayCapacity int
	PublicBaseURL      string
	// GatewayCacheTTL is API Gateway's authorizer result TTL, declared so
	// that DPoP-bound tokens are refused while answers are cached.
	GatewayCacheTTL time.Duration

	Table  string        // SHORTFUSE_TABLE
	Common config.Common // the settings every function shares (log level, region, endpoints)
}

// LoadConfig reads the SHORTFUSE_* variables. Every problem is reported,
// each naming its variable.
func LoadConfig(env *config.Env) (Config, error) {
	var c Config
	c.Mode = env.OneOf("SHORTFUSE_AUTHORIZER_MODE", ModeExchange, ModeExchange, ModeDirect)
	shapes := make([]string, len(Shapes))
	for i, s := range Shapes {
		shapes[i] = string(s)
	}
	c.Shape = Shape(env.OneOf("SHORTFUSE_AUTHORIZER_SHAPE", string(ShapeRESTToken), shapes...))

	switch c.Mode {
	case ModeExchange:
		// The token service's keys: inline, or fetched from its JWKS URL.
		jwks := env.String("SHORTFUSE_JWKS", "")
		c.JWKSURL = keyURL(env, "SHORTFUSE_JWKS_URL", "")
		c.Issuer = env.Required("SHORTFUSE_ISSUER")
		c.Audiences = env.List("SHORTFUSE_AUDIENCE", nil)
		if len(c.Audiences) == 0 {
			env.Fail("SHORTFUSE_AUDIENCE", "required in exchange mode (the token service's aud)")
		}
		c.ClientIDs, _ = clientIDs(env)
		switch {
		case jwks == "" && c.JWKSURL == "":
			env.Fail("SHORTFUSE_JWKS", "set SHORTFUSE_JWKS (inline JWK Set) or SHORTFUSE_JWKS_URL in exchange mode")
		case jwks != "" && c.JWKSURL != "":
			env.Fail("SHORTFUSE_JWKS", "set either SHORTFUSE_JWKS or SHORTFUSE_JWKS_URL, not both")
		case jwks != "":
			c.JWKS = []byte(jwks)
			if _, err := jwtverify.NewStaticJWKS(c.JWKS); err != nil {
				env.Fail("SHORTFUSE_JWKS", "%v", err)
			}
		}
	case ModeDirect:
		// Cognito's keys. SHORTFUSE_JWKS and SHORTFUSE_JWKS_URL name the
		// token service's and are not read, so one environment serves
		// both modes.
		// One pool or several (a comma list), each with its own key set.
		c.CognitoIssuers = tokenspec.CognitoIssuers(env)
		if len(c.CognitoIssuers) > 0 {
			c.Issuer, c.JWKSURL = c.CognitoIssuers[0].URL, c.CognitoIssuers[0].JWKSURL
		}
		var ok bool
		c.Audiences, ok = clientIDs(env)
		if ok && len(c.Audiences) == 0 {
			env.Fail("SHORTFUSE_CLIENTS", "required in direct mode (the app client ids ID tokens are issued to)")
		}
		c.MaxAge = env.Duration("SHORTFUSE_DIRECT_MAX_AGE", DefaultDirectMaxAge, time.Second, time.Hour)
		c.TokenUses = directTokenUses(env)
	}

	c.Leeway = env.Duration("SHORTFUSE_LEEWAY", DefaultLeeway, time.Second, 5*time.Minute)
	c.Poll = env.Duration("SHORTFUSE_REVOCATION_POLL", revset.DefaultPoll, 100*time.Millisecond, time.Minute)
	c.Grace = env.Duration("SHORTFUSE_REVOCATION_GRACE", revset.DefaultGrace, 0, time.Hour)
	if c.Grace < c.Poll {
		env.Fail("SHORTFUSE_REVOCATION_GRACE", "%s is shorter than SHORTFUSE_REVOCATION_POLL (%s)", c.Grace, c.Poll)
	}
	c.Strict = env.Bool("SHORTFUSE_REVOCATION_STRICT", false)
	c.Lookback = revocationLookback(env, c)
	c.Overlap = env.Duration("SHORTFUSE_REVOCATION_OVERLAP", revset.DefaultOverlap, 100*time.Millisecond, time.Minute)
	c.Consistent = env.Bool("SHORTFUSE_REVOCATION_CONSISTENT", false)
	// Lambda gives a function's init phase 10 s; the rest of init needs a
	// little of it.
	c.InitWait = env.Duration("SHORTFUSE_REVOCATION_INIT_WAIT", revset.DefaultInitWait, 100*time.Millisecond, 9*time.Second)
	c.Layout = store.RevocationLayoutFromEnv(env)

	if src := env.Required("SHORTFUSE_ROUTES"); src != "" {
		data := []byte(src)
		if path, ok := strings.CutPrefix(src, "file:"); ok {
			b, err := os.ReadFile(path)
			if err != nil {
				env.Fail("SHORTFUSE_ROUTES", "%v", err)
			}
			data = b
		}
		if data != nil {
			r, err := ParseRoutes(data)
			if err != nil {
				env.Fail("SHORTFUSE_ROUTES", "%v", err)
			}
			c.Routes = r
		}
	}
	c.TokenCacheSize = env.Int("SHORTFUSE_TOKEN_CACHE_SIZE", DefaultTokenCacheSize, 0, 1_000_000)
	c.DPoPMaxAge = env.Duration("SHORTFUSE_DPOP_MAX_AGE", dpop.DefaultMaxAge, 5*time.Second, 10*time.Minute)
	c.DPoPReplayCapacity = env.Int("SHORTFUSE_DPOP_REPLAY_CACHE", dpop.DefaultReplayCapacity, 1000, 10_000_000)
	c.GatewayCacheTTL = env.Duration("SHORTFUSE_GATEWAY_CACHE_TTL", 0, 0, time.Hour)
	if base := env.URL("SHORTFUSE_PUBLIC_BASE_URL", ""); base != "" {
		if _, err := validPublicBase(base); err != nil {
			env.Fail("SHORTFUSE_PUBLIC_BASE_URL", "%v", err)
		}
		c.PublicBaseURL = base
	}
	c.Common = env.Common()
	c.Table = env.Table()
	if err := env.Err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// DefaultRefreshTokenValidity is Cognito's default refresh token validity.
const DefaultRefreshTokenValidity = 30 * 24 * time.Hour

// revocationLookback reads SHORTFUSE_REVOCATION_RETENTION, the longest a
// revocation log entry may live (0 or unset: derived). In direct mode a
// revoked login family, and a user revoked without a Cognito global
// sign-out, must be remembered for as long as Cognito can mint an ID token
// of theirs (the refresh token validity, SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY)
// and that token is young enough to be accepted (SHORTFUSE_DIRECT_MAX_AGE),
// plus the verifiers' leeway (SHORTFUSE_LEEWAY, at least 30 s): the same
// bound the writers use
// (revoke.Policy.MaxEntryLifetime). A shorter retention would let this
// authorizer forget a revocation that still matters, so it is refused.
func revocationLookback(env *config.Env, c Config) time.Duration {
	retention := env.Duration("SHORTFUSE_REVOCATION_RETENTION", 0, 0, 3660*24*time.Hour)
	if c.Mode != ModeDirect {
		return retention
	}
	validity := env.Duration("SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY", DefaultRefreshTokenValidity, time.Hour, 3650*24*time.Hour)
	// Writers add at least 30 s of leeway (revoke.DefaultLeeway).
	leeway := max(c.Leeway, 30*time.Second)
	need := validity + c.MaxAge + leeway
	if retention == 0 {
		return need
	}
	if retention < need {
		env.Fail("SHORTFUSE_REVOCATION_RETENTION", "%s is shorter than direct mode must remember a revoked login (%s: SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY %s + SHORTFUSE_DIRECT_MAX_AGE %s + leeway %s); raise it or leave it unset",
			retention, need, validity, c.MaxAge, leeway)
	}
	return retention
}

// Deps are the collaborators Open would otherwise build itself.
type Deps struct {
	// DynamoDB is the client for the revocation log; nil builds one from
	// Config.Common (awsx.ForFunction).
	DynamoDB *dynamodb.Client
	// Revocations replaces the revocation log (tests).
	Revocations RevocationChecker
	// HTTPClient fetches the JWK Set; nil uses jwtverify's default.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Metrics counts decisions (EMF); nil counts nothing.
	Metrics *obs.Counter
	Now     func() time.Time
	// NoPrefetch leaves the JWK Set to be fetched on first use instead of
	// at init (the local stack starts the token service after its
	// functions).
	NoPrefetch bool
}

// Open builds an Authorizer from cfg: the verifier for the mode, the
// revocation set (loaded now, polled afterwards) and the route table. A
// revocation log or JWK Set that cannot be read yet is logged, not fatal:
// the authorizer refuses every request until it can, so a function that
// starts during an outage recovers by itself.
func Open(ctx context.Context, cfg Config, deps Deps) (*Authorizer, error) {
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	v, err := openVerifier(ctx, cfg, deps, log)
	if err != nil {
		return nil, err
	}
	var closers []func()
	rev := deps.Revocations
	if rev == nil {
		set, err := openRevocationLog(ctx, cfg, deps, log)
		if err != nil {
			return nil, err
		}
		closers = append(closers, set.Close)
		rev = set
	}
	pv, err := dpop.New(dpop.Config{MaxAge: cfg.DPoPMaxAge, ReplayCapacity: cfg.DPoPReplayCapacity, Now: deps.Now})
	if err != nil {
		return nil, fmt.Errorf("authorizer: %w", err)
	}
	a, err := New(Options{
		DPoP:          pv,
		PublicBaseURL: cfg.PublicBaseURL,
		GatewayCaches: cfg.GatewayCacheTTL > 0,
		Verifier:      v,
		Revocations:   rev,
		Routes:        cfg.Routes,
		CacheSize:     cfg.TokenCacheSize,
		MaxAge:        cfg.MaxAge,
		Now:           deps.Now,
		Logger:        log,
		Metrics:       deps.Metrics,
	})
	if err != nil {
		for _, f := range closers {
			f()
		}
		return nil, err
	}
	a.closers = closers
	return a, nil
}

// openVerifier builds the verifier of the token kinds cfg accepts, each
// issuer with its own key set (an inline JWK Set serves one issuer only).
func openVerifier(ctx context.Context, cfg Config, deps Deps, log *slog.Logger) (jwtverify.TokenVerifier, error) {
	specs, err := cfg.Specs()
	if err != nil {
		return nil, fmt.Errorf("authorizer: %w", err)
	}
	if n := issuerCount(specs); cfg.JWKS != nil && n > 1 {
		// One key set must never verify tokens naming different issuers.
		return nil, fmt.Errorf("authorizer: an inline JWK Set serves one issuer, not %d", n)
	}
	remote := jwtverify.RemoteKeys(jwtverify.RemoteOptions{HTTPClient: deps.HTTPClient, Now: deps.Now})
	keys := func(is tokenspec.Issuer) (jwtverify.KeySource, error) {
		if cfg.JWKS != nil {
			k, err := jwtverify.NewStaticJWKS(cfg.JWKS)
			if err != nil {
				return nil, fmt.Errorf("SHORTFUSE_JWKS: %w", err)
			}
			return k, nil
		}
		k, err := remote(is)
		if err != nil {
			return nil, err
		}
		if r, ok := k.(*jwtverify.RemoteJWKS); ok && !deps.NoPrefetch {
			if err := r.Prefetch(ctx); err != nil {
				log.Warn("JWK Set not fetched at init; will retry on demand", "url", is.JWKSURL, "error", err.Error())
			}
		}
		return k, nil
	}
	v, err := jwtverify.NewFromSpecs(keys, deps.Now, specs...)
	if err != nil {
		return nil, fmt.Errorf("authorizer: %w", err)
	}
	return v, nil
}

// openRevocationLog starts the revocation log reader on the table; a
// failed first load is logged and the set keeps loading, refusing every
// request until it has.
func openRevocationLog(ctx context.Context, cfg Config, deps Deps, log *slog.Logger) (*revset.Set, error) {
	db := deps.DynamoDB
	if db == nil {
		awsCfg, err := awsx.ForFunction(ctx, cfg.Common)
		if err != nil {
			return nil, fmt.Errorf("authorizer: %w", err)
		}
		db = dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
			if ep := awsx.BaseEndpoint(cfg.Common.DynamoDBEndpoint); ep != nil {
				o.BaseEndpoint = ep
			}
		})
	}
	layout := cfg.Layout
	if layout == (store.RevocationLayout{}) {
		layout = store.DefaultRevocationLayout()
	}
	set := revset.New(store.New(db, cfg.Table, store.WithRevocationLayout(layout)), revset.Options{
		Poll:       cfg.Poll,
		Grace:      cfg.Grace,
		Overlap:    cfg.Overlap,
		Consistent: cfg.Consistent,
		InitWait:   cfg.InitWait,
		Strict:     cfg.Strict,
		Lookback:   cfg.Lookback,
		Now:        deps.Now,
		Logger:     log,
	})
	if err := set.Start(ctx); err != nil {
		log.Error("revocation log not loaded at init; loading in the background and refusing every request until it is", "error", err.Error())
	}
	return set, nil
}

// Specs are the token kinds the configuration accepts: the token service's
// access tokens in exchange mode, Cognito ID tokens in direct mode.
func (c Config) Specs() ([]tokenspec.Spec, error) {
	switch c.Mode {
	case ModeExchange:
		return []tokenspec.Spec{tokenspec.ServiceAccessToken(tokenspec.Issuer{URL: c.Issuer, JWKSURL: c.JWKSURL},
			c.Audiences, c.ClientIDs, c.Leeway)}, nil
	case ModeDirect:
		issuers := c.CognitoIssuers
		if len(issuers) == 0 {
			issuers = []tokenspec.Issuer{{URL: c.Issuer, JWKSURL: c.JWKSURL}}
		}
		uses := c.TokenUses
		if len(uses) == 0 {
			uses = []string{tokenspec.TokenUseID}
		}
		var specs []tokenspec.Spec
		for _, u := range uses {
			switch u {
			case tokenspec.TokenUseID:
				specs = append(specs, tokenspec.CognitoIDToken(issuers, c.Audiences, c.MaxAge, c.Leeway))
			case tokenspec.TokenUseAccess:
				specs = append(specs, tokenspec.CognitoAccessToken(issuers, c.Audiences, c.MaxAge, c.Leeway))
			default:
				return nil, fmt.Errorf("unknown token use %q", u)
			}
		}
		return specs, nil
	default:
		return nil, fmt.Errorf("unknown mode %q", c.Mode)
	}
}

// issuerCount is the number of distinct issuers of specs.
func issuerCount(specs []tokenspec.Spec) int {
	seen := map[string]bool{}
	for _, s := range specs {
		for _, is := range s.Issuers {
			seen[is.URL] = true
		}
	}
	return len(seen)
}

// directTokenUses reads SHORTFUSE_DIRECT_TOKEN_USE: "id" (the default),
// "access", or "id,access".
func directTokenUses(env *config.Env) []string {
	uses := env.List("SHORTFUSE_DIRECT_TOKEN_USE", []string{tokenspec.TokenUseID})
	seen := map[string]bool{}
	for _, u := range uses {
		if u != tokenspec.TokenUseID && u != tokenspec.TokenUseAccess || seen[u] {
			env.Fail("SHORTFUSE_DIRECT_TOKEN_USE", "%q: want id, access or id,access", strings.Join(uses, ","))
			return nil
		}
		seen[u] = true
	}
	if len(uses) == 0 {
		env.Fail("SHORTFUSE_DIRECT_TOKEN_USE", "empty: want id, access or id,access")
	}
	return uses
}

// keyURL reads a URL keys are fetched from, or one they are derived from,
// under tokenspec's https rule.
func keyURL(env *config.Env, name, def string) string {
	v := env.URL(name, def)
	if v != "" {
		if err := tokenspec.CheckKeyURL(v); err != nil {
			env.Fail(name, "%q: %v", v, err)
		}
	}
	return v
}

// clientIDs reads SHORTFUSE_CLIENTS with the token service's syntax; the
// authorizer needs only the ids, not their per-client settings. ok is false
// when the value was refused (the error is recorded), so that a bad value is
// reported once, not also as a missing one.
func clientIDs(env *config.Env) (ids []string, ok bool) {
	list, err := tokenspec.ParseClients(env.String("SHORTFUSE_CLIENTS", ""))
	if err != nil {
		env.Fail("SHORTFUSE_CLIENTS", "%v", err)
		return nil, false
	}
	return tokenspec.ClientIDs(list), true
}
