package authorizer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shortfuse/shortfuse/shared/dpop"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// Request is what the authorizer knows of the request a token came with.
// The rest-token shape knows only the token; the others know the method,
// the URL and the DPoP header as well.
type Request struct {
	Token  string
	DPoP   bool     // the Authorization scheme was DPoP, not Bearer
	Proofs []string // every value of the DPoP header
	Method string
	// URL is the request's absolute URL as the client addressed it (see
	// requestURL); "" when the shape does not tell, and then a DPoP-bound
	// token is refused.
	URL string
	// RequestID is API Gateway's id of the request, logged with the
	// decision so one request can be followed across the access log, this
	// log and the backend ("" when the event has none).
	RequestID string
}

// Reasons a token's binding refuses a request.
var (
	ErrBoundAsBearer  = errors.New("authorizer: the token is DPoP-bound (cnf.jkt) but was sent as a Bearer token")
	ErrBoundNoRequest = errors.New("authorizer: the token is DPoP-bound (cnf.jkt) and this authorizer shape (rest-token) cannot see the DPoP proof; use rest-request or an HTTP API shape")
	ErrUnboundDPoP    = errors.New("authorizer: DPoP scheme with a token that is not DPoP-bound")
	ErrDPoPOff        = errors.New("authorizer: the token is DPoP-bound and DPoP proofs are not checked by this authorizer")
	ErrBoundCached    = errors.New("authorizer: the token is DPoP-bound and API Gateway caches authorizer answers (SHORTFUSE_GATEWAY_CACHE_TTL > 0), which would let a cached answer serve a request without its proof; set the cache TTL to 0 to accept DPoP-bound tokens")
)

// checkBinding enforces a token's DPoP binding (RFC 9449 §7): a bound token
// needs the DPoP scheme and a valid proof for this method and URL, made with
// the bound key and carrying the token's hash; the proof's signature is
// checked on every request, the token cached or not.
func (a *Authorizer) checkBinding(g *grant, r *Request) error {
	if g.jkt == "" {
		if r.DPoP {
			return ErrUnboundDPoP
		}
		return nil
	}
	switch {
	case !r.DPoP:
		return ErrBoundAsBearer
	case r.URL == "":
		return ErrBoundNoRequest
	case a.dpop == nil:
		return ErrDPoPOff
	case a.gatewayCaches:
		return ErrBoundCached
	}
	proof, err := dpop.ProofFromHeader(r.Proofs)
	if err != nil {
		return err
	}
	if _, err := a.dpop.Check(proof, dpop.Request{Method: r.Method, URL: r.URL, AccessToken: r.Token, JKT: g.jkt}); err != nil {
		return err
	}
	return nil
}

// Challenge returns the WWW-Authenticate value for a refused decision, or
// "" when there is nothing to say beyond the status: a DPoP failure names
// its error code (invalid_dpop_proof, use_dpop_nonce), a token refused for
// its binding or its validity says invalid_token, in the scheme the client
// used.
func (a *Authorizer) Challenge(d Decision, r *Request) string {
	if d.Effect == Allow || d.Effect == Unavailable {
		return ""
	}
	var de *dpop.Error
	if errors.As(d.Reason, &de) {
		return dpop.Challenge(a.dpopAlgs(), de.Code, de.Reason)
	}
	if c := d.stepUpChallenge(r); c != "" {
		return c
	}
	switch {
	case errors.Is(d.Reason, ErrBoundAsBearer):
		return dpop.Challenge(a.dpopAlgs(), "invalid_token", "the token is DPoP-bound: send it with the DPoP scheme and a proof")
	case errors.Is(d.Reason, ErrNoCredential):
		if r != nil && r.DPoP {
			return dpop.Challenge(a.dpopAlgs(), "", "")
		}
		return "Bearer"
	case d.Effect == Unauthorized:
		if r != nil && r.DPoP {
			return dpop.Challenge(a.dpopAlgs(), "invalid_token", "")
		}
		return `Bearer error="invalid_token"`
	}
	return ""
}

func (a *Authorizer) dpopAlgs() []string {
	if a.dpop == nil {
		return dpop.DefaultAlgorithms
	}
	return a.dpop.Algorithms()
}

// requestURL rebuilds the URL the client addressed, for the proof's htu.
// With a public base URL (SHORTFUSE_PUBLIC_BASE_URL: a custom domain, a
// CDN in front of API Gateway) it is that base followed by the path within
// the API (the stage prefix, when the path has one, removed). Otherwise
// it is the scheme of X-Forwarded-Proto (https when absent), the host
// API Gateway received and the path as addressed. "" when the host is
// unknown, which refuses bound tokens.
func (a *Authorizer) requestURL(headers map[string]string, multi map[string][]string, host, path, stage string) string {
	if path == "" {
		path = "/"
	}
	if a.publicBase != "" {
		if stage != "" && stage != "$default" {
			if rest, ok := strings.CutPrefix(path, "/"+stage); ok && (rest == "" || rest[0] == '/') {
				path = rest
			}
		}
		return a.publicBase + path
	}
	if host == "" {
		host, _ = headerValue(headers, multi, "Host")
	}
	if host == "" {
		return ""
	}
	scheme := "https"
	if p, ok := headerValue(headers, multi, "X-Forwarded-Proto"); ok && strings.EqualFold(p, "http") {
		scheme = "http"
	}
	return scheme + "://" + host + path
}

// headerValues returns every value of the named header in an API Gateway
// event: those of the multi-value map when it has the header, else the
// single value. HTTP APIs join repeated headers with commas, which
// dpop.ProofFromHeader refuses as well.
func headerValues(headers map[string]string, multi map[string][]string, name string) []string {
	var out []string
	for k, xs := range multi {
		if strings.EqualFold(k, name) {
			out = append(out, xs...)
		}
	}
	if out != nil {
		return out
	}
	for k, x := range headers {
		if strings.EqualFold(k, name) {
			out = append(out, x)
		}
	}
	return out
}

// credential splits an Authorization header value into a Request's token
// and scheme; an unusable value gives an empty token.
func credential(h string, ok bool) Request {
	if !ok {
		return Request{}
	}
	c, ok := tokenspec.ParseAuthorization(h)
	if !ok {
		return Request{}
	}
	return Request{Token: c.Token, DPoP: c.Scheme == tokenspec.SchemeDPoP}
}

// validPublicBase checks SHORTFUSE_PUBLIC_BASE_URL: an absolute http(s)
// URL without query or fragment; a trailing slash is dropped.
func validPublicBase(s string) (string, error) {
	if strings.ContainsAny(s, "?#") {
		return "", fmt.Errorf("must not have a query or fragment")
	}
	if _, err := dpop.NormalizeURL(s); err != nil {
		return "", fmt.Errorf("not an absolute http(s) URL")
	}
	return strings.TrimSuffix(s, "/"), nil
}
