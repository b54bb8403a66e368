package jwtverify_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// pool is a test user pool: its issuer and its own key set.
func pool(t testing.TB, iss string) *jwttest.Issuer {
	p := fixedIssuer(t, jwtverify.RS256)
	p.Issuer = iss
	return p
}

// staticKeys serves each issuer its own pool's keys, and counts lookups.
func staticKeys(pools ...*jwttest.Issuer) (jwtverify.KeysFor, map[string]int) {
	calls := map[string]int{}
	return func(is tokenspec.Issuer) (jwtverify.KeySource, error) {
		calls[is.URL]++
		for _, p := range pools {
			if p.Issuer == is.URL {
				return p.Keys(), nil
			}
		}
		return nil, errors.New("no such pool")
	}, calls
}

func TestNewFromSpecsKinds(t *testing.T) {
	a := pool(t, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A")
	b := pool(t, "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_B")
	other := pool(t, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_C")
	svc := fixedIssuer(t, jwtverify.ES256)
	issuers := []tokenspec.Issuer{{URL: a.Issuer}, {URL: b.Issuer}}
	clients := []string{a.ClientID}
	now := func() time.Time { return testNow }
	keys, calls := staticKeys(a, b)
	id := tokenspec.CognitoIDToken(issuers, clients, time.Minute, 5*time.Second)
	access := tokenspec.CognitoAccessToken(issuers, clients, time.Minute, 5*time.Second)

	idOnly, err := jwtverify.NewFromSpecs(keys, now, id)
	if err != nil {
		t.Fatal(err)
	}
	accessOnly, err := jwtverify.NewFromSpecs(keys, now, access)
	if err != nil {
		t.Fatal(err)
	}
	both, err := jwtverify.NewFromSpecs(keys, now, id, access)
	if err != nil {
		t.Fatal(err)
	}
	if calls[a.Issuer] != 3 || calls[b.Issuer] != 3 {
		t.Fatalf("key sources built %v, want one per issuer per verifier", calls)
	}
	svcKeys, _ := staticKeys(svc)
	service, err := jwtverify.NewFromSpecs(svcKeys, now, tokenspec.ServiceAccessToken(tokenspec.Issuer{URL: svc.Issuer}, []string{svc.Audience}, []string{svc.ClientID}, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := service.(*jwtverify.Verifier); !ok {
		t.Fatalf("one spec, one issuer: %T, want a plain *Verifier", service)
	}

	// b's tokens signed with a's key: a token claiming pool B must be
	// verified with pool B's keys only.
	crossed := func(tok func(map[string]any) string) string { return tok(map[string]any{"iss": b.Issuer}) }

	for _, tc := range []struct {
		name  string
		token string
		// want per verifier: nil accepts
		id, access, both, service error
	}{
		{"ID token, pool A", a.CognitoIDToken(nil), nil, jwtverify.ErrTokenUse, nil, jwtverify.ErrHeader},
		{"ID token, pool B (multi-Region form)", b.CognitoIDToken(nil), nil, jwtverify.ErrTokenUse, nil, jwtverify.ErrHeader},
		{"access token, pool A", a.CognitoAccessToken(nil), jwtverify.ErrTokenUse, nil, nil, jwtverify.ErrHeader},
		{"access token, pool B", b.CognitoAccessToken(nil), jwtverify.ErrTokenUse, nil, nil, jwtverify.ErrHeader},
		{"service access token", svc.AccessToken(nil), jwtverify.ErrIssuer, jwtverify.ErrIssuer, jwtverify.ErrIssuer, nil},
		{"service access token naming pool A", svc.AccessToken(map[string]any{"iss": a.Issuer}), jwtverify.ErrAlgorithm, jwtverify.ErrAlgorithm, jwtverify.ErrAlgorithm, jwtverify.ErrIssuer},

		{"access token with aud", a.CognitoAccessToken(map[string]any{"aud": a.ClientID}), jwtverify.ErrTokenUse, jwtverify.ErrAudience, jwtverify.ErrAudience, jwtverify.ErrHeader},
		{"access token of another client", a.CognitoAccessToken(map[string]any{"client_id": "other"}), jwtverify.ErrTokenUse, jwtverify.ErrAudience, jwtverify.ErrAudience, jwtverify.ErrHeader},
		{"access token without client_id", a.CognitoAccessToken(map[string]any{"client_id": nil}), jwtverify.ErrTokenUse, jwtverify.ErrAudience, jwtverify.ErrAudience, jwtverify.ErrHeader},
		{"access token naming no user (client credentials)", a.CognitoAccessToken(map[string]any{"username": nil}), jwtverify.ErrTokenUse, jwtverify.ErrNoUser, jwtverify.ErrNoUser, jwtverify.ErrHeader},
		{"access token with an empty username", a.CognitoAccessToken(map[string]any{"username": ""}), jwtverify.ErrTokenUse, jwtverify.ErrNoUser, jwtverify.ErrNoUser, jwtverify.ErrHeader},
		{"ID token of another client", a.CognitoIDToken(map[string]any{"aud": "other"}), jwtverify.ErrAudience, jwtverify.ErrTokenUse, jwtverify.ErrAudience, jwtverify.ErrHeader},
		{"ID token with client_id, no aud", a.CognitoIDToken(map[string]any{"aud": nil, "client_id": a.ClientID}), jwtverify.ErrAudience, jwtverify.ErrTokenUse, jwtverify.ErrAudience, jwtverify.ErrHeader},
		{"no token_use", a.CognitoAccessToken(map[string]any{"token_use": nil}), jwtverify.ErrTokenUse, jwtverify.ErrTokenUse, jwtverify.ErrTokenUse, jwtverify.ErrHeader},
		{"token_use refresh", a.CognitoAccessToken(map[string]any{"token_use": "refresh"}), jwtverify.ErrTokenUse, jwtverify.ErrTokenUse, jwtverify.ErrTokenUse, jwtverify.ErrHeader},
		{"access token typ at+jwt", a.Sign(map[string]any{"alg": "RS256", "kid": a.KID, "typ": "at+jwt"}, claimsOf(t, a.CognitoAccessToken(nil))), jwtverify.ErrHeader, jwtverify.ErrHeader, jwtverify.ErrHeader, jwtverify.ErrUnknownKey},
		{"access token too old", a.CognitoAccessToken(map[string]any{"iat": testNow.Add(-2 * time.Minute).Unix()}), jwtverify.ErrTokenUse, jwtverify.ErrTooOld, jwtverify.ErrTooOld, jwtverify.ErrHeader},

		{"pool B ID token signed with pool A's key", crossed(a.CognitoIDToken), jwtverify.ErrUnknownKey, jwtverify.ErrUnknownKey, jwtverify.ErrUnknownKey, jwtverify.ErrHeader},
		{"pool B access token signed with pool A's key", crossed(a.CognitoAccessToken), jwtverify.ErrUnknownKey, jwtverify.ErrUnknownKey, jwtverify.ErrUnknownKey, jwtverify.ErrHeader},
		{"unknown pool", other.CognitoIDToken(nil), jwtverify.ErrIssuer, jwtverify.ErrIssuer, jwtverify.ErrIssuer, jwtverify.ErrHeader},
		{"pool A's id in the multi-Region form", a.CognitoIDToken(map[string]any{"iss": "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A"}), jwtverify.ErrIssuer, jwtverify.ErrIssuer, jwtverify.ErrIssuer, jwtverify.ErrHeader},
		{"pool B in another region", b.CognitoIDToken(map[string]any{"iss": "https://issuer-cognito-idp.eu-west-1.amazonaws.com/us-east-1_B"}), jwtverify.ErrIssuer, jwtverify.ErrIssuer, jwtverify.ErrIssuer, jwtverify.ErrHeader},
		{"no iss", a.CognitoIDToken(map[string]any{"iss": nil}), jwtverify.ErrIssuer, jwtverify.ErrIssuer, jwtverify.ErrIssuer, jwtverify.ErrHeader},
		{"iss not a string", a.CognitoIDToken(map[string]any{"iss": 7}), jwtverify.ErrClaims, jwtverify.ErrClaims, jwtverify.ErrClaims, jwtverify.ErrHeader},
		{"malformed", "a.b", jwtverify.ErrMalformed, jwtverify.ErrMalformed, jwtverify.ErrMalformed, jwtverify.ErrMalformed},
	} {
		for _, v := range []struct {
			name string
			v    jwtverify.TokenVerifier
			want error
		}{{"id", idOnly, tc.id}, {"access", accessOnly, tc.access}, {"id,access", both, tc.both}, {"service", service, tc.service}} {
			c, err := v.v.Verify(context.Background(), tc.token)
			switch {
			case v.want == nil && err != nil:
				t.Errorf("%s, %s verifier: %v", tc.name, v.name, err)
			case v.want != nil && err == nil:
				t.Errorf("%s, %s verifier: accepted (%+v)", tc.name, v.name, c)
			case v.want != nil && !errors.Is(err, v.want):
				t.Errorf("%s, %s verifier: %v, want %v", tc.name, v.name, err, v.want)
			case err != nil:
				checkOneSentinel(t, err)
			}
		}
	}
}

func TestNewFromSpecsRefuses(t *testing.T) {
	a := pool(t, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A")
	keys, _ := staticKeys(a)
	is := []tokenspec.Issuer{{URL: a.Issuer}}
	for name, specs := range map[string][]tokenspec.Spec{
		"none":                     nil,
		"no issuer":                {tokenspec.CognitoIDToken(nil, []string{"c"}, 0, 0)},
		"no client":                {tokenspec.CognitoAccessToken(is, nil, 0, 0)},
		"http JWKS":                {tokenspec.CognitoIDToken([]tokenspec.Issuer{{URL: a.Issuer, JWKSURL: "http://keys.example.com/jwks"}}, []string{"c"}, 0, 0)},
		"two JWKS one issuer":      {tokenspec.CognitoIDToken([]tokenspec.Issuer{{URL: a.Issuer, JWKSURL: "https://k1/"}}, []string{"c"}, 0, 0), tokenspec.CognitoAccessToken([]tokenspec.Issuer{{URL: a.Issuer, JWKSURL: "https://k2/"}}, []string{"c"}, 0, 0)},
		"kinds with different typ": {tokenspec.CognitoIDToken(is, []string{"c"}, 0, 0), tokenspec.ServiceAccessToken(is[0], []string{"aud"}, nil, 0)},
	} {
		if _, err := jwtverify.NewFromSpecs(keys, nil, specs...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := jwtverify.RemoteKeys(jwtverify.RemoteOptions{})(tokenspec.Issuer{URL: a.Issuer, JWKSURL: "http://keys.example.com/jwks"}); err == nil {
		t.Error("RemoteKeys accepted an http URL on a network host")
	}
}

// A RemoteJWKS built around the configuration checks never fetches keys in
// clear text over a network.
func TestRemoteJWKSRefusesHTTP(t *testing.T) {
	r := jwtverify.NewRemoteJWKS("http://keys.example.com/.well-known/jwks.json", jwtverify.RemoteOptions{})
	if err := r.Prefetch(context.Background()); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("Prefetch: %v", err)
	}
}

// claimsOf returns the payload of a token minted by jwttest.
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// FuzzSeveralIssuers feeds a two-pool, two-kind verifier (the iss peek and
// the kind choice are new parsing on unverified input): it never panics,
// every refusal wraps one sentinel, and only the seeds, which are validly
// signed, are ever accepted.
func FuzzSeveralIssuers(f *testing.F) {
	a := pool(f, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A")
	b := pool(f, "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_B")
	issuers := []tokenspec.Issuer{{URL: a.Issuer}, {URL: b.Issuer}}
	keys, _ := staticKeys(a, b)
	v, err := jwtverify.NewFromSpecs(keys, func() time.Time { return testNow },
		tokenspec.CognitoIDToken(issuers, []string{a.ClientID}, time.Minute, 0),
		tokenspec.CognitoAccessToken(issuers, []string{a.ClientID}, time.Minute, 0))
	if err != nil {
		f.Fatal(err)
	}
	good := map[string]bool{}
	for _, tok := range []string{a.CognitoIDToken(nil), b.CognitoAccessToken(nil), a.CognitoIDToken(map[string]any{"iss": b.Issuer}), "a.b.c", ""} {
		good[tok] = strings.Count(tok, ".") == 2 && len(tok) > 10
		f.Add(tok)
	}
	delete(good, a.CognitoIDToken(map[string]any{"iss": b.Issuer}))
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(context.Background(), tok)
		if err != nil {
			checkOneSentinel(t, err)
			return
		}
		if c.Issuer != a.Issuer && c.Issuer != b.Issuer {
			t.Fatalf("accepted issuer %q", c.Issuer)
		}
		if !good[tok] {
			t.Fatalf("accepted a token that is not a seed: %q", tok)
		}
	})
}
