package jwtverify_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

var sentinels = []error{
	jwtverify.ErrMalformed, jwtverify.ErrTooLarge, jwtverify.ErrAlgorithm, jwtverify.ErrHeader,
	jwtverify.ErrUnknownKey, jwtverify.ErrSignature, jwtverify.ErrIssuer, jwtverify.ErrAudience,
	jwtverify.ErrTokenUse, jwtverify.ErrExpired, jwtverify.ErrNotYetValid, jwtverify.ErrTooOld,
	jwtverify.ErrClaims, jwtverify.ErrKeysUnavailable,
}

// checkOneSentinel fails unless err wraps exactly one Err value.
func checkOneSentinel(t testing.TB, err error) {
	t.Helper()
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %q wraps %d sentinels, want 1", err, n)
	}
}

var testNow = time.Unix(1_800_000_000, 0)

func fixedIssuer(t testing.TB, alg string) *jwttest.Issuer {
	iss := jwttest.NewIssuer(t, alg)
	iss.Now = func() time.Time { return testNow }
	return iss
}

// idVerifier accepts the issuer's Cognito ID tokens.
func idVerifier(t testing.TB, iss *jwttest.Issuer, edit func(*jwtverify.Config)) *jwtverify.Verifier {
	t.Helper()
	cfg := jwtverify.Config{
		Keys:       iss.Keys(),
		Issuer:     iss.Issuer,
		Audiences:  []string{iss.ClientID},
		TokenUse:   "id",
		Algorithms: []string{iss.Alg},
		Leeway:     30 * time.Second,
		Now:        func() time.Time { return testNow },
	}
	if edit != nil {
		edit(&cfg)
	}
	v, err := jwtverify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// atVerifier accepts the issuer's at+jwt access tokens.
func atVerifier(t testing.TB, iss *jwttest.Issuer, edit func(*jwtverify.Config)) *jwtverify.Verifier {
	t.Helper()
	return idVerifier(t, iss, func(c *jwtverify.Config) {
		c.Audiences = []string{iss.Audience}
		c.ClientIDs = []string{iss.ClientID}
		c.TokenUse = ""
		c.Type = "at+jwt"
		if edit != nil {
			edit(c)
		}
	})
}

func TestVerifyValid(t *testing.T) {
	for _, alg := range []string{jwtverify.RS256, jwtverify.ES256, jwtverify.EdDSA} {
		t.Run(alg, func(t *testing.T) {
			iss := fixedIssuer(t, alg)
			ctx := context.Background()

			c, err := idVerifier(t, iss, nil).Verify(ctx, iss.CognitoIDToken(map[string]any{
				"origin_jti": "o-1", "jti": "j-1", "locale": "de", "auth_time": testNow.Unix() - 100,
			}))
			if err != nil {
				t.Fatal(err)
			}
			want := jwtverify.Claims{
				Issuer: iss.Issuer, Subject: "5b7f3c7e-8d2a-4c1e-9f00-000000000001", Audience: []string{iss.ClientID},
				TokenUse: "id", JTI: "j-1", OriginJTI: "o-1", Username: "alice", Email: "alice@example.com",
				Groups: []string{"users"}, Locale: "de",
				ExpiresAt: testNow.Add(time.Hour), IssuedAt: testNow, AuthTime: testNow.Add(-100 * time.Second),
			}
			if !equalClaims(*c, want) {
				t.Errorf("ID token claims\n got %+v\nwant %+v", *c, want)
			}

			c, err = atVerifier(t, iss, nil).Verify(ctx, iss.AccessToken(map[string]any{
				"sid": "s-1", "jti": "j-2", "groups": []string{"admin", "users"}, "nbf": testNow.Unix(),
			}))
			if err != nil {
				t.Fatal(err)
			}
			want = jwtverify.Claims{
				Issuer: iss.Issuer, Subject: "5b7f3c7e-8d2a-4c1e-9f00-000000000001", Audience: []string{iss.Audience},
				ClientID: iss.ClientID, JTI: "j-2", SessionID: "s-1", Username: "alice",
				Groups: []string{"admin", "users"}, Scope: "openid profile",
				ExpiresAt: testNow.Add(300 * time.Second), NotBefore: testNow, IssuedAt: testNow, AuthTime: testNow,
			}
			if !equalClaims(*c, want) {
				t.Errorf("access token claims\n got %+v\nwant %+v", *c, want)
			}
		})
	}
}

func equalClaims(a, b jwtverify.Claims) bool {
	eq := slices.Equal[[]string]
	return a.Issuer == b.Issuer && a.Subject == b.Subject && eq(a.Audience, b.Audience) && a.ClientID == b.ClientID &&
		a.TokenUse == b.TokenUse && a.JTI == b.JTI && a.OriginJTI == b.OriginJTI && a.SessionID == b.SessionID &&
		a.Username == b.Username && a.Email == b.Email && eq(a.Groups, b.Groups) && a.Scope == b.Scope &&
		a.Locale == b.Locale && a.ExpiresAt.Equal(b.ExpiresAt) && a.NotBefore.Equal(b.NotBefore) &&
		a.IssuedAt.Equal(b.IssuedAt) && a.AuthTime.Equal(b.AuthTime)
}

// TestVerifyRejects runs hostile and merely wrong tokens against an ID
// token verifier (kind "id") or an access token verifier (kind "at").
func TestVerifyRejects(t *testing.T) {
	iss := fixedIssuer(t, jwtverify.RS256)
	other := fixedIssuer(t, jwtverify.RS256) // another key
	ecIss := fixedIssuer(t, jwtverify.ES256) // another algorithm
	now := testNow.Unix()

	hdr := func(extra map[string]any) map[string]any {
		h := map[string]any{"alg": "RS256", "kid": iss.KID}
		for k, v := range extra {
			if v == nil {
				delete(h, k)
			} else {
				h[k] = v
			}
		}
		return h
	}
	idClaims := func(overrides map[string]any) map[string]any {
		c := map[string]any{
			"iss": iss.Issuer, "sub": "u-1", "aud": iss.ClientID, "token_use": "id",
			"iat": now, "exp": now + 3600, "auth_time": now,
		}
		for k, v := range overrides {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	pubPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(iss.Public())
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}()
	good := iss.CognitoIDToken(nil)
	parts := strings.Split(good, ".")
	sameKID := jwttest.NewIssuer(t, jwtverify.RS256) // different key, token claims the first key's kid

	tests := []struct {
		name  string
		kind  string // "id" or "at"
		token string
		want  error
	}{
		{"empty", "id", "", jwtverify.ErrMalformed},
		{"alg none", "id", jwttest.Unsigned(hdr(map[string]any{"alg": "none"}), idClaims(nil)), jwtverify.ErrAlgorithm},
		{"alg None", "id", jwttest.Unsigned(hdr(map[string]any{"alg": "None"}), idClaims(nil)), jwtverify.ErrAlgorithm},
		{"alg NONE", "id", jwttest.Unsigned(hdr(map[string]any{"alg": "NONE"}), idClaims(nil)), jwtverify.ErrAlgorithm},
		{"alg none with a signature", "id", iss.Sign(hdr(map[string]any{"alg": "none"}), idClaims(nil)), jwtverify.ErrAlgorithm},
		{"alg missing", "id", iss.Sign(hdr(map[string]any{"alg": nil}), idClaims(nil)), jwtverify.ErrMalformed},
		{"alg not a string", "id", iss.Sign(hdr(map[string]any{"alg": 256}), idClaims(nil)), jwtverify.ErrMalformed},
		{"alg lower case", "id", iss.Sign(hdr(map[string]any{"alg": "rs256"}), idClaims(nil)), jwtverify.ErrAlgorithm},
		{"HS256 keyed with the RSA public key", "id", jwttest.HMAC(hdr(map[string]any{"alg": "HS256"}), idClaims(nil), pubPEM), jwtverify.ErrAlgorithm},
		{"hs256 keyed with the RSA public key", "id", jwttest.HMAC(hdr(map[string]any{"alg": "hs256"}), idClaims(nil), pubPEM), jwtverify.ErrAlgorithm},
		{"alg not allowed by the verifier", "id", ecIss.Sign(map[string]any{"alg": "ES256", "kid": ecIss.KID}, idClaims(nil)), jwtverify.ErrAlgorithm},
		{"unknown kid", "id", iss.Sign(hdr(map[string]any{"kid": "nope"}), idClaims(nil)), jwtverify.ErrUnknownKey},
		{"kid path traversal", "id", iss.Sign(hdr(map[string]any{"kid": "../../../../etc/passwd"}), idClaims(nil)), jwtverify.ErrUnknownKey},
		{"kid SQL injection", "id", iss.Sign(hdr(map[string]any{"kid": "' OR 1=1 --"}), idClaims(nil)), jwtverify.ErrUnknownKey},
		{"kid missing", "id", iss.Sign(hdr(map[string]any{"kid": nil}), idClaims(nil)), jwtverify.ErrMalformed},
		{"kid empty", "id", iss.Sign(hdr(map[string]any{"kid": ""}), idClaims(nil)), jwtverify.ErrMalformed},
		{"kid not a string", "id", iss.Sign(hdr(map[string]any{"kid": 7}), idClaims(nil)), jwtverify.ErrMalformed},
		{"jku", "id", iss.Sign(hdr(map[string]any{"jku": "https://evil.test/jwks.json"}), idClaims(nil)), jwtverify.ErrHeader},
		{"x5u", "id", iss.Sign(hdr(map[string]any{"x5u": "https://evil.test/cert.pem"}), idClaims(nil)), jwtverify.ErrHeader},
		{"jwk", "id", iss.Sign(hdr(map[string]any{"jwk": map[string]any{"kty": "oct", "k": "AAAA"}}), idClaims(nil)), jwtverify.ErrHeader},
		{"x5c", "id", iss.Sign(hdr(map[string]any{"x5c": []string{"MIIB"}}), idClaims(nil)), jwtverify.ErrHeader},
		{"jku null", "id", iss.Sign(hdr(map[string]any{"jku": []any{}}), idClaims(nil)), jwtverify.ErrHeader},
		{"crit unknown", "id", iss.Sign(hdr(map[string]any{"crit": []string{"exp"}, "exp": now}), idClaims(nil)), jwtverify.ErrHeader},
		{"crit empty", "id", iss.Sign(hdr(map[string]any{"crit": []string{}}), idClaims(nil)), jwtverify.ErrHeader},
		{"b64 false", "id", iss.Sign(hdr(map[string]any{"b64": false}), idClaims(nil)), jwtverify.ErrHeader},
		{"cty JWT (nested)", "id", iss.Sign(hdr(map[string]any{"cty": "JWT"}), idClaims(nil)), jwtverify.ErrHeader},
		{"typ at+jwt on the ID verifier", "id", iss.Sign(hdr(map[string]any{"typ": "at+jwt"}), idClaims(nil)), jwtverify.ErrHeader},
		{"typ application/at+jwt on the ID verifier", "id", iss.Sign(hdr(map[string]any{"typ": "application/at+jwt"}), idClaims(nil)), jwtverify.ErrHeader},
		{"typ other on the ID verifier", "id", iss.Sign(hdr(map[string]any{"typ": "dpop+jwt"}), idClaims(nil)), jwtverify.ErrHeader},
		{"typ not a string", "id", iss.Sign(hdr(map[string]any{"typ": 1}), idClaims(nil)), jwtverify.ErrMalformed},
		{"ID token on the access verifier", "at", iss.CognitoIDToken(nil), jwtverify.ErrHeader},
		{"typ JWT on the access verifier", "at", iss.Sign(hdr(map[string]any{"typ": "JWT"}), idClaims(nil)), jwtverify.ErrHeader},
		{"access token on the ID verifier", "id", iss.AccessToken(nil), jwtverify.ErrHeader},
		{"duplicate alg", "id", iss.SignRaw([]byte(`{"alg":"none","alg":"RS256","kid":"`+iss.KID+`"}`), []byte(`{}`)), jwtverify.ErrMalformed},
		{"header not an object", "id", iss.SignRaw([]byte(`["RS256"]`), []byte(`{}`)), jwtverify.ErrMalformed},
		{"header trailing data", "id", iss.SignRaw([]byte(`{"alg":"RS256","kid":"`+iss.KID+`"}x`), []byte(`{}`)), jwtverify.ErrMalformed},
		{"wrong issuer", "id", iss.CognitoIDToken(map[string]any{"iss": "https://evil.test"}), jwtverify.ErrIssuer},
		{"issuer with a trailing slash", "id", iss.CognitoIDToken(map[string]any{"iss": iss.Issuer + "/"}), jwtverify.ErrIssuer},
		{"no issuer", "id", iss.CognitoIDToken(map[string]any{"iss": nil}), jwtverify.ErrIssuer},
		{"wrong audience", "id", iss.CognitoIDToken(map[string]any{"aud": "client-2"}), jwtverify.ErrAudience},
		{"no audience", "id", iss.CognitoIDToken(map[string]any{"aud": nil}), jwtverify.ErrAudience},
		{"empty audience list", "id", iss.CognitoIDToken(map[string]any{"aud": []string{}}), jwtverify.ErrAudience},
		{"audience a number", "id", iss.CognitoIDToken(map[string]any{"aud": 1}), jwtverify.ErrClaims},
		{"audience list of numbers", "id", iss.CognitoIDToken(map[string]any{"aud": []int{1}}), jwtverify.ErrClaims},
		{"wrong client_id", "at", iss.AccessToken(map[string]any{"client_id": "client-2"}), jwtverify.ErrAudience},
		{"no client_id", "at", iss.AccessToken(map[string]any{"client_id": nil}), jwtverify.ErrAudience},
		{"wrong access audience", "at", iss.AccessToken(map[string]any{"aud": "other-api"}), jwtverify.ErrAudience},
		{"token_use access", "id", iss.CognitoIDToken(map[string]any{"token_use": "access"}), jwtverify.ErrTokenUse},
		{"token_use missing", "id", iss.CognitoIDToken(map[string]any{"token_use": nil}), jwtverify.ErrTokenUse},
		{"token_use on an access token", "at", iss.AccessToken(map[string]any{"token_use": "id"}), jwtverify.ErrTokenUse},
		{"token_use empty on an access token", "at", iss.AccessToken(map[string]any{"token_use": ""}), jwtverify.ErrTokenUse},
		{"expired", "id", iss.CognitoIDToken(map[string]any{"exp": now - 31}), jwtverify.ErrExpired},
		{"expired at the leeway edge", "id", iss.CognitoIDToken(map[string]any{"exp": now - 30}), jwtverify.ErrExpired},
		{"nbf in the future", "id", iss.CognitoIDToken(map[string]any{"nbf": now + 31}), jwtverify.ErrNotYetValid},
		{"iat in the future", "id", iss.CognitoIDToken(map[string]any{"iat": now + 31}), jwtverify.ErrNotYetValid},
		{"auth_time in the future", "id", iss.CognitoIDToken(map[string]any{"auth_time": now + 31}), jwtverify.ErrNotYetValid},
		{"auth_time far in the future", "id", iss.CognitoIDToken(map[string]any{"auth_time": now + 86400}), jwtverify.ErrNotYetValid},
		{"auth_time in the future on an access token", "at", iss.AccessToken(map[string]any{"auth_time": now + 31}), jwtverify.ErrNotYetValid},
		{"max age exceeded", "id-maxage", iss.CognitoIDToken(map[string]any{"iat": now - 61}), jwtverify.ErrTooOld},
		{"too large", "id", iss.CognitoIDToken(map[string]any{"pad": strings.Repeat("a", 8192)}), jwtverify.ErrTooLarge},
		{"two segments", "id", parts[0] + "." + parts[1], jwtverify.ErrMalformed},
		{"four segments", "id", good + "." + parts[2], jwtverify.ErrMalformed},
		{"five segments (JWE)", "id", parts[0] + ".." + parts[1] + "." + parts[2] + ".", jwtverify.ErrMalformed},
		{"empty header", "id", "." + parts[1] + "." + parts[2], jwtverify.ErrMalformed},
		{"empty payload", "id", parts[0] + ".." + parts[2], jwtverify.ErrMalformed},
		{"empty signature", "id", parts[0] + "." + parts[1] + ".", jwtverify.ErrSignature},
		{"plus in payload", "id", parts[0] + "." + parts[1][:10] + "+" + parts[1][11:] + "." + parts[2], jwtverify.ErrSignature},
		{"star in signature", "id", parts[0] + "." + parts[1] + "." + parts[2][:10] + "*" + parts[2][11:], jwtverify.ErrMalformed},
		{"space in header", "id", parts[0][:4] + " " + parts[0][4:] + "." + parts[1] + "." + parts[2], jwtverify.ErrMalformed},
		{"newline in signature", "id", parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:], jwtverify.ErrMalformed},
		{"standard base64 alphabet", "id", strings.NewReplacer("-", "+", "_", "/").Replace(good), jwtverify.ErrMalformed},
		{"padding on the header", "id", parts[0] + "==." + parts[1] + "." + parts[2], jwtverify.ErrMalformed},
		{"padding on the signature", "id", good + "==", jwtverify.ErrMalformed},
		{"non-canonical base64", "id", nonCanonical(parts[0]) + "." + parts[1] + "." + parts[2], jwtverify.ErrMalformed},
		{"JSON serialization", "id", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, jwtverify.ErrMalformed},
		{"exp as string", "id", iss.CognitoIDToken(map[string]any{"exp": "9999999999"}), jwtverify.ErrClaims},
		{"exp an array", "id", iss.CognitoIDToken(map[string]any{"exp": []int{}}), jwtverify.ErrClaims},
		{"exp null", "id", iss.SignRaw([]byte(`{"alg":"RS256","kid":"`+iss.KID+`"}`),
			[]byte(`{"iss":"`+iss.Issuer+`","sub":"u-1","aud":"client-1","token_use":"id","iat":1800000000,"exp":null}`)), jwtverify.ErrClaims},
		{"exp a bool", "id", iss.CognitoIDToken(map[string]any{"exp": true}), jwtverify.ErrClaims},
		{"exp missing", "id", iss.CognitoIDToken(map[string]any{"exp": nil}), jwtverify.ErrClaims},
		{"exp negative", "id", iss.CognitoIDToken(map[string]any{"exp": -1}), jwtverify.ErrClaims},
		{"exp huge", "id", iss.CognitoIDToken(map[string]any{"exp": 1e300}), jwtverify.ErrClaims},
		{"EXP instead of exp", "id", iss.CognitoIDToken(map[string]any{"exp": nil, "EXP": now + 3600}), jwtverify.ErrClaims},
		{"iat missing", "id", iss.CognitoIDToken(map[string]any{"iat": nil}), jwtverify.ErrClaims},
		{"iat as string", "id", iss.CognitoIDToken(map[string]any{"iat": "now"}), jwtverify.ErrClaims},
		{"sub missing", "id", iss.CognitoIDToken(map[string]any{"sub": nil}), jwtverify.ErrClaims},
		{"sub empty", "id", iss.CognitoIDToken(map[string]any{"sub": ""}), jwtverify.ErrClaims},
		{"sub a number", "id", iss.CognitoIDToken(map[string]any{"sub": 42}), jwtverify.ErrClaims},
		{"groups a string", "id", iss.CognitoIDToken(map[string]any{"cognito:groups": "admin"}), jwtverify.ErrClaims},
		{"groups with a number", "at", iss.AccessToken(map[string]any{"groups": []any{"admin", 1}}), jwtverify.ErrClaims},
		{"duplicate sub", "id", iss.SignRaw([]byte(`{"alg":"RS256","kid":"`+iss.KID+`"}`),
			[]byte(`{"iss":"`+iss.Issuer+`","sub":"u-1","sub":"admin","aud":"client-1","token_use":"id","iat":1800000000,"exp":1800003600}`)), jwtverify.ErrClaims},
		{"claims not an object", "id", iss.SignRaw([]byte(`{"alg":"RS256","kid":"`+iss.KID+`"}`), []byte(`[1]`)), jwtverify.ErrMalformed},
		{"claims invalid JSON", "id", iss.SignRaw([]byte(`{"alg":"RS256","kid":"`+iss.KID+`"}`), []byte(`{"sub":"u-1",}`)), jwtverify.ErrMalformed},
		{"claims invalid UTF-8", "id", iss.SignRaw([]byte(`{"alg":"RS256","kid":"`+iss.KID+`"}`), []byte("{\"sub\":\"\xff\"}")), jwtverify.ErrMalformed},
		{"signature from another key with the same kid", "id", sameKID.Sign(hdr(nil), idClaims(nil)), jwtverify.ErrSignature},
		{"signature from another key", "id", other.Sign(hdr(nil), idClaims(nil)), jwtverify.ErrSignature},
		{"payload swapped", "id", parts[0] + "." + jwttest.Encode(idClaims(map[string]any{"sub": "admin"})) + "." + parts[2], jwtverify.ErrSignature},
		{"signature truncated", "id", parts[0] + "." + parts[1] + "." + truncated(t, parts[2]), jwtverify.ErrSignature},
	}
	ctx := context.Background()
	id := idVerifier(t, iss, nil)
	idMaxAge := idVerifier(t, iss, func(c *jwtverify.Config) { c.MaxAge = 60 * time.Second })
	at := atVerifier(t, iss, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := map[string]*jwtverify.Verifier{"id": id, "id-maxage": idMaxAge, "at": at}[tt.kind]
			c, err := v.Verify(ctx, tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if c != nil {
				t.Fatalf("Verify returned claims with error %v", err)
			}
			checkOneSentinel(t, err)
			if tt.token != "" && len(tt.token) > 20 && strings.Contains(err.Error(), tt.token[len(tt.token)-20:]) {
				t.Fatalf("error %q contains the token", err)
			}
		})
	}
}

// truncated drops the last bytes of an encoded signature.
func truncated(t *testing.T, seg string) string {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:len(b)-3])
}

// nonCanonical changes the unused low bits of the last character of an
// unpadded base64url string, which a lax decoder would accept.
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(s)%4 == 0 {
		return s + "A" // not valid either way
	}
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last|1])
}

func TestVerifyAccepts(t *testing.T) {
	iss := fixedIssuer(t, jwtverify.EdDSA)
	now := testNow.Unix()
	h := func(typ string) map[string]any { return map[string]any{"alg": "EdDSA", "kid": iss.KID, "typ": typ} }
	tests := []struct {
		name  string
		kind  string
		token string
	}{
		{"typ JWT on the ID verifier", "id", iss.Sign(h("JWT"), idTokenClaims(iss, nil))},
		{"typ jwt on the ID verifier", "id", iss.Sign(h("jwt"), idTokenClaims(iss, nil))},
		{"typ application/jwt on the ID verifier", "id", iss.Sign(h("application/jwt"), idTokenClaims(iss, nil))},
		{"typ AT+JWT on the access verifier", "at", iss.Sign(h("AT+JWT"), atClaims(iss, nil))},
		{"typ application/at+jwt on the access verifier", "at", iss.Sign(h("application/at+jwt"), atClaims(iss, nil))},
		{"aud list holding the client", "id", iss.CognitoIDToken(map[string]any{"aud": []string{"x", iss.ClientID}})},
		{"exp inside the leeway", "id", iss.CognitoIDToken(map[string]any{"exp": now - 29})},
		{"fractional exp", "id", iss.CognitoIDToken(map[string]any{"exp": float64(now) + 0.5})},
		{"nbf inside the leeway", "id", iss.CognitoIDToken(map[string]any{"nbf": now + 29})},
		{"iat inside the leeway", "id", iss.CognitoIDToken(map[string]any{"iat": now + 29})},
		{"auth_time inside the leeway", "id", iss.CognitoIDToken(map[string]any{"auth_time": now + 29})},
		{"auth_time long ago", "id", iss.CognitoIDToken(map[string]any{"auth_time": now - 86400})},
		{"unknown claims and header parameters", "id", iss.Sign(map[string]any{"alg": "EdDSA", "kid": iss.KID, "x5t": "abc", "extra": map[string]any{"a": []any{1, "b", nil, true}}},
			idTokenClaims(iss, map[string]any{"event_id": "e", "custom:tier": "gold", "nested": map[string]any{"k": []any{1.5e3, false}}}))},
		{"escaped strings", "id", iss.SignRaw([]byte(`{"alg":"Ed\u0044SA","kid":"`+iss.KID+`"}`),
			[]byte(`{"iss":"`+iss.Issuer+`","sub":"u\"1\u00e9\ud83d\ude00","aud":"client-1","token_use":"id","iat":1800000000,"exp":1800003600}`))},
	}
	ctx := context.Background()
	vs := map[string]*jwtverify.Verifier{"id": idVerifier(t, iss, nil), "at": atVerifier(t, iss, nil)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := vs[tt.kind].Verify(ctx, tt.token)
			if err != nil || c == nil {
				t.Fatalf("Verify = %v, %v", c, err)
			}
		})
	}
	c, err := vs["id"].Verify(ctx, tests[len(tests)-1].token)
	if err != nil || c.Subject != "u\"1é😀" {
		t.Fatalf("escaped sub = %q, %v", c.Subject, err)
	}
}

func idTokenClaims(iss *jwttest.Issuer, extra map[string]any) map[string]any {
	now := iss.Now().Unix()
	c := map[string]any{"iss": iss.Issuer, "sub": "u-1", "aud": iss.ClientID, "token_use": "id", "iat": now, "exp": now + 60}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func atClaims(iss *jwttest.Issuer, extra map[string]any) map[string]any {
	now := iss.Now().Unix()
	c := map[string]any{"iss": iss.Issuer, "sub": "u-1", "aud": iss.Audience, "client_id": iss.ClientID, "iat": now, "exp": now + 60}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// TestVerifyKeyAlgorithmMismatch: a key published for one algorithm is
// never used with another, even when both are allowed.
func TestVerifyKeyAlgorithmMismatch(t *testing.T) {
	rsaIss := fixedIssuer(t, jwtverify.RS256)
	ecIss := fixedIssuer(t, jwtverify.ES256)
	v := idVerifier(t, rsaIss, func(c *jwtverify.Config) { c.Algorithms = []string{"RS256", "ES256"} })
	tok := ecIss.Sign(map[string]any{"alg": "ES256", "kid": rsaIss.KID}, idTokenClaims(rsaIss, nil))
	_, err := v.Verify(context.Background(), tok)
	if !errors.Is(err, jwtverify.ErrAlgorithm) {
		t.Fatalf("err = %v, want ErrAlgorithm", err)
	}

	// A KeySource handing out a key of the wrong type for its Alg.
	bad := keySourceFunc(func(context.Context, string) (jwtverify.Key, error) {
		return jwtverify.Key{Public: ecIss.Public(), Alg: "RS256"}, nil
	})
	v = idVerifier(t, rsaIss, func(c *jwtverify.Config) { c.Keys = bad })
	_, err = v.Verify(context.Background(), rsaIss.CognitoIDToken(nil))
	if !errors.Is(err, jwtverify.ErrAlgorithm) {
		t.Fatalf("err = %v, want ErrAlgorithm", err)
	}
}

type keySourceFunc func(context.Context, string) (jwtverify.Key, error)

func (f keySourceFunc) Key(ctx context.Context, kid string) (jwtverify.Key, error) {
	return f(ctx, kid)
}

func TestVerifyKeySourceErrors(t *testing.T) {
	iss := fixedIssuer(t, jwtverify.RS256)
	for _, tt := range []struct {
		err  error
		want error
	}{
		{errors.New("boom"), jwtverify.ErrKeysUnavailable},
		{jwtverify.ErrKeysUnavailable, jwtverify.ErrKeysUnavailable},
		{jwtverify.ErrUnknownKey, jwtverify.ErrUnknownKey},
		{context.DeadlineExceeded, jwtverify.ErrKeysUnavailable},
	} {
		v := idVerifier(t, iss, func(c *jwtverify.Config) {
			c.Keys = keySourceFunc(func(context.Context, string) (jwtverify.Key, error) { return jwtverify.Key{}, tt.err })
		})
		_, err := v.Verify(context.Background(), iss.CognitoIDToken(nil))
		if !errors.Is(err, tt.want) {
			t.Errorf("source error %v: Verify error = %v, want %v", tt.err, err, tt.want)
		}
		checkOneSentinel(t, err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.RS256)
	base := jwtverify.Config{Keys: iss.Keys(), Issuer: iss.Issuer}
	if _, err := jwtverify.New(base); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	for _, tt := range []struct {
		name string
		edit func(*jwtverify.Config)
	}{
		{"no keys", func(c *jwtverify.Config) { c.Keys = nil }},
		{"no issuer", func(c *jwtverify.Config) { c.Issuer = "" }},
		{"alg none", func(c *jwtverify.Config) { c.Algorithms = []string{"none"} }},
		{"alg NONE", func(c *jwtverify.Config) { c.Algorithms = []string{"NONE"} }},
		{"alg HS256", func(c *jwtverify.Config) { c.Algorithms = []string{"RS256", "HS256"} }},
		{"alg hs512", func(c *jwtverify.Config) { c.Algorithms = []string{"hs512"} }},
		{"alg rs256", func(c *jwtverify.Config) { c.Algorithms = []string{"rs256"} }},
		{"alg PS256", func(c *jwtverify.Config) { c.Algorithms = []string{"PS256"} }},
		{"negative leeway", func(c *jwtverify.Config) { c.Leeway = -time.Second }},
		{"negative max age", func(c *jwtverify.Config) { c.MaxAge = -time.Second }},
		{"negative size", func(c *jwtverify.Config) { c.MaxTokenBytes = -1 }},
		{"type JWT", func(c *jwtverify.Config) { c.Type = "JWT" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.edit(&cfg)
			if _, err := jwtverify.New(cfg); err == nil {
				t.Fatal("New accepted the config")
			}
		})
	}
}

func TestVerifyDefaultsUseTheClock(t *testing.T) {
	iss := jwttest.NewIssuer(t, jwtverify.RS256) // real clock
	v, err := jwtverify.New(jwtverify.Config{Keys: iss.Keys(), Issuer: iss.Issuer, TokenUse: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), iss.CognitoIDToken(nil)); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), iss.CognitoIDToken(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}))
	if !errors.Is(err, jwtverify.ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
}
