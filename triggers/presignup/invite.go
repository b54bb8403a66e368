package presignup

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Invite codes are 16 characters of Crockford's base32 (80 random bits),
// shown in groups of four: "7K3M-QX9D-2PRT-VH4W". Input is forgiving: case,
// hyphens and spaces do not matter, and O, I and L read as 0, 1 and 1.

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Bounds on an invite code after normalisation.
const (
	minInviteCode = 8
	maxInviteCode = 64
	inviteCodeLen = 16
)

// NewInviteCode returns a fresh invite code from crypto/rand.
func NewInviteCode() (string, error) {
	var b [inviteCodeLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(crockford[c&31]) // 256 is a multiple of 32: no bias
	}
	return sb.String(), nil
}

// NormalizeInviteCode returns the canonical form of a code as typed, or
// false when it cannot be one.
func NormalizeInviteCode(s string) (string, bool) {
	if len(s) > 2*maxInviteCode {
		return "", false
	}
	var sb strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		case r > 0x7f || !strings.ContainsRune(crockford, r):
			return "", false
		}
		sb.WriteRune(r)
	}
	n := sb.Len()
	if n < minInviteCode || n > maxInviteCode {
		return "", false
	}
	return sb.String(), true
}

// InviteID returns the stored identifier of a normalised code: its hex
// SHA-256. The first 12 characters equal obs.TokenID(code), so logs and
// listings line up.
func InviteID(normalized string) string {
	sum := sha256.Sum256([]byte(normalized))
	return hex.EncodeToString(sum[:])
}
