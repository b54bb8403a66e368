package tokensvc

import (
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/revoke"
)

func baseEnv() map[string]string {
	return map[string]string{
		"SHORTFUSE_TABLE":                "shortfuse",
		"SHORTFUSE_ISSUER":               "https://auth.example.com/",
		"SHORTFUSE_COGNITO_ISSUER":       "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
		"SHORTFUSE_CLIENTS":              "web, mobile:30",
		"SHORTFUSE_SIGNING_KEY":          "ssm:/shortfuse/key",
		"SHORTFUSE_COGNITO_USER_POOL_ID": "eu-west-1_abc",
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(config.FromMap(baseEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://auth.example.com" || c.Audience != c.Issuer ||
		c.CognitoJWKSURL != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json" ||
		c.Clients["web"] != 300*time.Second || c.Clients["mobile"] != 30*time.Second ||
		c.SessionIdleTTL != 24*time.Hour || c.SessionMaxTTL != 30*24*time.Hour || c.AdminGroup != "shortfuse-admin" ||
		c.RevocationRetention != 5*time.Minute+revoke.DefaultLeeway || c.MaxBodyBytes != 8192 || c.Leeway != 5*time.Second ||
		!c.AdminGlobalSignOut || c.AllowIDTokenReuse || c.MaxSessionsPerUser != 20 ||
		c.Revocation.DirectMaxAge != 0 || c.Revocation.RefreshTokenValidity != 30*24*time.Hour ||
		c.RefreshGrace != DefaultRefreshGrace || c.GraceFor("web") != DefaultRefreshGrace || len(c.CORSOrigins) != 0 {
		t.Fatalf("%+v", c)
	}
	env := baseEnv()
	env["SHORTFUSE_AUTHORIZER_MODE"] = "direct"
	env["SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY"] = "240h"
	c, err = LoadConfig(config.FromMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.Revocation.DirectMaxAge != time.Minute || c.RevocationRetention != 240*time.Hour+time.Minute+revoke.DefaultLeeway {
		t.Fatalf("direct: %+v", c)
	}
}

func TestLoadConfigGraceAndCORS(t *testing.T) {
	m := baseEnv()
	m["SHORTFUSE_REFRESH_GRACE"] = "10"
	m["SHORTFUSE_CLIENTS"] = "web,mobile:30:grace=60,kiosk:grace=0"
	m["SHORTFUSE_CORS_ORIGINS"] = "https://app.example.com, http://localhost:3000"
	c, err := LoadConfig(config.FromMap(m))
	if err != nil {
		t.Fatal(err)
	}
	if c.GraceFor("web") != 10*time.Second || c.GraceFor("mobile") != time.Minute || c.GraceFor("kiosk") != 0 ||
		c.Clients["mobile"] != 30*time.Second || strings.Join(c.CORSOrigins, " ") != "https://app.example.com http://localhost:3000" {
		t.Fatalf("%+v", c)
	}
}

func TestLoadConfigDPoP(t *testing.T) {
	c, err := LoadConfig(config.FromMap(baseEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if c.DPoPFor("web") != "allowed" || c.PublicBaseURL != "https://auth.example.com" || c.DPoPMaxAge != time.Minute || c.DPoPNonceKey != "" {
		t.Fatalf("defaults: %+v", c)
	}
	m := baseEnv()
	m["SHORTFUSE_DPOP"] = "required"
	m["SHORTFUSE_CLIENTS"] = "web,mobile:30:dpop=off"
	m["SHORTFUSE_PUBLIC_BASE_URL"] = "https://api.example.com/auth/"
	m["SHORTFUSE_DPOP_NONCE_KEY"] = "ssm:/shortfuse/dpop-nonce"
	if c, err = LoadConfig(config.FromMap(m)); err != nil {
		t.Fatal(err)
	}
	if c.DPoPFor("web") != "required" || c.DPoPFor("mobile") != "off" || c.PublicBaseURL != "https://api.example.com/auth" ||
		c.DPoPNonceKey != "ssm:/shortfuse/dpop-nonce" {
		t.Fatalf("%+v", c)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want string
	}{
		{"missing table", map[string]string{"SHORTFUSE_TABLE": ""}, "SHORTFUSE_TABLE"},
		{"missing issuer", map[string]string{"SHORTFUSE_ISSUER": ""}, "SHORTFUSE_ISSUER"},
		{"plain http issuer", map[string]string{"SHORTFUSE_ISSUER": "http://auth.example.com"}, "SHORTFUSE_ISSUER"},
		{"relative issuer", map[string]string{"SHORTFUSE_ISSUER": "/auth"}, "SHORTFUSE_ISSUER"},
		{"missing clients", map[string]string{"SHORTFUSE_CLIENTS": ""}, "SHORTFUSE_CLIENTS"},
		{"bad lifetime", map[string]string{"SHORTFUSE_CLIENTS": "web:abc"}, "SHORTFUSE_CLIENTS"},
		{"lifetime too short", map[string]string{"SHORTFUSE_CLIENTS": "web:1"}, "SHORTFUSE_CLIENTS"},
		{"lifetime too long", map[string]string{"SHORTFUSE_CLIENTS": "web:7200"}, "SHORTFUSE_CLIENTS"},
		{"duplicate client", map[string]string{"SHORTFUSE_CLIENTS": "web,web:30"}, "SHORTFUSE_CLIENTS"},
		{"empty client", map[string]string{"SHORTFUSE_CLIENTS": ":30"}, "SHORTFUSE_CLIENTS"},
		{"ttl too short", map[string]string{"SHORTFUSE_ACCESS_TOKEN_TTL": "1"}, "SHORTFUSE_ACCESS_TOKEN_TTL"},
		{"idle above max", map[string]string{"SHORTFUSE_SESSION_IDLE_TTL": "48h", "SHORTFUSE_SESSION_MAX_TTL": "24h"}, "SHORTFUSE_SESSION_IDLE_TTL"},
		{"retention too short", map[string]string{"SHORTFUSE_CLIENTS": "web:3600", "SHORTFUSE_REVOCATION_RETENTION": "30m"}, "SHORTFUSE_REVOCATION_RETENTION"},
		{"bad scope", map[string]string{"SHORTFUSE_SCOPES": `read,"x"`}, "SHORTFUSE_SCOPES"},
		{"sign-out without pool", map[string]string{"SHORTFUSE_ADMIN_GLOBAL_SIGNOUT": "true", "SHORTFUSE_COGNITO_USER_POOL_ID": ""}, "SHORTFUSE_ADMIN_GLOBAL_SIGNOUT"},
		{"default sign-out without pool", map[string]string{"SHORTFUSE_COGNITO_USER_POOL_ID": ""}, "SHORTFUSE_ADMIN_GLOBAL_SIGNOUT"},
		{"direct mode retention", map[string]string{"SHORTFUSE_AUTHORIZER_MODE": "direct", "SHORTFUSE_REVOCATION_RETENTION": "24h"}, "SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY"},
		{"bad mode", map[string]string{"SHORTFUSE_AUTHORIZER_MODE": "both"}, "SHORTFUSE_AUTHORIZER_MODE"},
		{"session cap", map[string]string{"SHORTFUSE_MAX_SESSIONS_PER_USER": "101"}, "SHORTFUSE_MAX_SESSIONS_PER_USER"},
		{"refresh validity", map[string]string{"SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY": "1m"}, "SHORTFUSE_COGNITO_REFRESH_TOKEN_VALIDITY"},
		{"missing key", map[string]string{"SHORTFUSE_SIGNING_KEY": ""}, "SHORTFUSE_SIGNING_KEY"},
		{"body limit", map[string]string{"SHORTFUSE_MAX_BODY_BYTES": "10"}, "SHORTFUSE_MAX_BODY_BYTES"},
		{"grace too long", map[string]string{"SHORTFUSE_REFRESH_GRACE": "61"}, "SHORTFUSE_REFRESH_GRACE"},
		{"client grace too long", map[string]string{"SHORTFUSE_CLIENTS": "web:grace=90"}, "SHORTFUSE_CLIENTS"},
		{"wildcard origin", map[string]string{"SHORTFUSE_CORS_ORIGINS": "*"}, "SHORTFUSE_CORS_ORIGINS"},
		{"origin with path", map[string]string{"SHORTFUSE_CORS_ORIGINS": "https://app.example.com/"}, "SHORTFUSE_CORS_ORIGINS"},
		{"bad DPoP policy", map[string]string{"SHORTFUSE_DPOP": "sometimes"}, "SHORTFUSE_DPOP"},
		{"bad client DPoP policy", map[string]string{"SHORTFUSE_CLIENTS": "web:dpop=maybe"}, "SHORTFUSE_CLIENTS"},
		{"DPoP max age too long", map[string]string{"SHORTFUSE_DPOP_MAX_AGE": "1h"}, "SHORTFUSE_DPOP_MAX_AGE"},
		{"public base URL with a query", map[string]string{"SHORTFUSE_PUBLIC_BASE_URL": "https://a.example.com/x?y"}, "SHORTFUSE_PUBLIC_BASE_URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := baseEnv()
			for k, v := range tc.set {
				m[k] = v
			}
			_, err := LoadConfig(config.FromMap(m))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
	// Loopback may use http: the local stack.
	m := baseEnv()
	m["SHORTFUSE_ISSUER"] = "http://127.0.0.1:8080"
	m["SHORTFUSE_COGNITO_ISSUER"] = "http://localhost:9229/local_x"
	if _, err := LoadConfig(config.FromMap(m)); err != nil {
		t.Fatal(err)
	}
}

func TestErrorMatching(t *testing.T) {
	err := ErrInvalidGrant.WithDescription("x").WithCause(ErrServer)
	if !errorsIs(err, ErrInvalidGrant) || errorsIs(err, ErrInvalidRequest) || errorsIs(ErrTooLarge, ErrInvalidRequest) {
		t.Fatal("matching")
	}
	if ErrInvalidGrant.Description != "" {
		t.Fatal("sentinel modified")
	}
}
