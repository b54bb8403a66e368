package keys_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/keys"
)

func Example() {
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		panic(err)
	}
	set, err := keys.NewSet("", k)
	if err != nil {
		panic(err)
	}
	now := time.Now().Unix()
	token, err := set.Sign("at+jwt", map[string]any{
		"iss": "https://auth.example.com", "sub": "user-1", "iat": now, "exp": now + 300,
	})
	if err != nil {
		panic(err)
	}

	// A verifier that trusts the published JWK Set accepts the token.
	published, err := jwtverify.NewStaticJWKS(set.JWKS())
	if err != nil {
		panic(err)
	}
	v, err := jwtverify.New(jwtverify.Config{
		Keys: published, Issuer: "https://auth.example.com", Type: "at+jwt", Algorithms: []string{keys.ES256},
	})
	if err != nil {
		panic(err)
	}
	claims, err := v.Verify(context.Background(), token)
	fmt.Println(claims.Subject, err)
	// Output: user-1 <nil>
}
