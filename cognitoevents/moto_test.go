package cognitoevents

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
)

// TestLookupsAgainstMoto checks the handler's Cognito lookups against a
// second emulation of the user pools API; skipped where moto_server is not
// installed.
func TestLookupsAgainstMoto(t *testing.T) {
	m := testenv.MotoServer(t)
	ctx := context.Background()
	pool, err := m.Cognito.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	poolID := aws.ToString(pool.UserPool.Id)
	u, err := m.Cognito.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String("ada")})
	if err != nil {
		t.Fatal(err)
	}
	var sub string
	for _, a := range u.User.Attributes {
		if aws.ToString(a.Name) == "sub" {
			sub = aws.ToString(a.Value)
		}
	}
	h, err := New(Config{UserPoolID: poolID}, store.New(nil, "unused"), m.Cognito, obs.NewLogger(&testenv.Buffer{}, ""))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := h.subOf(ctx, Call{Username: "ada"}); err != nil || got != sub || sub == "" {
		t.Fatalf("subOf(ada) = %q, %v; want %q", got, err, sub)
	}
	if got, err := h.subOf(ctx, Call{Username: "nobody"}); err != nil || got != "" {
		t.Fatalf("subOf(nobody) = %q, %v", got, err)
	}
	if ok, err := h.exists(ctx, sub); err != nil || !ok {
		t.Fatalf("exists(sub) = %v, %v", ok, err)
	}
	if ok, err := h.exists(ctx, "00000000-0000-0000-0000-000000000000"); err != nil || ok {
		t.Fatalf("exists(unknown) = %v, %v", ok, err)
	}
}
