package main

import (
	"strings"
	"testing"
	"time"
)

// The CLI is the fourth reader of SHORTFUSE_CLIENTS (the token service, the
// authorizer and the template checker are in e2e/clients_test.go): its
// revocations must last as long as the service's longest access token, so
// it reads the per-client lifetimes with the same parser.
func TestCLIReadsClientsAsTheService(t *testing.T) {
	for _, tc := range []struct {
		clients string
		want    time.Duration
		err     string
	}{
		{clients: "web,mobile:30,batch:ttl=600", want: 600 * time.Second},
		{clients: "web", want: 300 * time.Second}, // SHORTFUSE_ACCESS_TOKEN_TTL below
		{clients: "abc:1", err: "SHORTFUSE_CLIENTS"},
		{clients: "web,web", err: "SHORTFUSE_CLIENTS"},
	} {
		env := map[string]string{"SHORTFUSE_CLIENTS": tc.clients, "SHORTFUSE_ACCESS_TOKEN_TTL": "300"}
		c := &cli{getenv: func(k string) string { return env[k] }}
		p, err := c.revocationPolicy()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v, want one naming %s", tc.clients, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.clients, err)
			continue
		}
		if p.AccessTokenTTL != tc.want {
			t.Errorf("%q: revocation policy access token TTL = %s, want %s", tc.clients, p.AccessTokenTTL, tc.want)
		}
	}
}
