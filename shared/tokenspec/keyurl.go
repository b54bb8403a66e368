package tokenspec

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CheckKeyURL applies the one rule for every URL keys are fetched from (a
// JWK Set, or an issuer from which one is derived): an absolute https URL,
// or http on a loopback host (localhost, 127.0.0.0/8, ::1) for the local
// stack. Keys fetched in clear text over a network could be replaced in
// transit, and with them every token accepted.
func CheckKeyURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("not an absolute URL")
	}
	if u.User != nil {
		return errors.New("must not hold credentials")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("must use https (http only on a loopback host)")
	default:
		return fmt.Errorf("scheme %q is not https", u.Scheme)
	}
}

// IsLoopback reports whether host (without port) names this machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
