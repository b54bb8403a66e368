package jwtverify

import (
	"errors"
	"fmt"
)

// header is the part of a JWS protected header the verifier reads.
type header struct {
	alg    string
	kid    string
	typ    string
	hasTyp bool
}

// parseHeader reads a decoded JWS protected header. Unknown parameters are
// ignored, except those that would make the token name its own key (jku,
// x5u, jwk, x5c), change how it is processed (crit, b64, zip) or nest
// another token (cty): those are refused with ErrHeader.
func parseHeader(b string) (header, error) {
	var h header
	var seen uint8
	s := scanner{b: b}
	err := s.object(func(name string) error {
		var bit uint8
		var dst *string
		switch name {
		case "alg":
			bit, dst = 1, &h.alg
		case "kid":
			bit, dst = 2, &h.kid
		case "typ":
			bit, dst = 4, &h.typ
			h.hasTyp = true
		case "jku", "x5u", "jwk", "x5c", "crit", "cty", "b64", "zip", "enc":
			return fmt.Errorf("%w: header parameter %q", ErrHeader, name)
		default:
			return s.skip(0)
		}
		return s.onceString(&seen, bit, "header parameter", name, dst)
	})
	if err := headerObjectErr(err); err != nil {
		return h, err
	}
	if seen&1 == 0 {
		return h, fmt.Errorf("%w: header has no alg", ErrMalformed)
	}
	return h, nil
}

// markOnce records member name of an object (what says which: "header
// parameter", "jwk member") in seen: a member given twice makes the object
// malformed, whichever value a parser would keep.
func markOnce(seen *uint8, bit uint8, what, name string) error {
	if *seen&bit != 0 {
		return fmt.Errorf("%w: duplicate %s %q", ErrMalformed, what, name)
	}
	*seen |= bit
	return nil
}

// onceString reads the string value of member name into dst, once.
func (s *scanner) onceString(seen *uint8, bit uint8, what, name string, dst *string) error {
	if err := markOnce(seen, bit, what, name); err != nil {
		return err
	}
	v, err := s.str()
	if err != nil {
		return fmt.Errorf("%w: %s %q is not a string", ErrMalformed, what, name)
	}
	*dst = v
	return nil
}

// headerObjectErr keeps the verifier's own errors from scanning a header
// object and reports anything else as a header that is not a JSON object.
func headerObjectErr(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrHeader), errors.Is(err, ErrMalformed):
		return err
	default:
		return fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
}
