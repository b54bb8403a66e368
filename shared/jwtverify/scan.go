package jwtverify

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads the JSON of a JWS header or JWT claims set. It exists
// because encoding/json matches field names case-insensitively, keeps the
// last of duplicate members and costs about as much as the signature check
// on the hot path. It accepts a subset of what encoding/json accepts (no
// invalid UTF-8, no lone surrogates) and yields the same values.
type scanner struct {
	b string
	i int
}

var errSyntax = errors.New("invalid JSON")

// maxDepth bounds nesting in skipped values.
const maxDepth = 32

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// object calls member for each member of the object at the cursor, with the
// decoded name; member must consume the value. The object must be the whole
// input.
func (s *scanner) object(member func(name string) error) error {
	if err := s.members(member); err != nil {
		return err
	}
	return s.end()
}

// members is object for an object that may be followed by more input (a
// nested object).
func (s *scanner) members(member func(name string) error) error {
	if s.peek() != '{' {
		return errSyntax
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			return errSyntax
		}
		name, err := s.rawStr()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return errSyntax
		}
		s.i++
		s.ws()
		if err := member(name); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return errSyntax
	}
	return nil
}

// str reads a string value.
func (s *scanner) str() (string, error) {
	if s.peek() != '"' {
		return "", errType
	}
	return s.rawStr()
}

// rawStr reads the string at the cursor (which is '"'). Without escapes the
// result is a substring of the input.
func (s *scanner) rawStr() (string, error) {
	s.i++ // opening quote
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			if !utf8.ValidString(out) {
				return "", errSyntax
			}
			return out, nil
		case c == '\\':
			return s.strEscaped(start)
		case c < 0x20:
			return "", errSyntax
		}
		s.i++
	}
	return "", errSyntax
}

// strEscaped finishes a string that holds escapes, decoding into a copy.
func (s *scanner) strEscaped(start int) (string, error) {
	out := []byte(s.b[start:s.i])
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				return "", errSyntax
			}
			return string(out), nil
		case c < 0x20:
			return "", errSyntax
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return "", errSyntax
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", errSyntax
			}
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by an escaped low one
				// makes a character; reject lone halves outright.
				if s.i+1 >= len(s.b) || s.b[s.i] != '\\' || s.b[s.i+1] != 'u' {
					return "", errSyntax
				}
				s.i += 2
				r2, ok := s.hex4()
				if !ok {
					return "", errSyntax
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", errSyntax
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", errSyntax
		}
	}
	return "", errSyntax
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	var r rune
	for k := s.i; k < s.i+4; k++ {
		c := s.b[k]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	s.i += 4
	return r, true
}

// num reads a number value.
func (s *scanner) num() (float64, error) {
	c := s.peek()
	if c != '-' && (c < '0' || c > '9') {
		return 0, errType
	}
	start := s.i
	if s.b[s.i] == '-' {
		s.i++
	}
	// Integer part: "0" or a non-zero digit and more digits.
	digits := s.digits()
	if digits == 0 || (digits > 1 && s.b[s.i-digits] == '0') {
		return 0, errSyntax
	}
	simple := digits <= 15 && s.b[start] != '-'
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return 0, errSyntax
		}
		simple = false
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return 0, errSyntax
		}
		simple = false
	}
	if simple {
		// Non-negative integers below 10^15, the usual NumericDate, are
		// exact in a float64.
		var n int64
		for k := start; k < s.i; k++ {
			n = n*10 + int64(s.b[k]-'0')
		}
		return float64(n), nil
	}
	f, err := strconv.ParseFloat(s.b[start:s.i], 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, errSyntax
	}
	return f, nil
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// strArray reads an array of strings.
func (s *scanner) strArray() ([]string, error) {
	if s.peek() != '[' {
		return nil, errType
	}
	s.i++
	out := []string{}
	if s.peek() == ']' {
		s.i++
		return out, nil
	}
	for {
		v, err := s.str()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return out, nil
		default:
			return nil, errSyntax
		}
	}
}

// skip reads and discards any value.
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return errSyntax
	}
	switch c := s.peek(); {
	case c == '"':
		_, err := s.rawStr()
		return err
	case c == '-' || ('0' <= c && c <= '9'):
		_, err := s.num()
		return err
	case c == '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return nil
		}
		for {
			if s.peek() != '"' {
				return errSyntax
			}
			if _, err := s.rawStr(); err != nil {
				return err
			}
			if s.peek() != ':' {
				return errSyntax
			}
			s.i++
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return nil
			default:
				return errSyntax
			}
		}
	case c == '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return errSyntax
			}
		}
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(s.b)-s.i >= len(lit) && s.b[s.i:s.i+len(lit)] == lit {
				s.i += len(lit)
				return nil
			}
		}
		return errSyntax
	}
}

// errType marks a value of the wrong JSON type (a mistyped claim), as
// opposed to invalid JSON.
var errType = errors.New("wrong JSON type")
