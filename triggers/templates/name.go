package templates

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/shortfuse/shortfuse/shared/config"
)

// A name is the one piece of user-supplied free text a template can show.
// Anyone can sign up with someone else's address and a name such as "Your
// account is locked, call +1 555 0100 or visit evil.example", so messages to
// an address that is not verified yet (the confirmation of a sign-up, a
// resent code, the verification of a changed address, an admin-created
// account) follow NameMode; messages to verified addresses show the name as
// the owner set it, escaped and cut to MaxName.

// NameMode says what messages to unverified addresses show of the name
// (SHORTFUSE_MESSAGE_UNVERIFIED_NAME).
type NameMode string

// Name modes.
const (
	NameNone  NameMode = "none"  // no name at all (default)
	NameShort NameMode = "short" // SafeName: at most two words of letters, MaxSafeName characters
	NameFull  NameMode = "full"  // as for verified addresses; lets strangers put text in mails
)

// UnverifiedSources are the Cognito message sources that go to an address
// not verified yet.
var UnverifiedSources = []Source{SignUp, ResendCode, UpdateUserAttribute, VerifyUserAttribute, AdminCreateUser}

// IsUnverified reports whether src goes to an address not verified yet.
func IsUnverified(src Source) bool {
	for _, s := range UnverifiedSources {
		if s == src {
			return true
		}
	}
	return false
}

// LoadNameMode reads SHORTFUSE_MESSAGE_UNVERIFIED_NAME; problems are
// recorded in env.
func LoadNameMode(env *config.Env) NameMode {
	return NameMode(env.OneOf("SHORTFUSE_MESSAGE_UNVERIFIED_NAME", string(NameNone), string(NameNone), string(NameShort), string(NameFull)))
}

// ForUnverified returns what a message to an unverified address shows of name.
func (m NameMode) ForUnverified(name string) string {
	switch m {
	case NameFull:
		return name
	case NameShort:
		return SafeName(name)
	default:
		return ""
	}
}

// Bounds of SafeName.
const (
	MaxSafeName  = 20 // runes
	maxSafeWords = 2
)

var (
	// Applied in order to the NFKC form, so full-width and other
	// compatibility characters are caught too.
	reEmail  = regexp.MustCompile(`\S*@\S*`)
	reURL    = regexp.MustCompile(`(?i)\S*(?:://|www\.)\S*`)
	reDomain = regexp.MustCompile(`(?i)[\pL\pN_-]+(?:\s*(?:[.,\x{3002}]|\[\s*\.\s*\]|\(\s*\.\s*\)|\[dot\]|\(dot\)|\s+dot\s+)\s*[\pL\pN_-]+)+`)
	reDigits = regexp.MustCompile(`\S*\pN\S*`)
)

// SafeName returns what is left of name once everything that looks like a
// link, a domain, an email address, a phone number or a street address is
// gone: words with a digit are dropped (phone and house numbers), as are
// words joined by dots (domains, "evil[.]example"), anything with "@", "://"
// or "www."; of the rest only letters, marks, hyphens and apostrophes stay,
// at most two words and MaxSafeName characters. The result may be empty.
func SafeName(name string) string {
	s := norm.NFKC.String(strings.ToValidUTF8(name, " "))
	s = oneLine(s)
	for _, re := range []*regexp.Regexp{reEmail, reURL, reDomain, reDigits} {
		s = re.ReplaceAllString(s, " ")
	}
	words := strings.FieldsFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || r == '-' || r == '\'' || r == '\u2019')
	})
	var out []string
	n := 0
	for _, w := range words {
		w = strings.Trim(w, "-'\u2019")
		if w == "" {
			continue
		}
		if len(out) == maxSafeWords {
			break
		}
		if n+len([]rune(w))+len(out) > MaxSafeName {
			if len(out) == 0 {
				out = append(out, cut(w, MaxSafeName))
			}
			break
		}
		out = append(out, w)
		n += len([]rune(w))
	}
	return strings.Join(out, " ")
}
