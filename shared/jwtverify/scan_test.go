package jwtverify

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzParseClaims checks the claims scanner against encoding/json: whatever
// the scanner accepts is valid JSON and decodes to the same values.
func FuzzParseClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"https://x","sub":"u","aud":["a","b"],"exp":1800000000,"iat":1.5,"nbf":0,"token_use":"id"}`,
		`{"aud":"a","cognito:groups":["g1"],"cognito:username":"alice","username":"bob","groups":[]}`,
		`{"sub":"\u00e9\ud83d\ude00\n\"\\\/","x":{"y":[1,-2.5e-3,true,false,null,{}]}}`,
		` { "exp" : 1e3 , "auth_time": 12 } `,
		`{"sub":1}`, `{"exp":"1"}`, `{"sub":"a","sub":"b"}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`,
		`{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":[1,]}`, `{,}`, `{}`, `[]`, `null`, `{"a":nul}`,
		`{"exp":1e400}`, `{"exp":-0}`, `{"a":"\u0000"}`, "{\"a\":\"\t\"}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, seen, err := parseClaims(in)
		if err != nil {
			if c != nil {
				t.Fatal("claims with an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrClaims) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !json.Valid([]byte(in)) {
			t.Fatalf("scanner accepted invalid JSON %q", in)
		}
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(in))
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		str := func(name string, got string, bit uint32) {
			v, ok := m[name]
			if ok != (seen&bit != 0) {
				t.Fatalf("%s presence: scanner %v, json %v", name, seen&bit != 0, ok)
			}
			if ok && v != got {
				t.Fatalf("%s: scanner %q, json %q", name, got, v)
			}
		}
		str("iss", c.Issuer, hasIss)
		str("sub", c.Subject, hasSub)
		str("jti", c.JTI, hasJTI)
		str("client_id", c.ClientID, hasClientID)
		str("token_use", c.TokenUse, hasTokenUse)
		str("origin_jti", c.OriginJTI, hasOriginJTI)
		str("sid", c.SessionID, hasSID)
		str("email", c.Email, hasEmail)
		str("scope", c.Scope, hasScope)
		str("locale", c.Locale, hasLocale)
		date := func(name string, got time.Time, bit uint32) {
			v, ok := m[name]
			if ok != (seen&bit != 0) {
				t.Fatalf("%s presence differs", name)
			}
			if !ok {
				return
			}
			f := v.(float64)
			sec, frac := math.Modf(f)
			if want := time.Unix(int64(sec), int64(frac*1e9)); !want.Equal(got) {
				t.Fatalf("%s: scanner %v, json %v", name, got, want)
			}
		}
		date("exp", c.ExpiresAt, hasExp)
		date("nbf", c.NotBefore, hasNbf)
		date("iat", c.IssuedAt, hasIat)
		date("auth_time", c.AuthTime, hasAuthTime)
		list := func(v any) []string {
			if s, ok := v.(string); ok {
				return []string{s}
			}
			out := []string{}
			for _, e := range v.([]any) {
				out = append(out, e.(string))
			}
			return out
		}
		if v, ok := m["aud"]; ok && !reflect.DeepEqual(list(v), c.Audience) {
			t.Fatalf("aud: scanner %q, json %q", c.Audience, v)
		}
		wantGroups, ok := m["cognito:groups"]
		if !ok {
			wantGroups, ok = m["groups"]
		}
		if ok && !reflect.DeepEqual(list(wantGroups), c.Groups) {
			t.Fatalf("groups: scanner %q, json %q", c.Groups, wantGroups)
		}
	})
}

func TestParseHeader(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want error
		alg  string
	}{
		{`{"alg":"RS256","kid":"k"}`, nil, "RS256"},
		{`{"kid":"k","alg":"RS256","x5t":"z","typ":"JWT"}`, nil, "RS256"},
		{`{"alg":"RS256","Alg":"none"}`, nil, "RS256"},
		{`{"ALG":"RS256"}`, ErrMalformed, ""},
		{`{"alg":"RS256","alg":"RS256"}`, ErrMalformed, ""},
		{`{"alg":null}`, ErrMalformed, ""},
		{`{"alg":"RS256","crit":null}`, ErrHeader, ""},
		{`{"alg":"RS256","jwk":{}}`, ErrHeader, ""},
		{`{"alg":"RS256"`, ErrMalformed, ""},
		{`{"alg":"RS256"} {}`, ErrMalformed, ""},
		{``, ErrMalformed, ""},
	} {
		h, err := parseHeader(tt.in)
		if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("parseHeader(%s) error = %v, want %v", tt.in, err, tt.want)
			continue
		}
		if err == nil && h.alg != tt.alg {
			t.Errorf("parseHeader(%s) alg = %q", tt.in, h.alg)
		}
	}
}

func TestASN1Signature(t *testing.T) {
	sig := make([]byte, 64)
	sig[0] = 0x80 // high bit: a zero byte must be prepended
	sig[63] = 1   // s = 1: leading zeros stripped
	der := asn1Signature(nil, sig)
	if len(der) != 2+2+33+2+1 || der[1] != byte(len(der)-2) || der[4] != 0 || der[len(der)-1] != 1 {
		t.Fatalf("DER % x", der)
	}
}
