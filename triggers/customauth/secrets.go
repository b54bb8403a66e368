package customauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Keys are the purpose-bound keys derived from the configured HMAC key, so
// one secret never serves two uses.
type Keys struct {
	link []byte // signs magic links
	code []byte // MACs codes before they are stored
	user []byte // turns a user's identity into a challenge key
}

// NewKeys derives the keys from master, which must have at least MinKeyBytes.
func NewKeys(master []byte) (*Keys, error) {
	if len(master) < MinKeyBytes {
		return nil, errors.New("customauth: key shorter than 32 bytes")
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, master)
		m.Write([]byte("shortfuse/customauth/" + label))
		return m.Sum(nil)
	}
	return &Keys{link: derive("link/v1"), code: derive("code/v1"), user: derive("user/v1")}, nil
}

// userKey is the challenge key of a user: a keyed hash of the sub for a
// known user, of the lower-case username otherwise, so the table holds no
// usernames that someone merely typed.
func (k *Keys) userKey(sub, username string) string {
	m := hmac.New(sha256.New, k.user)
	if sub != "" {
		m.Write([]byte("sub\x00" + sub))
	} else {
		m.Write([]byte("name\x00" + strings.ToLower(username)))
	}
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// codeMAC binds a code to its user and challenge.
func (k *Keys) codeMAC(userKey, cid, code string) []byte {
	m := hmac.New(sha256.New, k.code)
	m.Write([]byte(userKey + "\x00" + cid + "\x00" + code))
	return m.Sum(nil)
}

// newCode returns n uniformly random decimal digits from crypto/rand.
func newCode(n int) (string, error) {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, err := rand.Int(rand.Reader, max)
	if err != nil {
		return "", err
	}
	s := v.String()
	return strings.Repeat("0", n-len(s)) + s, nil
}

// newID returns 128 random bits, base64url: a challenge id and link jti.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// isCode reports whether s is n decimal digits.
func isCode(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// A magic link carries a token: base64url(JSON claims) "." base64url(HMAC).
// The claims name the pool, the username (so the page that receives the link
// can start the sign-in) and the challenge id; the MAC is checked before the
// claims are parsed.
type linkClaims struct {
	V    int    `json:"v"`
	Pool string `json:"p"`
	User string `json:"u"`
	JTI  string `json:"j"`
	Exp  int64  `json:"e"`
}

const (
	maxLinkBase  = 512
	maxLinkToken = 768
)

func (k *Keys) linkMAC(payload string) []byte {
	m := hmac.New(sha256.New, k.link)
	m.Write([]byte("link\x00" + payload))
	return m.Sum(nil)
}

// signLink returns a link token.
func (k *Keys) signLink(c linkClaims) (string, error) {
	c.V = 1
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	tok := payload + "." + base64.RawURLEncoding.EncodeToString(k.linkMAC(payload))
	if len(tok) > maxLinkToken {
		return "", errors.New("customauth: link token too long")
	}
	return tok, nil
}

// Link token errors.
var (
	errLinkMalformed = errors.New("link malformed")
	errLinkSignature = errors.New("link signature invalid")
	errLinkClaims    = errors.New("link not for this user or pool")
	errLinkExpired   = errors.New("link expired")
)

// verifyLink checks a token's MAC, then its claims against the pool, the
// user and now.
func (k *Keys) verifyLink(tok, pool, user string, now time.Time) (linkClaims, error) {
	var c linkClaims
	if len(tok) > maxLinkToken {
		return c, errLinkMalformed
	}
	payload, sig, ok := strings.Cut(tok, ".")
	if !ok || payload == "" {
		return c, errLinkMalformed
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return c, errLinkMalformed
	}
	if !hmac.Equal(mac, k.linkMAC(payload)) {
		return c, errLinkSignature
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return c, errLinkMalformed
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.V != 1 || c.JTI == "" {
		return c, errLinkMalformed
	}
	if c.Pool != pool || c.User != user {
		return c, errLinkClaims
	}
	if now.Unix() >= c.Exp {
		return c, errLinkExpired
	}
	return c, nil
}

// LinkUser returns the username a link token names, without checking it:
// the page that receives a link needs it to start the sign-in, and the
// trigger checks the token when it comes back as the answer.
func LinkUser(tok string) (string, bool) {
	payload, _, ok := strings.Cut(tok, ".")
	if !ok {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", false
	}
	var c linkClaims
	if json.Unmarshal(b, &c) != nil || c.User == "" {
		return "", false
	}
	return c.User, true
}

// linkURL joins the base URL and a token.
func linkURL(base, tok string) string { return base + "#token=" + tok }

// TokenFromLink extracts the token from a magic link.
func TokenFromLink(link string) (string, bool) {
	_, frag, ok := strings.Cut(link, "#")
	if !ok {
		return "", false
	}
	tok, ok := strings.CutPrefix(frag, "token=")
	return tok, ok && tok != ""
}

func itoa(n int) string { return strconv.Itoa(n) }
