package tokensvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/shared/cors"
	"github.com/shortfuse/shortfuse/shared/dpop"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/revoke"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// Storage is everything the service keeps in the store; *store.Store
// satisfies it. The service hands each grant handler only its own part,
// declared next to the code that uses it (ExchangeStorage, RefreshStorage,
// SessionStorage), and the revoker the revocation path's.
type Storage interface {
	ExchangeStorage
	RefreshStorage
	SessionStorage
	revoke.Store
}

var (
	_ Storage         = (*store.Store)(nil)
	_ ExchangeStorage = (*store.Store)(nil)
	_ RefreshStorage  = (*store.Store)(nil)
	_ SessionStorage  = (*store.Store)(nil)
)

// tokenVerifier verifies a compact JWS; *jwtverify.Verifier satisfies it.
type tokenVerifier interface {
	Verify(ctx context.Context, token string) (*jwtverify.Claims, error)
}

// Service is the token service's http.Handler. It composes the grant
// handlers, each holding its own storage, with the endpoints, which hold
// the session storage.
type Service struct {
	core
	sessions SessionStorage // the session endpoints, Bearer check and introspection
	exchange exchangeHandler
	refresh  refreshHandler

	routes   []route
	metadata []byte
	// listLimit bounds session listings (MaxListedSessions).
	listLimit int
}

// core is what the grant handlers and the endpoints share: configuration,
// clock, keys, verifiers, DPoP and the revocation path. It holds no
// storage, so each handler reaches only its own.
type core struct {
	cfg      Config
	keys     *keys.Set
	idTokens tokenVerifier // Cognito ID tokens
	// cognitoAccess verifies Cognito access tokens, the exchange's other
	// subject token type.
	cognitoAccess tokenVerifier
	access        tokenVerifier // this service's access tokens
	revoker       *revoke.Revoker
	log           *slog.Logger
	metrics       *obs.Counter
	now           func() time.Time
	basePath      string

	cognitoKeys jwtverify.KeySource
	issuerKeys  map[string]jwtverify.KeySource
	signOut     revoke.SignOuter
	users       CognitoUsers
	recheck     *recheck // nil when SHORTFUSE_COGNITO_RECHECK is off
	cors        *cors.Policy

	dpop     *dpop.Verifier
	nonceKey []byte // WithDPoPNonceKey
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the request logger (default: JSON on stdout at info).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithMetrics counts responses by status class and security events
// (refresh token reuse, revoked logins) as EMF records.
func WithMetrics(c *obs.Counter) Option { return func(s *Service) { s.metrics = c } }

// WithClock sets the clock used for tokens, sessions and verification.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithCognitoKeys sets where Cognito's public keys come from for the one
// issuer WithIssuerKeys does not cover (default a jwtverify.RemoteJWKS of
// its JWK Set URL). New refuses it for more than one issuer: one key set
// must never verify tokens naming different pools.
func WithCognitoKeys(k jwtverify.KeySource) Option { return func(s *Service) { s.cognitoKeys = k } }

// WithIssuerKeys sets each Cognito issuer's key source, by issuer URL;
// an issuer missing from keys gets a jwtverify.RemoteJWKS of its JWK Set URL.
func WithIssuerKeys(keys map[string]jwtverify.KeySource) Option {
	return func(s *Service) { s.issuerKeys = keys }
}

// WithSignOut enables Cognito global sign-out on admin user revocation,
// in Config.UserPoolID.
func WithSignOut(c revoke.SignOuter) Option { return func(s *Service) { s.signOut = c } }

// WithCognitoUsers gives the refresh-time check (SHORTFUSE_COGNITO_RECHECK)
// its Cognito client.
func WithCognitoUsers(c CognitoUsers) Option { return func(s *Service) { s.users = c } }

// New returns a Service. It checks its configuration once, here.
func New(cfg Config, st Storage, ks *keys.Set, opts ...Option) (*Service, error) {
	s := &Service{core: core{cfg: cfg, keys: ks, now: time.Now}, listLimit: MaxListedSessions}
	for _, o := range opts {
		o(s)
	}
	if s.log == nil {
		s.log = obs.New(os.Stdout, slog.LevelInfo)
	}
	if st == nil || ks == nil || ks.Active() == nil {
		return nil, errors.New("tokensvc: a store and a signing key are required")
	}
	s.sessions = st
	s.exchange = exchangeHandler{core: &s.core, store: st}
	s.refresh = refreshHandler{core: &s.core, store: st}
	if len(cfg.Clients) == 0 || cfg.Issuer == "" || cfg.CognitoIssuer == "" {
		return nil, errors.New("tokensvc: issuer, Cognito issuer and clients are required")
	}
	if cfg.Audience == "" {
		s.cfg.Audience = cfg.Issuer
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("tokensvc: issuer: %w", err)
	}
	s.basePath = strings.TrimSuffix(u.EscapedPath(), "/")

	if err := s.newVerifiers(); err != nil {
		return nil, err
	}
	if s.cfg.MaxSessionsPerUser == 0 {
		s.cfg.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if err := s.newRevoker(st); err != nil {
		return nil, err
	}
	if s.recheck, err = newRecheck(s.users, cfg.UserPoolID, cfg.CognitoRecheck); err != nil {
		return nil, err
	}
	if s.cors, err = cors.New(cfg.CORSOrigins); err != nil {
		return nil, fmt.Errorf("tokensvc: %w", err)
	}
	if err := s.newDPoP(); err != nil {
		return nil, fmt.Errorf("tokensvc: DPoP: %w", err)
	}
	if s.metadata, err = json.Marshal(s.metadataDoc()); err != nil {
		return nil, err
	}
	s.routes = s.newRoutes()
	return s, nil
}

// newVerifiers builds the verifiers of the three token kinds the service
// accepts, each from its contract in tokenspec, and each Cognito issuer's
// key source: a key set serves one issuer only.
func (s *Service) newVerifiers() error {
	cognito := s.cfg.CognitoIssuers
	if len(cognito) == 0 {
		cognito = []tokenspec.Issuer{{URL: s.cfg.CognitoIssuer, JWKSURL: s.cfg.CognitoJWKSURL}}
	}
	if s.cognitoKeys != nil {
		// One key set must never verify tokens naming different pools.
		n := 0
		for _, is := range cognito {
			if s.issuerKeys[is.URL] == nil {
				n++
			}
		}
		if n > 1 {
			return errors.New("tokensvc: WithCognitoKeys serves one issuer; give the others theirs with WithIssuerKeys")
		}
	}
	cognitoKeys := s.cognitoKeySources()
	clients := make([]string, 0, len(s.cfg.Clients))
	for id := range s.cfg.Clients {
		clients = append(clients, id)
	}
	slices.Sort(clients)
	var err error
	s.idTokens, err = jwtverify.NewFromSpecs(cognitoKeys, s.now, tokenspec.CognitoIDToken(cognito, clients, 0, s.cfg.Leeway))
	if err != nil {
		return fmt.Errorf("tokensvc: ID token verifier: %w", err)
	}
	s.cognitoAccess, err = jwtverify.NewFromSpecs(cognitoKeys, s.now, tokenspec.CognitoAccessToken(cognito, clients, 0, s.cfg.Leeway))
	if err != nil {
		return fmt.Errorf("tokensvc: Cognito access token verifier: %w", err)
	}
	own, err := jwtverify.NewStaticJWKS(s.keys.JWKS())
	if err != nil {
		return fmt.Errorf("tokensvc: own keys: %w", err)
	}
	ownKeys := func(tokenspec.Issuer) (jwtverify.KeySource, error) { return own, nil }
	s.access, err = jwtverify.NewFromSpecs(ownKeys, s.now,
		tokenspec.ServiceAccessToken(tokenspec.Issuer{URL: s.cfg.Issuer}, []string{s.cfg.Audience}, clients, s.cfg.Leeway))
	if err != nil {
		return fmt.Errorf("tokensvc: access token verifier: %w", err)
	}
	return nil
}

// cognitoKeySources returns the key source of each Cognito issuer, built
// once: its own (WithIssuerKeys), the one WithCognitoKeys gave, or its JWK
// Set URL, which must pass the https rule.
func (s *Service) cognitoKeySources() func(tokenspec.Issuer) (jwtverify.KeySource, error) {
	built := map[string]jwtverify.KeySource{}
	return func(is tokenspec.Issuer) (jwtverify.KeySource, error) {
		if k, ok := built[is.URL]; ok {
			return k, nil
		}
		k := s.issuerKeys[is.URL]
		switch {
		case k != nil:
		case s.cognitoKeys != nil:
			k = s.cognitoKeys
		case is.JWKSURL == "":
			return nil, fmt.Errorf("issuer %q: no JWK Set URL", is.URL)
		default:
			if err := tokenspec.CheckKeyURL(is.JWKSURL); err != nil {
				return nil, fmt.Errorf("issuer %q: JWK Set URL: %w", is.URL, err)
			}
			k = jwtverify.NewRemoteJWKS(is.JWKSURL, jwtverify.RemoteOptions{})
		}
		built[is.URL] = k
		return k, nil
	}
}

// newRevoker builds the one revocation path from the service's policy.
func (s *Service) newRevoker(st Storage) error {
	pol := s.cfg.Revocation
	pol.AccessTokenTTL = s.cfg.LongestAccessTokenTTL()
	pol.Leeway = max(s.cfg.Leeway, revoke.DefaultLeeway)
	pol.NoGlobalSignOut = !s.cfg.AdminGlobalSignOut
	ropts := []revoke.Option{revoke.WithClock(s.now), revoke.WithLogger(s.log)}
	if s.signOut != nil && s.cfg.UserPoolID != "" {
		ropts = append(ropts, revoke.WithCognito(s.signOut, s.cfg.UserPoolID))
	}
	var err error
	if s.revoker, err = revoke.New(st, pol, ropts...); err != nil {
		return fmt.Errorf("tokensvc: %w", err)
	}
	s.cfg.Revocation = s.revoker.Policy()
	return nil
}

// newRoutes lists the endpoints with their patterns split once.
func (s *Service) newRoutes() []route {
	routes := []route{
		{method: "POST", pattern: "/token", h: s.handleToken},
		{method: "POST", pattern: "/revoke", h: s.handleRevoke},
		{method: "POST", pattern: "/introspect", h: s.handleIntrospect},
		{method: "GET", pattern: "/sessions", h: s.handleListSessions},
		{method: "GET", pattern: "/userinfo", h: s.handleUserInfo},
		{method: "DELETE", pattern: "/sessions/{id}", h: s.handleDeleteSession},
		{method: "GET", pattern: "/admin/users/{sub}/sessions", h: s.handleAdminListSessions},
		{method: "DELETE", pattern: "/admin/sessions/{id}", h: s.handleAdminRevokeSession},
		{method: "POST", pattern: "/admin/users/{sub}/revoke", h: s.handleAdminRevokeUser},
		{method: "GET", pattern: "/.well-known/jwks.json", h: s.handleJWKS},
		{method: "GET", pattern: "/.well-known/oauth-authorization-server", h: s.handleMetadata},
	}
	if s.basePath != "" {
		// RFC 8414 §3.1: for an issuer with a path, the metadata lives at the
		// well-known name inserted between host and path.
		routes = append(routes, route{method: "GET", pattern: "/.well-known/oauth-authorization-server" + s.basePath, h: s.handleMetadata})
	}
	for i := range routes {
		routes[i].segs = strings.Split(strings.TrimPrefix(routes[i].pattern, "/"), "/")
	}
	return routes
}

// handlerFunc serves one route; it returns an error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request, info *reqInfo) error

type route struct {
	method  string
	pattern string
	h       handlerFunc
	segs    []string // pattern split at "/", set by New
}

// reqInfo collects what the request log line says about a request.
type reqInfo struct {
	route    string
	clientID string
	sid      string
	sub      string
	tokenID  string // obs.TokenID of the token presented, never the token
	event    string // notable outcome, e.g. refresh_token_reuse
}

// ServeHTTP routes the request, writes errors as RFC 6749 JSON and logs one
// line per request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cors.Enabled() {
		// Behind API Gateway its CorsConfiguration answers first; served
		// on its own the service answers the same way.
		if cors.IsPreflight(r) {
			s.cors.Preflight(w, r)
			return
		}
		s.cors.Decorate(w.Header(), r.Header.Get("Origin"))
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	var out http.ResponseWriter = sw
	if r.Method == http.MethodHead {
		// RFC 9110 §9.3.2: a GET's status and headers without its body. Not
		// every adapter drops the body of a HEAD response, so it is dropped here.
		out = headWriter{sw}
	}
	info := &reqInfo{}
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = ErrServer.WithCause(fmt.Errorf("panic: %v", p))
			}
		}()
		err = s.dispatch(out, r, info)
	}()
	if err != nil && sw.status == 0 {
		s.writeError(out, err)
	}
	s.logRequest(r, sw.status, time.Since(start), info, err)
}

func (s *Service) dispatch(w http.ResponseWriter, r *http.Request, info *reqInfo) error {
	path := r.URL.EscapedPath()
	if s.basePath != "" && strings.HasPrefix(path, s.basePath+"/") {
		path = path[len(s.basePath):]
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var allowed []string
	for _, rt := range s.routes {
		params, ok := matchPath(rt.segs, segs)
		if !ok {
			continue
		}
		if r.Method != rt.method && (r.Method != http.MethodHead || rt.method != http.MethodGet) {
			allowed = append(allowed, rt.method)
			if rt.method == http.MethodGet {
				allowed = append(allowed, http.MethodHead)
			}
			continue
		}

		info.route = rt.method + " " + rt.pattern
		for k, v := range params {
			r.SetPathValue(k, v)
		}
		return rt.h(w, r, info)
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		return ErrMethodNotAllowed.WithDescription("method %s not allowed", printable(r.Method))
	}
	return ErrNotFound.WithDescription("no such endpoint")
}

// matchPath matches escaped path segments against pattern segments, where
// {name} matches any one segment; parameters are unescaped and must not be
// empty.
func matchPath(ps, segs []string) (map[string]string, bool) {
	if len(ps) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" || len(v) > 256 {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = v
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// writeError writes err as an OAuth error response. Store outages become 503
// with Retry-After; anything unexpected is a 500 whose cause stays in the log.
func (s *Service) writeError(w http.ResponseWriter, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, jwtverify.ErrKeysUnavailable):
		e = ErrUnavailable.WithDescription("try again shortly")
	default:
		e = ErrServer
	}
	h := w.Header()
	if e.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	if e.Status == http.StatusUnauthorized && (e.Code == ErrInvalidToken.Code || e.dpop) {
		h.Set("WWW-Authenticate", s.challenge(e))
	}
	if e.Code == ErrUseDPoPNonce.Code {
		if n := s.dpop.Nonces(); n != nil {
			h.Set(dpop.NonceHeader, n.Current())
		}
	}
	if e.Status == http.StatusForbidden && e.Code == ErrInsufficientScope.Code {
		h.Set("WWW-Authenticate", `Bearer realm="shortfuse", error="insufficient_scope"`)
	}
	body := struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.Code, e.Description}
	writeJSON(w, e.Status, body)
}

// writeJSON writes v with the headers every token service response carries:
// tokens and session data must not be cached (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeNoContent(w http.ResponseWriter, status int) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
}

func (s *Service) logRequest(r *http.Request, status int, d time.Duration, info *reqInfo, err error) {
	if status == 0 {
		status = http.StatusOK
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", info.route),
		slog.Int("status", status),
		slog.Float64("ms", float64(d.Microseconds())/1000),
	}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("client_id", info.clientID)
	add("sid", info.sid)
	add("sub", info.sub)
	add("token_id", info.tokenID)
	add("event", info.event)
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		if status >= 500 {
			level = slog.LevelError
		}
	}
	if info.event != "" {
		level = max(level, slog.LevelWarn)
		s.metrics.Count("SecurityEvents", "Event", info.event)
	}
	s.metrics.Count("Responses", "Status", statusClass(status))
	s.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// statusClass is "2xx", "3xx", "4xx" or "5xx": few values, so few metric streams.
func statusClass(status int) string {
	switch {
	case status >= 500:
		return "5xx"
	case status >= 400:
		return "4xx"
	case status >= 300:
		return "3xx"
	}
	return "2xx"
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController and MaxBytesReader reach the writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// headWriter answers a HEAD request: headers and status, no body.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK) // a no-op after an explicit status
	return len(b), nil
}

// Unwrap lets http.ResponseController reach the writer.
func (w headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// WriteAdapterError writes the response for a request refused before it
// reached the service (see shared/httpapi), in the service's error format.
func WriteAdapterError(w http.ResponseWriter, status int, err error) {
	e := ErrInvalidRequest.WithDescription("malformed request")
	switch status {
	case http.StatusRequestEntityTooLarge:
		e = ErrTooLarge
	case http.StatusRequestHeaderFieldsTooLarge:
		e = &Error{Code: "invalid_request", Status: status, Description: "request headers too large"}
	case http.StatusInternalServerError:
		e = ErrServer
	}
	body := struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.Code, e.Description}
	writeJSON(w, e.Status, body)
}
