package jwtverify_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// Cognito ID tokens, as the token service checks them before an exchange.
func ExampleNew_cognitoIDToken() {
	issuer := tokenspec.CognitoIssuerURL("eu-west-1", "eu-west-1_AbC123")
	keys := jwtverify.NewRemoteJWKS(tokenspec.JWKSURLOf(issuer), jwtverify.RemoteOptions{})
	v, err := jwtverify.New(jwtverify.Config{
		Keys:      keys,
		Issuer:    issuer,
		Audiences: []string{"3n4b5urk1ft4fl3mg5e62d9ado"}, // app client IDs
		TokenUse:  "id",
		Leeway:    5 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	_ = keys.Prefetch(context.Background()) // warm at init; Verify retries if this failed
	claims, err := v.Verify(context.Background(), "eyJ...")
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println(claims.Subject, claims.AuthTime)
}

// The token service's own access tokens, as the authorizer checks them in
// exchange mode.
func ExampleNew_accessToken() {
	keys := jwtverify.NewRemoteJWKS("https://auth.example.com/.well-known/jwks.json", jwtverify.RemoteOptions{})
	v, err := jwtverify.New(jwtverify.Config{
		Keys:       keys,
		Issuer:     "https://auth.example.com",
		Audiences:  []string{"https://api.example.com"},
		Type:       "at+jwt",
		Algorithms: []string{jwtverify.ES256},
		Leeway:     5 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	_, _ = v.Verify(context.Background(), "eyJ...")
}
