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
		if seen&bit != 0 {
			return fmt.Errorf("%w: duplicate header parameter %q", ErrMalformed, name)
		}
		seen |= bit
		v, err := s.str()
		if err != nil {
			return fmt.Errorf("%w: header parameter %q is not a string", ErrMalformed, name)
		}
		*dst = v
		return nil
	})
	switch {
	case err == nil:
	case errors.Is(err, ErrHeader), errors.Is(err, ErrMalformed):
		return h, err
	default:
		return h, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	if seen&1 == 0 {
		return h, fmt.Errorf("%w: header has no alg", ErrMalformed)
	}
	return h, nil
}
