// Package domains is the email domain policy shared by the pre sign-up and
// custom message triggers: allow and deny lists whose rules cover a domain
// exactly, with its subdomains, or its subdomains only.
//
// Rule syntax, one entry per rule:
//
//	=example.com   exactly example.com
//	.example.com   example.com and every subdomain of it
//	*.example.com  every subdomain of example.com, not example.com itself
//	example.com    the list's default: with subdomains in a deny list (so
//	               denying evil.example also denies x.evil.example), exactly
//	               in allow, auto-confirm and auto-verify lists (so allowing
//	               a domain never allows hosts under it by accident)
package domains

import (
	"fmt"
	"strings"

	"github.com/shortfuse/shortfuse/triggers/emailaddr"
)

// Mode says which domains a rule covers.
type Mode int

// Rule modes.
const (
	Exact          Mode = iota + 1 // the domain only
	WithSubdomains                 // the domain and its subdomains
	SubdomainsOnly                 // its subdomains only
)

// Rule is one parsed entry.
type Rule struct {
	Domain string // lower case, no trailing dot
	Mode   Mode
}

// List is a list of rules; an empty list matches nothing.
type List []Rule

// Parse reads entries; bare is the mode of an entry without a prefix
// (WithSubdomains for deny lists, Exact for the others).
func Parse(entries []string, bare Mode) (List, error) {
	var out List
	for _, e := range entries {
		r, err := parseRule(e, bare)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func parseRule(e string, bare Mode) (Rule, error) {
	s := strings.ToLower(strings.TrimSpace(e))
	r := Rule{Mode: bare}
	switch {
	case strings.HasPrefix(s, "="):
		r.Mode, s = Exact, s[1:]
	case strings.HasPrefix(s, "*."):
		r.Mode, s = SubdomainsOnly, s[2:]
	case strings.HasPrefix(s, "."):
		r.Mode, s = WithSubdomains, s[1:]
	}
	// A trailing dot in configuration is a harmless FQDN habit; addresses
	// with one are refused (package emailaddr).
	r.Domain = strings.TrimSuffix(s, ".")
	if !emailaddr.ValidDomain(r.Domain) {
		return Rule{}, fmt.Errorf("%q is not a domain rule like example.com, =example.com, .example.com or *.example.com", e)
	}
	return r, nil
}

// Match reports whether domain (lower case, as emailaddr.Parse returns it)
// matches any rule.
func (l List) Match(domain string) bool {
	for _, r := range l {
		apex := domain == r.Domain
		sub := strings.HasSuffix(domain, "."+r.Domain)
		switch {
		case r.Mode == Exact && apex,
			r.Mode == WithSubdomains && (apex || sub),
			r.Mode == SubdomainsOnly && sub:
			return true
		}
	}
	return false
}

// String returns the rules in their explicit syntax.
func (l List) String() string {
	parts := make([]string, len(l))
	for i, r := range l {
		parts[i] = map[Mode]string{Exact: "=", WithSubdomains: ".", SubdomainsOnly: "*."}[r.Mode] + r.Domain
	}
	return strings.Join(parts, ",")
}

// Policy is the allow and deny lists every address must pass.
type Policy struct {
	Allowed List // empty allows every domain not denied
	Denied  List // deny wins over allow
}

// Permits reports whether an address in domain may be used.
func (p Policy) Permits(domain string) bool {
	if p.Denied.Match(domain) {
		return false
	}
	return len(p.Allowed) == 0 || p.Allowed.Match(domain)
}

// Variables of the policy, read by every trigger that applies it.
const (
	AllowedVar = "SHORTFUSE_SIGNUP_ALLOWED_DOMAINS"
	DeniedVar  = "SHORTFUSE_SIGNUP_DENIED_DOMAINS"
)

// Env is the part of shared/config.Env the policy reads.
type Env interface {
	List(name string, def []string) []string
	Fail(name, format string, args ...any)
}

// LoadList reads one list from env; bare as in Parse.
func LoadList(env Env, name string, bare Mode) List {
	l, err := Parse(env.List(name, nil), bare)
	if err != nil {
		env.Fail(name, "%v", err)
	}
	return l
}

// LoadPolicy reads the allow and deny lists.
func LoadPolicy(env Env) Policy {
	return Policy{Allowed: LoadList(env, AllowedVar, Exact), Denied: LoadList(env, DeniedVar, WithSubdomains)}
}
