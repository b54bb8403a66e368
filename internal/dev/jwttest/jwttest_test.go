package jwttest_test

import (
	"context"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

func TestIssuerTokensVerify(t *testing.T) {
	for _, alg := range []string{jwtverify.RS256, jwtverify.ES256, jwtverify.EdDSA} {
		t.Run(alg, func(t *testing.T) {
			iss := jwttest.NewIssuer(t, alg)
			url := iss.Serve(t)
			keys := jwtverify.NewRemoteJWKS(url, jwtverify.RemoteOptions{})
			id, err := jwtverify.New(jwtverify.Config{
				Keys: keys, Issuer: iss.Issuer, Audiences: []string{iss.ClientID}, TokenUse: "id",
				Algorithms: []string{alg}, MaxAge: time.Minute,
			})
			if err != nil {
				t.Fatal(err)
			}
			c, err := id.Verify(context.Background(), iss.CognitoIDToken(map[string]any{"cognito:groups": []string{"admin"}, "email": nil}))
			if err != nil {
				t.Fatal(err)
			}
			if c.Username != "alice" || len(c.Groups) != 1 || c.Groups[0] != "admin" || c.Email != "" || c.OriginJTI == "" {
				t.Fatalf("claims %+v", c)
			}
			at, err := jwtverify.New(jwtverify.Config{
				Keys: iss.Keys(), Issuer: iss.Issuer, Audiences: []string{iss.Audience}, ClientIDs: []string{iss.ClientID},
				Type: "at+jwt", Algorithms: []string{alg},
			})
			if err != nil {
				t.Fatal(err)
			}
			c, err = at.Verify(context.Background(), iss.AccessToken(nil))
			if err != nil {
				t.Fatal(err)
			}
			if c.SessionID == "" || c.Scope != "openid profile" || c.ClientID != iss.ClientID {
				t.Fatalf("claims %+v", c)
			}
			if iss.Fetches() != 1 {
				t.Fatalf("fetches = %d", iss.Fetches())
			}
		})
	}
}
