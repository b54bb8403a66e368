// Package emailaddr is the one parser of email addresses for the triggers:
// pre sign-up (domain rules, invites), custom message (attribute changes)
// and the invite CLI all read an address through Parse, so an address means
// the same thing everywhere.
//
// Accepted: a plain dot-atom local part and an ASCII host name,
// local@domain, nothing else. Two kinds of variants exist:
//
//   - Forms no mail user types and that only serve to look like another
//     address are refused: any non-ASCII character (which also refuses
//     every Unicode-compatibility (NFKC) variant of an ASCII address, such
//     as full-width letters, ligatures or the Kelvin sign, since NFKC leaves
//     ASCII unchanged; Amazon SES, which Cognito mails through, accepts only
//     7-bit ASCII local parts anyway), a trailing dot on the domain, quoted
//     or commented local parts, display names and whitespace.
//   - Forms users do type are normalised the same way everywhere: ASCII
//     letters compare in lower case (Norm), and for "is this the same
//     person" questions a "+tag" suffix of the local part is dropped (Seat).
//     Dots inside local parts are kept: only some providers ignore them.
package emailaddr

import (
	"errors"
	"regexp"
	"strings"
)

// Address is a parsed email address.
type Address struct {
	// Norm is the address with ASCII letters in lower case: what domain
	// rules and bound invites compare.
	Norm string
	// Domain is Norm's domain.
	Domain string
	// Seat is Norm without a "+tag" on the local part: one mailbox owner,
	// whichever tag they add. Invites key their uses on it.
	Seat string
}

// ErrInvalid is returned for every address Parse refuses.
var ErrInvalid = errors.New("not a plain email address like user@example.com")

// Bounds from RFC 5321.
const (
	MaxLen      = 254
	maxLocal    = 64
	maxDomain   = 253
	atextSymbol = "!#$%&'*+-/=?^_`{|}~"
)

var labelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidDomain reports whether d is a lower-case ASCII host name with at
// least two labels and no trailing dot (internationalised names in their
// xn-- form).
func ValidDomain(d string) bool {
	if d == "" || len(d) > maxDomain {
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

// Parse reads addr; see the package comment for what it accepts.
func Parse(addr string) (Address, error) {
	if len(addr) > MaxLen {
		return Address{}, ErrInvalid
	}
	for i := 0; i < len(addr); i++ {
		if addr[i] >= 0x80 {
			return Address{}, ErrInvalid
		}
	}
	a := asciiLower(addr)
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at > maxLocal {
		return Address{}, ErrInvalid
	}
	local, dom := a[:at], a[at+1:]
	if !validLocal(local) || !ValidDomain(dom) {
		return Address{}, ErrInvalid
	}
	seat := local
	if i := strings.IndexByte(local, '+'); i > 0 {
		seat = local[:i]
	}
	return Address{Norm: local + "@" + dom, Domain: dom, Seat: seat + "@" + dom}, nil
}

// validLocal reports whether l is a dot-atom: atext characters in
// dot-separated, non-empty runs.
func validLocal(l string) bool {
	if l == "" || l[0] == '.' || l[len(l)-1] == '.' || strings.Contains(l, "..") {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.':
		case strings.IndexByte(atextSymbol, c) >= 0:
		default:
			return false
		}
	}
	return true
}

// asciiLower maps A-Z to a-z and leaves every other byte as it is. Only
// ASCII is folded: Unicode case mapping turns some non-ASCII letters into
// ASCII ones (U+212A KELVIN SIGN into "k").
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}
