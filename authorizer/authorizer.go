package authorizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/shortfuse/shortfuse/shared/dpop"
	"github.com/shortfuse/shortfuse/shared/forwarded"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/revset"
)

// Effect is the outcome of a decision.
type Effect uint8

// Effects. The zero value refuses.
const (
	// Unauthorized: no usable credential (missing, malformed, invalid,
	// expired or revoked token). API Gateway answers 401.
	Unauthorized Effect = iota
	// Deny: a valid token that may not call this route. API Gateway
	// answers 403.
	Deny
	// Allow: the request proceeds.
	Allow
	// Unavailable: the authorizer cannot decide safely (revocation state
	// stale, signing keys unreachable). The request is refused with a
	// function error, which API Gateway answers with 500 and never caches.
	Unavailable
)

func (e Effect) String() string {
	switch e {
	case Unauthorized:
		return "unauthorized"
	case Deny:
		return "deny"
	case Allow:
		return "allow"
	case Unavailable:
		return "unavailable"
	}
	return "unknown"
}

// Verifier verifies a token's signature and claims; *jwtverify.Verifier
// implements it.
type Verifier interface {
	Verify(ctx context.Context, token string) (*jwtverify.Claims, error)
}

// RevocationChecker reports whether a token is revoked; *revset.Set
// implements it. Errors wrap revset.ErrRevoked or revset.ErrStale.
type RevocationChecker interface {
	Check(ctx context.Context, t revset.Token) error
}

// Options configure an Authorizer.
type Options struct {
	Verifier    Verifier          // required
	Revocations RevocationChecker // required
	Routes      *Routes           // required
	// CacheSize bounds the verified-token cache (entries); 0 disables it.
	CacheSize int
	// MaxAge, when positive, also ends a cached token's validity at
	// iat + MaxAge (direct mode).
	MaxAge time.Duration
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // refusals are logged here; default: discard
	// Metrics counts decisions by outcome (EMF); nil counts nothing.
	Metrics *obs.Counter
	// DPoP checks the proofs of DPoP-bound tokens (cnf.jkt); nil refuses
	// every bound token.
	DPoP *dpop.Verifier
	// PublicBaseURL, when set, is the URL clients address the API at
	// (scheme, host and any base path), for the proofs' htu.
	PublicBaseURL string
	// GatewayCaches says API Gateway caches this authorizer's answers: a
	// cached answer would serve a bound token without its proof, so bound
	// tokens are refused.
	GatewayCaches bool
}

// Authorizer decides whether a bearer token may call a route. It is safe for
// concurrent use. Decide is pure apart from the token cache and the
// revocation set's own refreshes; the adapters in shapes.go turn decisions
// into API Gateway responses.
type Authorizer struct {
	verifier Verifier
	revoked  RevocationChecker
	routes   *Routes
	cache    *tokenCache
	policies policyCache
	maxAge   time.Duration
	now      func() time.Time
	log      *slog.Logger
	metrics  *obs.Counter
	closers  []func()

	dpop          *dpop.Verifier
	publicBase    string
	gatewayCaches bool
}

// New returns an Authorizer.
func New(o Options) (*Authorizer, error) {
	switch {
	case o.Verifier == nil:
		return nil, errors.New("authorizer: Options.Verifier is required")
	case o.Revocations == nil:
		return nil, errors.New("authorizer: Options.Revocations is required")
	case o.Routes == nil:
		return nil, errors.New("authorizer: Options.Routes is required")
	case o.CacheSize < 0:
		return nil, errors.New("authorizer: Options.CacheSize must not be negative")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var base string
	if o.PublicBaseURL != "" {
		b, err := validPublicBase(o.PublicBaseURL)
		if err != nil {
			return nil, fmt.Errorf("authorizer: Options.PublicBaseURL: %w", err)
		}
		base = b
	}
	return &Authorizer{
		dpop:          o.DPoP,
		publicBase:    base,
		gatewayCaches: o.GatewayCaches,
		verifier:      o.Verifier,
		revoked:       o.Revocations,
		routes:        o.Routes,
		cache:         newTokenCache(o.CacheSize),
		maxAge:        o.MaxAge,
		now:           o.Now,
		log:           o.Logger,
		metrics:       o.Metrics,
	}, nil
}

// Close releases what Open started (the revocation poller).
func (a *Authorizer) Close() {
	for _, f := range a.closers {
		f()
	}
	a.closers = nil
}

// Reasons for refusals that do not come from a collaborator.
var (
	ErrNoCredential = errors.New("authorizer: no bearer token")
	ErrRoute        = errors.New("authorizer: route not allowed for this token")
	errNoSubject    = errors.New("authorizer: token has no subject")
)

// Decision is the outcome of Decide.
type Decision struct {
	Effect Effect
	// Reason says why the request was refused; nil on Allow. It wraps a
	// jwtverify.Err*, revset.ErrRevoked, revset.ErrStale, ErrNoCredential
	// or ErrRoute.
	Reason error

	g  *grant // nil when no token was verified
	ok mask   // the routes the token may call now, step-up rules applied
}

// Subject returns the token's sub, or "" when no token was verified.
func (d Decision) Subject() string {
	if d.g == nil {
		return ""
	}
	return d.g.sub
}

// grant is what a verified token may do, computed once per token and kept
// in the cache: the revocation keys, the per-route answers and, in memo, the
// response last built from them.
type grant struct {
	sub, username, sid, scope string
	groups                    []string
	rev                       revset.Token
	jkt                       string    // cnf.jkt: the key the token is bound to, or ""
	acr                       string    // of the sign-in, for step-up rules
	amr                       []string  // of the sign-in, for step-up rules
	authTime                  time.Time // of the sign-in, for step-up rules
	until                     time.Time // the cached grant is usable before this
	ok                        mask      // per route of the table: may this token call it
	memo                      atomic.Pointer[memo]
}

type memo struct {
	key  string // what the response depends on besides the token (the ARN prefix)
	ok   mask   // and the routes allowed at the time (step-up rules)
	resp any
}

func (a *Authorizer) newGrant(c *jwtverify.Claims) *grant {
	g := &grant{
		sub:      c.Subject,
		username: c.Username,
		sid:      c.SessionID,
		scope:    c.Scope,
		groups:   c.Groups,
		rev: revset.Token{
			Subject:   c.Subject,
			SessionID: c.SessionID,
			JTI:       c.JTI,
			OriginJTI: c.OriginJTI,
			AuthTime:  c.AuthTime,
		},
		jkt:      c.JKT,
		acr:      c.ACR,
		amr:      c.AMR,
		authTime: c.AuthTime,
		until:    c.ExpiresAt,
		ok:       a.routes.satisfied(c.Groups, c.Scope),
	}
	if a.maxAge > 0 && !c.IssuedAt.IsZero() {
		if t := c.IssuedAt.Add(a.maxAge); t.Before(g.until) {
			g.until = t
		}
	}
	// A fetched key set is refetched once it is this old; re-verifying no
	// later than that makes a key dropped from the set stop working in
	// cached tokens too, not only in new ones.
	if t := a.now().Add(cacheReverify); t.Before(g.until) {
		g.until = t
	}
	return g
}

// cacheReverify bounds how long a verified token is served from the cache
// before it is verified again.
const cacheReverify = jwtverify.DefaultMaxAge

// Decide decides for a Bearer token alone, as the rest-token shape does: a
// DPoP-bound token is refused.
func (a *Authorizer) Decide(ctx context.Context, token string, arn MethodARN) Decision {
	return a.DecideRequest(ctx, &Request{Token: token}, arn)
}

// DecideRequest verifies the request's token (or finds it in the cache),
// enforces its DPoP binding, checks it against the revocation set and checks
// the route table for arn. The binding, revocation and route policy are
// checked on every call, cached or not.
func (a *Authorizer) DecideRequest(ctx context.Context, r *Request, arn MethodARN) Decision {
	token := r.Token
	if token == "" {
		return Decision{Effect: Unauthorized, Reason: ErrNoCredential}
	}
	g := a.cache.get(token)
	if g != nil && !a.now().Before(g.until) {
		a.cache.remove(token)
		g = nil
	}
	if g == nil {
		c, err := a.verifier.Verify(ctx, token)
		if err != nil {
			if errors.Is(err, jwtverify.ErrKeysUnavailable) {
				return Decision{Effect: Unavailable, Reason: err}
			}
			return Decision{Effect: Unauthorized, Reason: err}
		}
		if c.Subject == "" {
			return Decision{Effect: Unauthorized, Reason: errNoSubject}
		}
		g = a.newGrant(c)
		if a.now().Before(g.until) {
			a.cache.put(token, g)
		}
	}
	if err := a.checkBinding(g, r); err != nil {
		return Decision{Effect: Unauthorized, Reason: err, g: g}
	}
	if err := a.revoked.Check(ctx, g.rev); err != nil {
		if errors.Is(err, revset.ErrRevoked) {
			return Decision{Effect: Unauthorized, Reason: err, g: g}
		}
		return Decision{Effect: Unavailable, Reason: err, g: g}
	}
	// Step-up rules depend on the time, so they are applied per request
	// to the grant's cached answers.
	ok, stepUp := a.routes.stepUpMask(g.ok, g, a.now(), arn.Resource)
	switch {
	case !a.routes.allows(g.ok, arn.Resource):
		return Decision{Effect: Deny, Reason: ErrRoute, g: g, ok: ok}
	case stepUp != nil:
		return Decision{Effect: Deny, Reason: stepUp, g: g, ok: ok}
	case !a.routes.allows(ok, arn.Resource):
		return Decision{Effect: Deny, Reason: ErrRoute, g: g, ok: ok}
	}
	return Decision{Effect: Allow, g: g, ok: ok}
}

// record counts a decision by outcome and logs it.
func (a *Authorizer) record(ctx context.Context, d Decision, r *Request, arn MethodARN) {
	a.metrics.Count("Decisions", "Outcome", d.outcome())
	a.logDecision(ctx, d, r, arn)
}

// outcome names the decision for metrics: a revoked token is told apart
// from other unauthorized ones, since a rise in revocations is news.
func (d Decision) outcome() string {
	if d.Effect == Unauthorized && errors.Is(d.Reason, revset.ErrRevoked) {
		return "revoked"
	}
	return d.Effect.String()
}

// logDecision records a refusal (and, at debug level, an allow). The token
// itself is never logged, only its hash.
func (a *Authorizer) logDecision(ctx context.Context, d Decision, r *Request, arn MethodARN) {
	token := r.Token
	if d.Effect == Allow {
		if a.log.Enabled(ctx, slog.LevelDebug) {
			a.log.LogAttrs(ctx, slog.LevelDebug, "allow", slog.String("sub", d.g.sub), slog.String("route", arn.Resource), slog.String("request_id", r.RequestID))
		}
		return
	}
	attrs := []slog.Attr{
		slog.String("decision", d.Effect.String()),
		slog.String("route", arn.Resource),
	}
	if d.Reason != nil {
		attrs = append(attrs, slog.String("reason", d.Reason.Error()))
	}
	if r.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", r.RequestID))
	}
	if token != "" {
		attrs = append(attrs, slog.String("token", obs.TokenID(token)))
	}
	if c := a.Challenge(d, r); c != "" {
		attrs = append(attrs, slog.String("challenge", c))
	}
	if d.g != nil {
		attrs = append(attrs, slog.String("sub", d.g.sub), slog.String("jti", d.g.rev.JTI))
	}
	level := slog.LevelInfo
	if d.Effect == Unavailable {
		level = slog.LevelError
	}
	a.log.LogAttrs(ctx, level, "refused", attrs...)
}

// restContext is the context map for REST and payload 1.0 responses:
// strings only, groups comma-separated. Every value is forwardable (see
// ForwardedKeys): never empty, NoValue for none, percent-encoded where it
// holds '%', ',' or bytes outside printable ASCII.
func (g *grant) restContext() map[string]any {
	groups := forwarded.Groups(g.groups)
	return map[string]any{
		"sub":      forwarded.Value(g.sub),
		"username": forwarded.Value(g.username),
		"sid":      forwarded.Value(g.sid),
		"groups":   groups,
		// the same string under the name every shape uses for it
		"groupsHeader": groups,
		"scope":        forwarded.Scope(g.scope),
	}
}

// httpContext is the context map for HTTP API payload 2.0 simple responses,
// which may hold arrays: groups is the list as the token has it, and
// groupsHeader its forwardable string form, as in restContext.
func (g *grant) httpContext() map[string]any {
	groups := g.groups
	if groups == nil {
		groups = []string{}
	}
	return map[string]any{
		"sub":          forwarded.Value(g.sub),
		"username":     forwarded.Value(g.username),
		"sid":          forwarded.Value(g.sid),
		"groups":       groups,
		"groupsHeader": forwarded.Groups(g.groups),
		"scope":        forwarded.Scope(g.scope),
	}
}

// Stats describe an Authorizer for logs, tests and benchmarks.
type Stats struct {
	CachedTokens int
	// Revocations are the revocation set's counters when the checker is a
	// *revset.Set (zero otherwise).
	Revocations revset.Stats
}

// Stats returns current counters.
func (a *Authorizer) Stats() Stats {
	s := Stats{CachedTokens: a.cache.len()}
	if set, ok := a.revoked.(*revset.Set); ok {
		s.Revocations = set.Stats()
	}
	return s
}
