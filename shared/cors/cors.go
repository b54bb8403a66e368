// Package cors is shortfuse's one CORS policy, applied the same way by the
// token service, the local gateway and (through the template's
// CorsConfiguration) API Gateway: exact origins only, never "*", no
// credentials (tokens travel in the Authorization header, never in
// cookies), Authorization, Content-Type and DPoP allowed as request
// headers, WWW-Authenticate and DPoP-Nonce exposed.
package cors

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The policy's fixed parts, mirrored by template.yaml (deploy checks it).
var (
	AllowHeaders  = []string{"Authorization", "Content-Type", "DPoP"}
	ExposeHeaders = []string{"WWW-Authenticate", "DPoP-Nonce"}
	AllowMethods  = []string{"GET", "POST", "DELETE"}
)

// MaxAge is how long, in seconds, a browser may reuse a preflight answer.
const MaxAge = 600

// MaxOrigins bounds the list (API Gateway accepts far more; a deployment
// serves a handful of front ends).
const MaxOrigins = 50

// ParseOrigins reads a comma-separated list of exact origins; empty means
// none. Every mistake is reported, naming the origin.
func ParseOrigins(v string) ([]string, error) {
	var out []string
	var errs []error
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if err := CheckOrigin(s); err != nil {
			errs = append(errs, err)
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) > MaxOrigins {
		errs = append(errs, fmt.Errorf("%d origins, at most %d", len(out), MaxOrigins))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// CheckOrigin accepts exactly what a browser sends as Origin for a page:
// scheme://host[:port] in lower case, no default port, no path, and https
// unless the host is loopback (local development). "*" and "null" are
// refused: a wildcard would let any site spend a user's tokens.
func CheckOrigin(s string) error {
	if strings.Contains(s, "*") {
		return fmt.Errorf("origin %q: wildcards are not allowed, list exact origins", s)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("origin %q: want scheme://host[:port]", s)
	}
	switch {
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Contains(s, "#") || strings.Contains(s, "?"):
		return fmt.Errorf("origin %q: an origin has no user, query or fragment", s)
	case u.Path != "" || u.RawPath != "":
		return fmt.Errorf("origin %q: an origin has no path (not even a trailing /)", s)
	case s != strings.ToLower(s):
		return fmt.Errorf("origin %q: write it in lower case, as browsers send it", s)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return fmt.Errorf("origin %q: no host", s)
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == ':') {
			return fmt.Errorf("origin %q: the host must be ASCII (punycode for international names)", s)
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return fmt.Errorf("origin %q: bad port", s)
		}
		if u.Scheme == "https" && n == 443 || u.Scheme == "http" && n == 80 {
			return fmt.Errorf("origin %q: leave out the default port, browsers do", s)
		}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("origin %q: must use https (http only for localhost)", s)
		}
	default:
		return fmt.Errorf("origin %q: scheme must be https", s)
	}
	return nil
}

// Policy answers CORS for a fixed set of origins.
type Policy struct {
	origins map[string]bool
}

// New returns the policy for origins, which must have passed CheckOrigin
// (ParseOrigins does). With no origins, Wrap adds nothing.
func New(origins []string) (*Policy, error) {
	p := &Policy{origins: map[string]bool{}}
	for _, o := range origins {
		if err := CheckOrigin(o); err != nil {
			return nil, err
		}
		p.origins[o] = true
	}
	return p, nil
}

// Allowed reports whether origin is one of the policy's origins.
func (p *Policy) Allowed(origin string) bool { return p != nil && p.origins[origin] }

// Enabled reports whether the policy allows any origin.
func (p *Policy) Enabled() bool { return p != nil && len(p.origins) > 0 }

var (
	allowHeaders  = strings.Join(AllowHeaders, ", ")
	exposeHeaders = strings.Join(ExposeHeaders, ", ")
	allowMethods  = strings.Join(AllowMethods, ", ")
	maxAge        = strconv.Itoa(MaxAge)
)

// IsPreflight reports whether r is a CORS preflight request.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// Preflight answers a preflight request: 204, with the CORS headers only
// when the origin, the method and every requested header are allowed, so a
// browser refuses anything else.
func (p *Policy) Preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	origin := r.Header.Get("Origin")
	if p.Allowed(origin) && slices.Contains(AllowMethods, r.Header.Get("Access-Control-Request-Method")) && headersAllowed(r) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", allowMethods)
		h.Set("Access-Control-Allow-Headers", allowHeaders)
		h.Set("Access-Control-Max-Age", maxAge)
	}
	w.WriteHeader(http.StatusNoContent)
}

// Decorate adds the headers of an actual (not preflight) response: the
// origin echoed and the exposed headers when it is allowed, and Vary:
// Origin always, so a shared cache never serves one origin's answer to
// another.
func (p *Policy) Decorate(h http.Header, origin string) {
	h.Add("Vary", "Origin")
	if p.Allowed(origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", exposeHeaders)
	}
}

// Wrap answers preflights and decorates every response of next. With no
// origins it returns next unchanged: the service then answers as if CORS
// did not exist.
func (p *Policy) Wrap(next http.Handler) http.Handler {
	if !p.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsPreflight(r) {
			p.Preflight(w, r)
			return
		}
		p.Decorate(w.Header(), r.Header.Get("Origin"))
		next.ServeHTTP(w, r)
	})
}

// headersAllowed reports whether every header named in
// Access-Control-Request-Headers is allowed (case-insensitively).
func headersAllowed(r *http.Request) bool {
	for _, line := range r.Header.Values("Access-Control-Request-Headers") {
		for _, name := range strings.Split(line, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if !slices.ContainsFunc(AllowHeaders, func(a string) bool { return strings.EqualFold(a, name) }) {
				return false
			}
		}
	}
	return true
}
