package revoke

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
)

// TestFamilyLimitAgainstMoto runs the sign-out loop past the family limit
// with moto_server's Cognito behind the global sign-out (cognito-local has
// no AdminUserGlobalSignOut): the escalation signs the user out, and the
// refresh token of the user's login stops working. Skipped where
// moto_server is not installed.
func TestFamilyLimitAgainstMoto(t *testing.T) {
	m := testenv.MotoServer(t)
	ctx := context.Background()
	pool, err := m.Cognito.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("limit")})
	if err != nil {
		t.Fatal(err)
	}
	poolID := aws.ToString(pool.UserPool.Id)
	client, err := m.Cognito.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(poolID), ClientName: aws.String("web"),
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, ciptypes.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	clientID := aws.ToString(client.UserPoolClient.ClientId)
	const username, password = "name-u", "Passw0rd!Passw0rd"
	if _, err := m.Cognito.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String(username)}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Cognito.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(poolID),
		Username: aws.String(username), Password: aws.String(password), Permanent: true}); err != nil {
		t.Fatal(err)
	}
	login, err := m.Cognito.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID),
		AuthFlow: ciptypes.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": password}})
	if err != nil {
		t.Fatal(err)
	}
	refresh := func() error {
		_, err := m.Cognito.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID),
			AuthFlow: ciptypes.AuthFlowTypeRefreshTokenAuth, AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(login.AuthenticationResult.RefreshToken)}})
		return err
	}
	if err := refresh(); err != nil {
		t.Fatalf("refresh before the limit: %v", err)
	}

	f := newFixture(t)
	r := f.revoker(t, directPolicy, WithCognito(m.Cognito, poolID))
	f.signOutLoop(t, r, "u", 0, directPolicy.FamilyLimit)
	if err := refresh(); err != nil {
		t.Fatalf("refresh under the limit: %v", err)
	}
	f.signOutLoop(t, r, "u", directPolicy.FamilyLimit, 2)
	long, short, users := f.longEntries(t)
	if long != directPolicy.FamilyLimit || short != 2 || len(users) != 2 {
		t.Fatalf("%d long, %d short family entries, %d user entries", long, short, len(users))
	}
	if err := refresh(); err == nil {
		t.Fatal("the user's Cognito refresh token still works after the escalation's global sign-out")
	}
}
