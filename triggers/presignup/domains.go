package presignup

import (
	"fmt"
	"regexp"

	"github.com/shortfuse/shortfuse/triggers/emailaddr"
)

var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// validE164 reports whether p is an E.164 number: "+", a non-zero digit,
// and 7 to 15 digits in all.
func validE164(p string) bool { return e164RE.MatchString(p) }

// NormalizeEmail returns addr as the policy compares it (ASCII lower case),
// or an error when package emailaddr refuses it (non-ASCII characters, a
// trailing dot, anything but a plain local@domain). Invites bound to an
// address store this form.
func NormalizeEmail(addr string) (string, error) {
	a, err := emailaddr.Parse(addr)
	if err != nil {
		return "", fmt.Errorf("%q is %v", addr, err)
	}
	return a.Norm, nil
}
