package authorizer

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Step-up rules (RFC 9470). A route may require a recent sign-in (max_age,
// seconds since the token's auth_time), an authentication context class
// (acr, one of) or authentication methods (amr, all of). They are checked
// on every request, cached token or not, since a sign-in only gets older.

// ErrStepUp is wrapped by the reason of a decision refused because the
// sign-in behind a valid token is too old or too weak for the route.
var ErrStepUp = errors.New("insufficient_user_authentication")

// StepUpError says what the route needs: the client should sign in again,
// within MaxAge or with one of ACRValues, and retry.
type StepUpError struct {
	Route     string        // the route pattern that asked for it
	MaxAge    time.Duration // 0 when freshness was not the problem
	ACRValues []string      // the acr values the route accepts, when acr was the problem
	AMR       []string      // the amr members the route needs, when amr was the problem
}

func (e *StepUpError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "authorizer: insufficient_user_authentication: route %q needs", e.Route)
	if e.MaxAge > 0 {
		fmt.Fprintf(&b, " a sign-in within %s", e.MaxAge)
	}
	if len(e.ACRValues) > 0 {
		fmt.Fprintf(&b, " acr in %v", e.ACRValues)
	}
	if len(e.AMR) > 0 {
		fmt.Fprintf(&b, " amr with %v", e.AMR)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrStepUp) hold.
func (e *StepUpError) Unwrap() error { return ErrStepUp }

// stepUpMask returns ok with the routes whose step-up rules the grant does
// not meet at now cleared, and the first such route's error for resource,
// nil when none applies to it.
func (t *Routes) stepUpMask(ok mask, g *grant, now time.Time, resource string) (mask, *StepUpError) {
	if !t.stepUp {
		return ok, nil
	}
	var out []byte
	var first *StepUpError
	for i := range t.routes {
		r := &t.routes[i]
		if !r.hasStepUp() || !ok.has(i) {
			continue
		}
		e := r.stepUpCheck(g, now)
		if e == nil {
			continue
		}
		if out == nil {
			out = []byte(ok)
		}
		out[i] = 0
		if first == nil && r.matches(resource) {
			first = e
		}
	}
	if out == nil {
		return ok, nil
	}
	return mask(out), first
}

func (r *compiledRoute) hasStepUp() bool { return r.MaxAge > 0 || len(r.ACR) > 0 || len(r.AMR) > 0 }

// stepUpCheck returns what the grant lacks for r, or nil.
func (r *compiledRoute) stepUpCheck(g *grant, now time.Time) *StepUpError {
	e := &StepUpError{Route: r.Pattern}
	bad := false
	if r.MaxAge > 0 {
		maxAge := time.Duration(r.MaxAge) * time.Second
		// No auth_time cannot prove freshness.
		if g.authTime.IsZero() || now.Sub(g.authTime) > maxAge {
			e.MaxAge, bad = maxAge, true
		}
	}
	if len(r.ACR) > 0 && !slices.Contains(r.ACR, g.acr) {
		e.ACRValues, bad = r.ACR, true
	}
	for _, m := range r.AMR {
		if !slices.Contains(g.amr, m) {
			e.AMR, bad = r.AMR, true
			break
		}
	}
	if !bad {
		return nil
	}
	return e
}

// stepUpChallenge is the RFC 9470 WWW-Authenticate value for a step-up
// refusal, in the scheme the client used; "" for any other decision.
func (d Decision) stepUpChallenge(r *Request) string {
	var e *StepUpError
	if !errors.As(d.Reason, &e) {
		return ""
	}
	scheme := "Bearer"
	if r != nil && r.DPoP {
		scheme = "DPoP"
	}
	s := scheme + ` error="insufficient_user_authentication", error_description="A different authentication level is required"`
	if e.MaxAge > 0 {
		s += ", max_age=" + strconv.Itoa(int(e.MaxAge/time.Second))
	}
	if len(e.ACRValues) > 0 {
		s += `, acr_values="` + strings.Join(e.ACRValues, " ") + `"`
	}
	return s
}
