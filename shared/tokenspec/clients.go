package tokenspec

// SHORTFUSE_CLIENTS names the app clients a deployment serves. The token
// service, the authorizer and the template checker all read it through
// ParseClients, so a setting one of them accepts means the same to the
// others.
//
// Syntax: clients separated by commas; each is an app client id followed by
// zero or more ":key=value" settings. A bare ":N" is short for ":ttl=N".
//
//	web,mobile:30
//	web:ttl=300,mobile:ttl=30
//
// Keys:
//
//	ttl   access token lifetime in seconds, MinAccessTTL to MaxAccessTTL
//	      (default: the token service's SHORTFUSE_ACCESS_TOKEN_TTL)
//	grace refresh grace window in seconds, 0 to MaxRefreshGrace; 0 turns it off
//	      (default: the token service's SHORTFUSE_REFRESH_GRACE)
//	dpop  DPoP (RFC 9449) policy: required, allowed or off
//	      (default: the token service's SHORTFUSE_DPOP)

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bounds of a per-client access token lifetime.
const (
	MinAccessTTL = 5 * time.Second
	MaxAccessTTL = time.Hour
)

// MaxRefreshGrace bounds the refresh grace window, as Cognito's
// RetryGracePeriodSeconds does.
const MaxRefreshGrace = 60 * time.Second

// MaxClients bounds the list; a deployment serves a handful of app clients.
const MaxClients = 100

// Client is one app client and its own settings. Zero values mean "use the
// deployment's default".
type Client struct {
	ID  string
	TTL time.Duration
	// Grace is the refresh grace window when HasGrace; 0 is a setting of
	// its own (no window), hence the flag.
	Grace    time.Duration
	HasGrace bool
	// DPoP is the client's DPoP policy (DPoPRequired, DPoPAllowed,
	// DPoPOff), "" for the deployment's default.
	DPoP string
}

// DPoP policies.
const (
	DPoPRequired = "required" // every token is DPoP-bound; a request without a proof is refused
	DPoPAllowed  = "allowed"  // a request with a proof gets bound tokens, one without gets Bearer tokens
	DPoPOff      = "off"      // DPoP headers are ignored; tokens are Bearer tokens
)

// ValidDPoP reports whether p is one of the DPoP policies.
func ValidDPoP(p string) bool { return p == DPoPRequired || p == DPoPAllowed || p == DPoPOff }

// setters apply one key=value to a client. Adding a per-client setting is
// one entry here, a field on Client and a line in the package doc.
var setters = map[string]func(c *Client, v string) error{
	"ttl": func(c *Client, v string) error {
		n, err := strconv.Atoi(v)
		d := time.Duration(n) * time.Second
		if err != nil || d < MinAccessTTL || d > MaxAccessTTL {
			return fmt.Errorf("lifetime %q is not a number of seconds in [%d, %d]", v, int(MinAccessTTL.Seconds()), int(MaxAccessTTL.Seconds()))
		}
		c.TTL = d
		return nil
	},
	"dpop": func(c *Client, v string) error {
		if !ValidDPoP(v) {
			return fmt.Errorf("dpop %q is not required, allowed or off", v)
		}
		c.DPoP = v
		return nil
	},
	"grace": func(c *Client, v string) error {
		n, err := strconv.Atoi(v)
		d := time.Duration(n) * time.Second
		if err != nil || d < 0 || d > MaxRefreshGrace {
			return fmt.Errorf("grace %q is not a number of seconds in [0, %d]", v, int(MaxRefreshGrace.Seconds()))
		}
		c.Grace, c.HasGrace = d, true
		return nil
	},
}

// ParseClients reads a client list. It reports every mistake, each naming the
// client it concerns, and never returns a partial list with an error. An
// empty v is an empty list.
func ParseClients(v string) ([]Client, error) {
	var (
		out  []Client
		errs []error
		seen = map[string]bool{}
	)
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ":")
		c := Client{ID: strings.TrimSpace(parts[0])}
		if !validClientID(c.ID) {
			errs = append(errs, fmt.Errorf("%q is not a client id (letters, digits, '-', '_', at most 128)", c.ID))
			continue
		}
		bad := false
		for _, p := range parts[1:] {
			k, val, hasKey := strings.Cut(strings.TrimSpace(p), "=")
			if !hasKey {
				k, val = "ttl", k
			}
			set, ok := setters[strings.TrimSpace(k)]
			if !ok {
				errs = append(errs, fmt.Errorf("client %q: unknown setting %q", c.ID, k))
				bad = true
				continue
			}
			if err := set(&c, strings.TrimSpace(val)); err != nil {
				errs = append(errs, fmt.Errorf("client %q: %w", c.ID, err))
				bad = true
			}
		}
		if seen[c.ID] {
			errs = append(errs, fmt.Errorf("client %q listed twice", c.ID))
			continue
		}
		seen[c.ID] = true
		if !bad {
			out = append(out, c)
		}
	}
	switch {
	case len(errs) > 0:
		return nil, errors.Join(errs...)
	case len(seen) > MaxClients:
		return nil, fmt.Errorf("%d clients, at most %d", len(seen), MaxClients)
	}
	return out, nil
}

// ClientIDs returns the client ids of list, in order.
func ClientIDs(list []Client) []string {
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	return ids
}

// validID accepts what Cognito issues as app client ids, plus the short
// names local set-ups use.
func validClientID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
