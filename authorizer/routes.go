package authorizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Route is one entry of the route table.
//
// Pattern is "METHOD /path": METHOD is an HTTP method, or ANY or * for every
// method; in the path, * matches any run of characters, "/" included, exactly
// as in the IAM policy API Gateway evaluates. A token may call a route when it
// is in at least one of Groups (if any are listed) and holds every one of
// Scopes (if any are listed); a route with neither admits any valid token.
//
// Step-up rules (RFC 9470) ask more of the sign-in behind the token: MaxAge
// (seconds) since its auth_time, an acr among ACR, every amr member of AMR.
// A valid token that fails them is refused with ErrStepUp and told what to
// do (see StepUpError), unlike a token lacking a group or scope.
type Route struct {
	Pattern string   `json:"route"`
	Groups  []string `json:"groups,omitempty"`
	Scopes  []string `json:"scopes,omitempty"`
	MaxAge  int      `json:"max_age,omitempty"`
	ACR     []string `json:"acr,omitempty"`
	AMR     []string `json:"amr,omitempty"`
}

// Routes is a compiled route table.
//
// A request may proceed when at least one route matches it and the token
// satisfies every route that matches it. The policy documents built from the
// table express exactly that: Allow on the routes the token satisfies, and
// Deny on those it does not satisfy that overlap one it does.
type Routes struct {
	routes []compiledRoute
	stepUp bool // some route has step-up rules
}

type compiledRoute struct {
	Route
	// resources are the ARN parts after the stage ("GET/hello"); ANY
	// expands to one per method, because a * in the method position would
	// also match across the path ("*/admin" matches "GET/x/admin").
	resources []string
	overlaps  []int // other routes some request could match together with this one
}

// maxRoutes bounds the table so that a policy document stays well inside
// API Gateway's limits.
const maxRoutes = 256

// allMethods are the methods API Gateway's ANY stands for.
var allMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// ParseRoutes reads a JSON route table: an array of Route objects.
// Unknown fields are errors, so a misspelt "groups" cannot silently open a
// route.
func ParseRoutes(data []byte) (*Routes, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rs []Route
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("route table: %w", err)
	}
	if dec.More() {
		return nil, errors.New("route table: trailing data after the array")
	}
	return NewRoutes(rs)
}

// NewRoutes checks and compiles a route table.
func NewRoutes(rs []Route) (*Routes, error) {
	if len(rs) == 0 {
		return nil, errors.New("route table: no routes (every request would be denied)")
	}
	if len(rs) > maxRoutes {
		return nil, fmt.Errorf("route table: %d routes, at most %d", len(rs), maxRoutes)
	}
	t := &Routes{routes: make([]compiledRoute, len(rs))}
	seen := map[string]bool{}
	for i, r := range rs {
		res, err := compilePattern(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("route table: route %d: %w", i, err)
		}
		for _, x := range res {
			if seen[x] {
				return nil, fmt.Errorf("route table: route %d: %s listed twice", i, x)
			}
			seen[x] = true
		}
		for _, g := range r.Groups {
			if g == "" || strings.ContainsAny(g, ", ") {
				return nil, fmt.Errorf("route table: route %d: bad group %q", i, g)
			}
		}
		for _, s := range r.Scopes {
			if s == "" || strings.ContainsAny(s, " ") {
				return nil, fmt.Errorf("route table: route %d: bad scope %q", i, s)
			}
		}
		if r.MaxAge < 0 || r.MaxAge > 366*24*3600 {
			return nil, fmt.Errorf("route table: route %d: max_age %d is not a number of seconds up to a year", i, r.MaxAge)
		}
		for _, v := range append(slices.Clone(r.ACR), r.AMR...) {
			if v == "" || strings.ContainsAny(v, " \"\\,") || len(v) > 256 {
				return nil, fmt.Errorf("route table: route %d: bad acr or amr value %q", i, v)
			}
		}
		if r.MaxAge > 0 || len(r.ACR) > 0 || len(r.AMR) > 0 {
			t.stepUp = true
		}
		t.routes[i] = compiledRoute{Route: r, resources: res}
	}
	for i := range t.routes {
		for j := range t.routes {
			if i != j && routesIntersect(&t.routes[i], &t.routes[j]) {
				t.routes[i].overlaps = append(t.routes[i].overlaps, j)
			}
		}
	}
	return t, nil
}

func routesIntersect(a, b *compiledRoute) bool {
	for _, x := range a.resources {
		for _, y := range b.resources {
			if globsIntersect(x, y) {
				return true
			}
		}
	}
	return false
}

// compilePattern turns "GET /a/*" into the resources ["GET/a/*"].
func compilePattern(p string) ([]string, error) {
	method, path, ok := strings.Cut(strings.TrimSpace(p), " ")
	if !ok {
		return nil, fmt.Errorf("pattern %q: want \"METHOD /path\"", p)
	}
	var ms []string
	switch m := strings.ToUpper(method); m {
	case "ANY", "*":
		ms = allMethods
	default:
		if _, ok := slices.BinarySearch(allMethods, m); !ok {
			return nil, fmt.Errorf("pattern %q: unknown method %q", p, method)
		}
		ms = []string{m}
	}
	path = strings.TrimSpace(path)
	if path == "*" {
		path = "/*"
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("pattern %q: path must start with / (or be *)", p)
	}
	if len(path) > 512 {
		return nil, fmt.Errorf("pattern %q: path too long", p)
	}
	for i := 0; i < len(path); i++ {
		if !pathChar(path[i]) {
			return nil, fmt.Errorf("pattern %q: character %q not allowed (use * for path parameters)", p, path[i])
		}
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m + path
	}
	return out, nil
}

// pathChar reports whether c may appear in a route pattern: RFC 3986 path
// characters and *, without ? (an IAM wildcard) and without braces.
func pathChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()+,;=:@%/*", c) >= 0
}

// mask holds one byte per route of a table, 1 where a token may call the
// route. It is a string so that it can key the policy cache.
type mask string

func (m mask) has(i int) bool { return m[i] != 0 }

// satisfied reports, for each route, whether a token with these groups and
// scopes may call it.
func (t *Routes) satisfied(groups []string, scope string) mask {
	out := make([]byte, len(t.routes))
	for i := range t.routes {
		if t.routes[i].admits(groups, scope) {
			out[i] = 1
		}
	}
	return mask(out)
}

func (r *compiledRoute) admits(groups []string, scope string) bool {
	if len(r.Groups) > 0 {
		found := false
	outer:
		for _, want := range r.Groups {
			for _, g := range groups {
				if g == want {
					found = true
					break outer
				}
			}
		}
		if !found {
			return false
		}
	}
	for _, want := range r.Scopes {
		if !hasScope(scope, want) {
			return false
		}
	}
	return true
}

// hasScope reports whether the space-separated scope list holds want.
func hasScope(scope, want string) bool {
	for scope != "" {
		var s string
		s, scope, _ = strings.Cut(scope, " ")
		if s == want {
			return true
		}
	}
	return false
}

// allows reports whether a request for resource ("GET/hello") may proceed
// for a token whose per-route answers are ok.
func (t *Routes) allows(ok mask, resource string) bool {
	matched := false
	for i := range t.routes {
		if t.routes[i].matches(resource) {
			if !ok.has(i) {
				return false
			}
			matched = true
		}
	}
	return matched
}

func (r *compiledRoute) matches(resource string) bool {
	for _, x := range r.resources {
		if globMatch(x, resource) {
			return true
		}
	}
	return false
}

// resources returns the route resources to allow and to deny explicitly.
func (t *Routes) resources(ok mask) (allow, deny []int) {
	for i := range t.routes {
		if ok.has(i) {
			allow = append(allow, i)
			continue
		}
		for _, j := range t.routes[i].overlaps {
			if ok.has(j) {
				deny = append(deny, i)
				break
			}
		}
	}
	return allow, deny
}

// globMatch reports whether s matches pattern, where * matches any run of
// bytes (IAM's rule for resource ARNs).
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// globsIntersect reports whether some string matches both patterns.
func globsIntersect(a, b string) bool {
	memo := make(map[[2]int]bool)
	var rec func(i, j int) bool
	rec = func(i, j int) bool {
		k := [2]int{i, j}
		if v, ok := memo[k]; ok {
			return v
		}
		var r bool
		switch {
		case i == len(a) && j == len(b):
			r = true
		case i < len(a) && a[i] == '*':
			// a's star matches nothing, or swallows one byte (or star) of b.
			r = rec(i+1, j) || (j < len(b) && rec(i, j+1))
		case j < len(b) && b[j] == '*':
			r = rec(i, j+1) || (i < len(a) && rec(i+1, j))
		case i < len(a) && j < len(b):
			r = a[i] == b[j] && rec(i+1, j+1)
		}
		memo[k] = r
		return r
	}
	return rec(0, 0)
}
