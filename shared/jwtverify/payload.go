package jwtverify

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Claim presence bits.
const (
	hasIss uint32 = 1 << iota
	hasSub
	hasAud
	hasExp
	hasNbf
	hasIat
	hasJTI
	hasClientID
	hasTokenUse
	hasOriginJTI
	hasSID
	hasUsername
	hasCognitoUsername
	hasEmail
	hasGroups
	hasCognitoGroups
	hasScope
	hasLocale
	hasAuthTime
	hasACR
	hasAMR
	hasCnf
)

// maxNumericDate bounds NumericDate values (year 5138): far beyond any real
// token, and small enough that conversion to time.Time is exact.
const maxNumericDate = 1e11

// parseClaims decodes a claims set. It fails with ErrClaims when a claim
// shortfuse reads has the wrong JSON type or appears twice, and with
// ErrMalformed when the payload is not a JSON object.
func parseClaims(b string) (*Claims, uint32, error) {
	c := new(Claims)
	var seen uint32
	var username, cognitoUsername string
	var groups, cognitoGroups []string
	s := scanner{b: b}
	err := s.object(func(name string) error {
		var bit uint32
		var str *string
		var date *time.Time
		switch name {
		case "iss":
			bit, str = hasIss, &c.Issuer
		case "sub":
			bit, str = hasSub, &c.Subject
		case "jti":
			bit, str = hasJTI, &c.JTI
		case "client_id":
			bit, str = hasClientID, &c.ClientID
		case "token_use":
			bit, str = hasTokenUse, &c.TokenUse
		case "origin_jti":
			bit, str = hasOriginJTI, &c.OriginJTI
		case "sid":
			bit, str = hasSID, &c.SessionID
		case "username":
			bit, str = hasUsername, &username
		case "cognito:username":
			bit, str = hasCognitoUsername, &cognitoUsername
		case "email":
			bit, str = hasEmail, &c.Email
		case "scope":
			bit, str = hasScope, &c.Scope
		case "locale":
			bit, str = hasLocale, &c.Locale
		case "exp":
			bit, date = hasExp, &c.ExpiresAt
		case "nbf":
			bit, date = hasNbf, &c.NotBefore
		case "iat":
			bit, date = hasIat, &c.IssuedAt
		case "auth_time":
			bit, date = hasAuthTime, &c.AuthTime
		case "acr":
			bit, str = hasACR, &c.ACR
		case "amr":
			bit = hasAMR
		case "cnf":
			bit = hasCnf
		case "aud":
			bit = hasAud
		case "groups":
			bit = hasGroups
		case "cognito:groups":
			bit = hasCognitoGroups
		default:
			return s.skip(0)
		}
		if seen&bit != 0 {
			return fmt.Errorf("%w: duplicate claim %q", ErrClaims, name)
		}
		seen |= bit
		var err error
		switch {
		case str != nil:
			*str, err = s.str()
		case date != nil:
			*date, err = s.numericDate()
		case bit == hasAud:
			// A single audience may be a string (RFC 7519 §4.1.3).
			if s.peek() == '"' {
				var a string
				a, err = s.str()
				c.Audience = []string{a}
			} else {
				c.Audience, err = s.strArray()
			}
		case bit == hasGroups:
			groups, err = s.strArray()
		case bit == hasAMR:
			c.AMR, err = s.strArray()
		case bit == hasCnf:
			c.JKT, err = s.confirmation()
		default:
			cognitoGroups, err = s.strArray()
		}
		if errors.Is(err, errType) {
			return fmt.Errorf("%w: claim %q has the wrong type", ErrClaims, name)
		}
		return err
	})
	switch {
	case err == nil:
	case errors.Is(err, ErrClaims):
		return nil, 0, err
	default:
		return nil, 0, fmt.Errorf("%w: claims are not a JSON object", ErrMalformed)
	}
	c.Username = username
	if seen&hasCognitoUsername != 0 {
		c.Username = cognitoUsername
	}
	c.Groups = groups
	if seen&hasCognitoGroups != 0 {
		c.Groups = cognitoGroups
	}
	return c, seen, nil
}

// numericDate reads an RFC 7519 NumericDate: a JSON number of seconds,
// possibly fractional.
func (s *scanner) numericDate() (time.Time, error) {
	f, err := s.num()
	if err != nil {
		return time.Time{}, err
	}
	if f < 0 || f >= maxNumericDate {
		return time.Time{}, errType
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// confirmation reads a cnf claim (RFC 7800): an object whose jkt member,
// when present, must be a non-empty string. Other confirmation methods are
// not supported, so a cnf without jkt is refused rather than ignored: the
// token is bound to something this verifier cannot check.
func (s *scanner) confirmation() (string, error) {
	if s.peek() != '{' {
		return "", errType
	}
	var jkt string
	seen := false
	err := s.members(func(name string) error {
		if name != "jkt" {
			return errType
		}
		if seen {
			return errType
		}
		seen = true
		v, err := s.str()
		jkt = v
		return err
	})
	if err != nil {
		return "", err
	}
	if jkt == "" {
		return "", errType
	}
	return jkt, nil
}
