package authorizer

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/store"
)

// hostileCase is one credential the authorizer must refuse (or, for the
// controls, accept) with a given status, in every shape.
type hostileCase struct {
	name   string
	mode   string
	method string // default GET
	path   string // default /hello
	// auth returns the Authorization header; it may set up revocations.
	auth func(t *testing.T, f *fixture) string
	want int
}

func bearer(tok string) string { return "Bearer " + tok }

// accessClaims are a valid at+jwt's claims for f, with overrides applied.
func accessClaims(f *fixture, overrides map[string]any) map[string]any {
	now := time.Now().Unix()
	c := map[string]any{
		"iss": f.iss.Issuer, "sub": "user-1", "aud": f.iss.Audience, "client_id": f.iss.ClientID,
		"exp": now + 300, "iat": now, "auth_time": now, "jti": jwttest.RandomID(), "sid": jwttest.RandomID(),
		"scope": "openid", "groups": []string{"users"}, "username": "alice",
	}
	return jwttest.Apply(c, overrides)
}

func atHeader(f *fixture, extra map[string]any) map[string]any {
	h := map[string]any{"alg": "RS256", "kid": f.iss.KID, "typ": "at+jwt"}
	return jwttest.Apply(h, extra)
}

func publicDER(t *testing.T, f *fixture) []byte {
	der, err := x509.MarshalPKIXPublicKey(f.iss.Public())
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// hostileCases lists every attack the authorizer must refuse.
func hostileCases() []hostileCase {
	ex, di := ModeExchange, ModeDirect
	signedWith := func(extra map[string]any) func(*testing.T, *fixture) string {
		return func(t *testing.T, f *fixture) string {
			return bearer(f.iss.Sign(atHeader(f, extra), accessClaims(f, nil)))
		}
	}
	claimsWith := func(overrides map[string]any) func(*testing.T, *fixture) string {
		return func(t *testing.T, f *fixture) string {
			return bearer(f.iss.Sign(atHeader(f, nil), accessClaims(f, overrides)))
		}
	}
	idWith := func(overrides map[string]any) func(*testing.T, *fixture) string {
		return func(t *testing.T, f *fixture) string { return bearer(f.iss.CognitoIDToken(overrides)) }
	}
	none := func(alg string) func(*testing.T, *fixture) string {
		return func(t *testing.T, f *fixture) string {
			return bearer(jwttest.Unsigned(atHeader(f, map[string]any{"alg": alg}), accessClaims(f, nil)))
		}
	}
	now := func() int64 { return time.Now().Unix() }

	cases := []hostileCase{
		// Controls: the fixture accepts good tokens in both modes.
		{name: "control exchange", mode: ex, auth: claimsWith(nil), want: http.StatusOK},
		{name: "control direct", mode: di, auth: idWith(nil), want: http.StatusOK},

		// No usable credential.
		{name: "no authorization", mode: ex, auth: func(*testing.T, *fixture) string { return "" }, want: 401},
		{name: "basic scheme", mode: ex, auth: func(*testing.T, *fixture) string { return "Basic YWxpY2U6cHc=" }, want: 401},
		{name: "bearer without token", mode: ex, auth: func(*testing.T, *fixture) string { return "Bearer " }, want: 401},
		{name: "token without scheme", mode: ex, auth: func(t *testing.T, f *fixture) string { return f.good(nil) }, want: 401},
		{name: "two tokens", mode: ex, auth: func(t *testing.T, f *fixture) string { return bearer(f.good(nil)) + ", " + bearer(f.good(nil)) }, want: 401},

		// Algorithm attacks.
		{name: "alg none", mode: ex, auth: none("none"), want: 401},
		{name: "alg None", mode: ex, auth: none("None"), want: 401},
		{name: "alg NONE", mode: ex, auth: none("NONE"), want: 401},
		{name: "alg nOnE", mode: ex, auth: none("nOnE"), want: 401},
		{name: "alg none direct", mode: di, auth: func(t *testing.T, f *fixture) string {
			return bearer(jwttest.Unsigned(map[string]any{"alg": "none", "kid": f.iss.KID}, map[string]any{
				"iss": f.iss.Issuer, "sub": "u", "aud": f.iss.ClientID, "token_use": "id", "exp": now() + 60, "iat": now()}))
		}, want: 401},
		{name: "HS256 keyed with the RSA public key (PEM)", mode: ex, auth: func(t *testing.T, f *fixture) string {
			secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: publicDER(t, f)})
			return bearer(jwttest.HMAC(atHeader(f, map[string]any{"alg": "HS256"}), accessClaims(f, nil), secret))
		}, want: 401},
		{name: "HS256 keyed with the RSA public key (DER)", mode: ex, auth: func(t *testing.T, f *fixture) string {
			return bearer(jwttest.HMAC(atHeader(f, map[string]any{"alg": "HS256"}), accessClaims(f, nil), publicDER(t, f)))
		}, want: 401},
		{name: "HS256 keyed with the JWK Set", mode: ex, auth: func(t *testing.T, f *fixture) string {
			return bearer(jwttest.HMAC(atHeader(f, map[string]any{"alg": "HS256"}), accessClaims(f, nil), f.iss.JWKS()))
		}, want: 401},
		{name: "alg ES256 on an RSA kid", mode: ex, auth: signedWith(map[string]any{"alg": "ES256"}), want: 401},
		{name: "alg PS256 on an RSA kid", mode: ex, auth: signedWith(map[string]any{"alg": "PS256"}), want: 401},

		// Key selection attacks.
		{name: "unknown kid", mode: ex, auth: signedWith(map[string]any{"kid": "no-such-key"}), want: 401},
		{name: "kid with path traversal", mode: ex, auth: signedWith(map[string]any{"kid": "../../../../dev/null"}), want: 401},
		{name: "kid with SQL", mode: ex, auth: signedWith(map[string]any{"kid": "x' OR '1'='1"}), want: 401},
		{name: "kid with NUL and URL", mode: ex, auth: signedWith(map[string]any{"kid": "a\x00https://evil.test/k"}), want: 401},
		{name: "kid missing", mode: ex, auth: signedWith(map[string]any{"kid": nil}), want: 401},
		{name: "kid a number", mode: ex, auth: signedWith(map[string]any{"kid": 7}), want: 401},
		{name: "jku header", mode: ex, auth: signedWith(map[string]any{"jku": "https://evil.test/jwks.json"}), want: 401},
		{name: "x5u header", mode: ex, auth: signedWith(map[string]any{"x5u": "https://evil.test/cert.pem"}), want: 401},
		{name: "jwk header (attacker key)", mode: ex, auth: func(t *testing.T, f *fixture) string {
			evil := jwttest.NewIssuer(t, "RS256")
			var jwks struct{ Keys []map[string]any }
			if err := json.Unmarshal(evil.JWKS(), &jwks); err != nil {
				t.Fatal(err)
			}
			h := map[string]any{"alg": "RS256", "kid": f.iss.KID, "typ": "at+jwt", "jwk": jwks.Keys[0]}
			return bearer(evil.Sign(h, accessClaims(f, nil)))
		}, want: 401},
		{name: "jwk header (real key)", mode: ex, auth: func(t *testing.T, f *fixture) string {
			var jwks struct{ Keys []map[string]any }
			if err := json.Unmarshal(f.iss.JWKS(), &jwks); err != nil {
				t.Fatal(err)
			}
			return bearer(f.iss.Sign(atHeader(f, map[string]any{"jwk": jwks.Keys[0]}), accessClaims(f, nil)))
		}, want: 401},
		{name: "x5c header", mode: ex, auth: signedWith(map[string]any{"x5c": []string{base64.StdEncoding.EncodeToString([]byte("cert"))}}), want: 401},
		{name: "unknown crit", mode: ex, auth: signedWith(map[string]any{"crit": []string{"x-policy"}, "x-policy": "allow-all"}), want: 401},
		{name: "crit naming a registered header", mode: ex, auth: signedWith(map[string]any{"crit": []string{"kid"}}), want: 401},
		{name: "key rotated out past its grace", mode: ex, auth: func(t *testing.T, f *fixture) string {
			// Signed by a key with the same issuer that the JWK Set no
			// longer publishes. TestKeyRotatedOut covers a fetched set
			// that dropped a key the authorizer had already seen.
			old := jwttest.NewIssuer(t, "RS256")
			old.Issuer, old.Audience, old.ClientID = f.iss.Issuer, f.iss.Audience, f.iss.ClientID
			return bearer(old.AccessToken(nil))
		}, want: 401},
		{name: "same kid, different key", mode: ex, auth: func(t *testing.T, f *fixture) string {
			evil := jwttest.NewIssuer(t, "RS256")
			return bearer(evil.Sign(atHeader(f, nil), accessClaims(f, nil)))
		}, want: 401},

		// Token kinds never cross.
		{name: "typ JWT in exchange mode", mode: ex, auth: signedWith(map[string]any{"typ": "JWT"}), want: 401},
		{name: "typ absent in exchange mode", mode: ex, auth: signedWith(map[string]any{"typ": nil}), want: 401},
		{name: "ID token in exchange mode", mode: ex, auth: func(t *testing.T, f *fixture) string {
			return bearer(f.iss.CognitoIDToken(map[string]any{"aud": f.iss.Audience, "client_id": f.iss.ClientID}))
		}, want: 401},
		{name: "token_use in an access token", mode: ex, auth: claimsWith(map[string]any{"token_use": "access"}), want: 401},
		{name: "at+jwt in direct mode", mode: di, auth: func(t *testing.T, f *fixture) string {
			return bearer(f.iss.AccessToken(map[string]any{"aud": f.iss.ClientID, "token_use": "id"}))
		}, want: 401},
		{name: "Cognito access token in direct mode", mode: di, auth: idWith(map[string]any{"token_use": "access"}), want: 401},

		// Wrong claims.
		{name: "wrong iss", mode: ex, auth: claimsWith(map[string]any{"iss": "https://evil.test"}), want: 401},
		{name: "iss with trailing slash", mode: ex, auth: func(t *testing.T, f *fixture) string {
			return bearer(f.iss.Sign(atHeader(f, nil), accessClaims(f, map[string]any{"iss": f.iss.Issuer + "/"})))
		}, want: 401},
		{name: "wrong aud", mode: ex, auth: claimsWith(map[string]any{"aud": "someone-else"}), want: 401},
		{name: "wrong aud direct", mode: di, auth: idWith(map[string]any{"aud": "other-client"}), want: 401},
		{name: "wrong client_id", mode: ex, auth: claimsWith(map[string]any{"client_id": "client-2"}), want: 401},
		{name: "expired", mode: ex, auth: claimsWith(map[string]any{"exp": time.Now().Add(-2 * time.Minute).Unix()}), want: 401},
		{name: "nbf in the future", mode: ex, auth: claimsWith(map[string]any{"nbf": time.Now().Add(5 * time.Minute).Unix()}), want: 401},
		{name: "iat in the future", mode: ex, auth: claimsWith(map[string]any{"iat": time.Now().Add(5 * time.Minute).Unix()}), want: 401},
		{name: "max age exceeded", mode: di, auth: idWith(map[string]any{"iat": time.Now().Add(-2 * time.Minute).Unix()}), want: 401},
		{name: "exp as string", mode: ex, auth: claimsWith(map[string]any{"exp": fmt.Sprint(time.Now().Add(time.Hour).Unix())}), want: 401},
		{name: "missing exp", mode: ex, auth: claimsWith(map[string]any{"exp": nil}), want: 401},
		{name: "groups as string", mode: ex, auth: claimsWith(map[string]any{"groups": "admin"}), want: 401},
		{name: "sub as number", mode: ex, auth: claimsWith(map[string]any{"sub": 42}), want: 401},
		{name: "missing sub", mode: ex, auth: claimsWith(map[string]any{"sub": nil}), want: 401},

		// Revoked.
		{name: "revoked session", mode: ex, auth: func(t *testing.T, f *fixture) string {
			f.revoke(t, store.RevokeSession, "sess-9", time.Now())
			return bearer(f.good(map[string]any{"sid": "sess-9"}))
		}, want: 401},
		{name: "revoked jti", mode: ex, auth: func(t *testing.T, f *fixture) string {
			f.revoke(t, store.RevokeJTI, "jti-9", time.Now())
			return bearer(f.good(map[string]any{"jti": "jti-9"}))
		}, want: 401},
		{name: "revoked origin_jti", mode: di, auth: func(t *testing.T, f *fixture) string {
			f.revoke(t, store.RevokeJTI, "origin-9", time.Now())
			return bearer(f.good(map[string]any{"origin_jti": "origin-9"}))
		}, want: 401},
		{name: "revoked user", mode: ex, auth: func(t *testing.T, f *fixture) string {
			f.revoke(t, store.RevokeUser, "user-9", time.Now())
			return bearer(f.good(map[string]any{"sub": "user-9", "auth_time": time.Now().Add(-time.Minute).Unix()}))
		}, want: 401},
		{name: "revoked user direct", mode: di, auth: func(t *testing.T, f *fixture) string {
			f.revoke(t, store.RevokeUser, "user-9", time.Now())
			return bearer(f.good(map[string]any{"sub": "user-9", "auth_time": time.Now().Add(-time.Minute).Unix()}))
		}, want: 401},
		{name: "user revoked, then logged in again", mode: ex, auth: func(t *testing.T, f *fixture) string {
			f.revoke(t, store.RevokeUser, "user-9", time.Now().Add(-time.Minute))
			return bearer(f.good(map[string]any{"sub": "user-9", "auth_time": time.Now().Unix()}))
		}, want: http.StatusOK},

		// Encoding attacks.
		{name: "over 8 KiB", mode: ex, auth: claimsWith(map[string]any{"pad": strings.Repeat("a", 8200)}), want: 401},
		{name: "two segments", mode: ex, auth: func(t *testing.T, f *fixture) string {
			p := strings.Split(f.good(nil), ".")
			return bearer(p[0] + "." + p[1])
		}, want: 401},
		{name: "four segments", mode: ex, auth: func(t *testing.T, f *fixture) string { return bearer(f.good(nil) + ".AAAA") }, want: 401},
		{name: "empty signature", mode: ex, auth: func(t *testing.T, f *fixture) string {
			p := strings.Split(f.good(nil), ".")
			return bearer(p[0] + "." + p[1] + ".")
		}, want: 401},
		{name: "standard base64 characters", mode: ex, auth: func(t *testing.T, f *fixture) string {
			p := strings.Split(f.good(nil), ".")
			return bearer(p[0] + "." + p[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(p[2]) + "+/")
		}, want: 401},
		{name: "base64 padding", mode: ex, auth: func(t *testing.T, f *fixture) string { return bearer(f.good(nil) + "==") }, want: 401},
		{name: "non-ASCII character", mode: ex, auth: func(t *testing.T, f *fixture) string {
			tok := f.good(nil)
			return bearer(tok[:10] + "é" + tok[11:])
		}, want: 401},
		{name: "JSON serialization", mode: ex, auth: func(t *testing.T, f *fixture) string {
			p := strings.Split(f.good(nil), ".")
			return bearer(fmt.Sprintf(`{"payload":"%s","signatures":[{"protected":"%s","signature":"%s"}]}`, p[1], p[0], p[2]))
		}, want: 401},
		{name: "payload swapped", mode: ex, auth: func(t *testing.T, f *fixture) string {
			a := strings.Split(f.good(nil), ".")
			b := strings.Split(f.good(map[string]any{"groups": []string{"admin"}}), ".")
			return bearer(a[0] + "." + b[1] + "." + a[2])
		}, want: 401},
		{name: "payload not JSON", mode: ex, auth: func(t *testing.T, f *fixture) string {
			return bearer(f.iss.SignRaw([]byte(`{"alg":"RS256","kid":"`+f.iss.KID+`","typ":"at+jwt"}`), []byte("not json")))
		}, want: 401},
		{name: "duplicate claim", mode: ex, auth: func(t *testing.T, f *fixture) string {
			c := accessClaims(f, nil)
			delete(c, "sub")
			b, _ := json.Marshal(c)
			dup := append([]byte(`{"sub":"admin","sub":"user-1",`), b[1:]...)
			return bearer(f.iss.SignRaw([]byte(`{"alg":"RS256","kid":"`+f.iss.KID+`","typ":"at+jwt"}`), dup))
		}, want: 401},

		// Valid tokens, routes they may not call.
		{name: "route needs a group", mode: ex, path: "/admin/users", auth: claimsWith(nil), want: 403},
		{name: "overlapping stricter route", mode: ex, path: "/users/7/secrets", auth: claimsWith(nil), want: 403},
		{name: "route needs a scope", mode: ex, method: "POST", path: "/orders", auth: claimsWith(nil), want: 403},
		{name: "route not in the table", mode: ex, path: "/nowhere", auth: claimsWith(nil), want: 403},
		{name: "scope granted", mode: ex, method: "POST", path: "/orders", auth: claimsWith(map[string]any{"scope": "openid orders:write"}), want: http.StatusOK},
		{name: "admin on the stricter route", mode: ex, path: "/users/7/secrets", auth: claimsWith(map[string]any{"groups": []string{"admin"}}), want: http.StatusOK},
	}
	return cases
}

func TestHostileTokens(t *testing.T) {
	cases := hostileCases()
	refusals := 0
	for _, c := range cases {
		if c.want != http.StatusOK {
			refusals++
		}
	}
	if refusals < 30 {
		t.Fatalf("only %d hostile cases", refusals)
	}
	iss := jwttest.NewIssuer(t, "RS256")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A fresh fixture per case: revocations must not leak.
			f := newFixtureFor(t, iss, c.mode, iss.JWKS())
			method, path := c.method, c.path
			if method == "" {
				method = "GET"
			}
			if path == "" {
				path = "/hello"
			}
			auth := c.auth(t, f)
			for _, shape := range Shapes {
				// Twice: the second answer may come from the token cache.
				for i := range 2 {
					got := invoke(t, f.a, shape, auth, method, path)
					if got.status != c.want {
						t.Fatalf("%s (call %d): status %d, want %d; response %s", shape, i+1, got.status, c.want, got.raw)
					}
				}
			}
		})
	}
}
