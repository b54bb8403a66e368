package presignup

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// A domainRule matches an email domain: "example.com" matches exactly that
// domain, "*.example.com" matches any subdomain of it (not the domain itself).
type domainRule struct {
	domain string // lower case, no trailing dot
	sub    bool
}

// domainList is a list of rules; an empty list matches nothing.
type domainList []domainRule

var labelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validDomain reports whether d is a lower-case ASCII host name with at
// least two labels (internationalised names in their xn-- form).
func validDomain(d string) bool {
	if len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !labelRE.MatchString(l) {
			return false
		}
	}
	return true
}

// parseDomains parses configuration entries.
func parseDomains(entries []string) (domainList, error) {
	var out domainList
	for _, e := range entries {
		e = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(e)), ".")
		r := domainRule{domain: e}
		if rest, ok := strings.CutPrefix(e, "*."); ok {
			r = domainRule{domain: rest, sub: true}
		}
		if !validDomain(r.domain) {
			return nil, fmt.Errorf("%q is not a domain like example.com or *.example.com", e)
		}
		out = append(out, r)
	}
	return out, nil
}

// match reports whether domain (normalised) matches any rule.
func (l domainList) match(domain string) bool {
	for _, r := range l {
		if r.sub {
			if strings.HasSuffix(domain, "."+r.domain) {
				return true
			}
		} else if domain == r.domain {
			return true
		}
	}
	return false
}

var errBadEmail = errors.New("bad email")

// splitEmail returns the address with ASCII letters in lower case, and its
// domain. It accepts the plain local@domain form only: no display names,
// quotes, comments or whitespace, an ASCII host name as domain.
//
// Only ASCII letters are folded: Unicode case mapping turns some non-ASCII
// letters into ASCII ones (U+212A KELVIN SIGN into "k", U+0130 into "i"),
// so "ceo@wor\u212A.com" would pass for ceo@work.com in the domain rules and
// in the address an invite is bound to.
func splitEmail(addr string) (normalized, domain string, err error) {
	if len(addr) > 254 {
		return "", "", errBadEmail
	}
	a := asciiLower(addr)
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at > 64 || at == len(a)-1 {
		return "", "", errBadEmail
	}
	local, dom := a[:at], strings.TrimSuffix(a[at+1:], ".")
	for _, r := range local {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`"(),:;<>@[\]`, r) {
			return "", "", errBadEmail
		}
	}
	if !validDomain(dom) {
		return "", "", errBadEmail
	}
	return local + "@" + dom, dom, nil
}

// asciiLower maps A-Z to a-z and leaves every other character as it is.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// validE164 reports whether p is an E.164 number: "+", a non-zero digit,
// and 7 to 15 digits in all.
func validE164(p string) bool { return e164RE.MatchString(p) }

// NormalizeEmail returns addr as the policy compares it (ASCII lower case, no
// trailing dot on the domain), or an error when it is not a plain
// local@domain address. Invites bound to an address store this form.
func NormalizeEmail(addr string) (string, error) {
	n, _, err := splitEmail(addr)
	if err != nil {
		return "", fmt.Errorf("%q is not a plain email address like user@example.com", addr)
	}
	return n, nil
}
