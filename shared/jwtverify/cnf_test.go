package jwtverify_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/shortfuse/shortfuse/shared/jwtverify"
)

// TestConfirmationAndStepUpClaims: cnf.jkt, acr and amr are read, and a
// cnf this verifier cannot enforce is refused, never ignored.
func TestConfirmationAndStepUpClaims(t *testing.T) {
	iss := fixedIssuer(t, jwtverify.ES256)
	v := atVerifier(t, iss, nil)
	ctx := context.Background()
	c, err := v.Verify(ctx, iss.AccessToken(map[string]any{
		"cnf": map[string]any{"jkt": "abc"}, "acr": "urn:x:mfa", "amr": []string{"pwd", "mfa"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.JKT != "abc" || c.ACR != "urn:x:mfa" || !slices.Equal(c.AMR, []string{"pwd", "mfa"}) {
		t.Fatalf("claims %+v", c)
	}
	for name, cnf := range map[string]any{
		"x5t#S256 only": map[string]any{"x5t#S256": "abc"},
		"empty jkt":     map[string]any{"jkt": ""},
		"jkt a number":  map[string]any{"jkt": 1},
		"cnf a string":  "abc",
		"empty cnf":     map[string]any{},
		"amr a string":  nil,
	} {
		over := map[string]any{"cnf": cnf}
		if cnf == nil {
			over = map[string]any{"amr": "mfa"}
		}
		if _, err := v.Verify(ctx, iss.AccessToken(over)); !errors.Is(err, jwtverify.ErrClaims) {
			t.Errorf("%s: %v", name, err)
		}
	}
	tok := iss.SignRaw([]byte(`{"alg":"ES256","kid":"`+iss.KID+`","typ":"at+jwt"}`),
		[]byte(`{"iss":"`+iss.Issuer+`","sub":"u","aud":"`+iss.Audience+`","client_id":"`+iss.ClientID+`","iat":1800000000,"exp":1800000300,"cnf":{"jkt":"a","jkt":"b"}}`))
	if _, err := v.Verify(ctx, tok); !errors.Is(err, jwtverify.ErrClaims) {
		t.Errorf("duplicate jkt: %v", err)
	}
}
