package presignup

import (
	"strings"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/triggers/domains"
)

// Config is the sign-up policy.
type Config struct {
	// Domains is the allow and deny policy
	// (SHORTFUSE_SIGNUP_ALLOWED_DOMAINS, SHORTFUSE_SIGNUP_DENIED_DOMAINS; see
	// package domains): a bare denied domain covers its subdomains, a bare
	// allowed one only itself. The custom message trigger applies the same
	// policy to changed addresses.
	Domains domains.Policy
	// InviteRequired refuses self-service sign-ups without a valid invite
	// code (SHORTFUSE_SIGNUP_INVITE_REQUIRED).
	InviteRequired bool
	// AutoConfirm confirms sign-ups from these domains without a code
	// (SHORTFUSE_SIGNUP_AUTOCONFIRM_DOMAINS). The email stays unverified.
	AutoConfirm domains.List
	// AutoVerify confirms sign-ups from these domains and marks their email
	// verified (SHORTFUSE_SIGNUP_AUTOVERIFY_DOMAINS). Only for domains whose
	// mailboxes cannot be claimed by strangers, e.g. behind your own SSO.
	AutoVerify domains.List
	// AutoConfirmInvited confirms users who signed up with a valid invite,
	// and verifies their email when the invite was bound to that address
	// (SHORTFUSE_SIGNUP_AUTOCONFIRM_INVITED, default true).
	AutoConfirmInvited bool
	// External says whether first sign-ins through an external identity
	// provider may create users: "allow" or "deny"
	// (SHORTFUSE_SIGNUP_EXTERNAL; default deny when invites are required,
	// since an external sign-up cannot present one, else allow).
	External string
	// PhonePrefixes, when set, limits phone_number to these E.164 prefixes,
	// e.g. "+1,+44,+49" (SHORTFUSE_SIGNUP_PHONE_PREFIXES).
	PhonePrefixes []string
}

// LoadConfig reads the policy; problems are recorded in env.
func LoadConfig(env *config.Env) Config {
	c := Config{
		Domains:            domains.LoadPolicy(env),
		InviteRequired:     env.Bool("SHORTFUSE_SIGNUP_INVITE_REQUIRED", false),
		AutoConfirm:        domains.LoadList(env, "SHORTFUSE_SIGNUP_AUTOCONFIRM_DOMAINS", domains.Exact),
		AutoVerify:         domains.LoadList(env, "SHORTFUSE_SIGNUP_AUTOVERIFY_DOMAINS", domains.Exact),
		AutoConfirmInvited: env.Bool("SHORTFUSE_SIGNUP_AUTOCONFIRM_INVITED", true),
		PhonePrefixes:      env.List("SHORTFUSE_SIGNUP_PHONE_PREFIXES", nil),
	}
	def := "allow"
	if c.InviteRequired {
		def = "deny"
	}
	c.External = env.OneOf("SHORTFUSE_SIGNUP_EXTERNAL", def, "allow", "deny")
	for _, p := range c.PhonePrefixes {
		if !strings.HasPrefix(p, "+") || len(p) < 2 || len(p) > 8 || strings.Trim(p[1:], "0123456789") != "" || p[1] == '0' {
			env.Fail("SHORTFUSE_SIGNUP_PHONE_PREFIXES", "%q is not an E.164 prefix like +44", p)
		}
	}
	return c
}

// ParseDomains reads rules as LoadConfig reads allow, auto-confirm and
// auto-verify lists (a bare domain is exact); tests and tools build a
// Config with it. Deny lists: domains.Parse with domains.WithSubdomains.
func ParseDomains(entries ...string) (domains.List, error) {
	return domains.Parse(entries, domains.Exact)
}
