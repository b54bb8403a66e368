package deploy

import (
	"os"
	"strings"
	"testing"
)

// existingPoolParams are the parameters of a stack that adopts a user pool.
var existingPoolParams = map[string]string{"ExistingUserPoolId": "eu-west-1_AbC123", "ExistingUserPoolClientIds": "client1,client2:ttl=60"}

func loadWith(t *testing.T, params map[string]string) *Template {
	t.Helper()
	src, err := os.ReadFile(*templatePath)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := ParseWith(src, params)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// TestTemplateModes checks the template as CloudFormation deploys it with
// each combination of the optional parts: every check holds either way.
func TestTemplateModes(t *testing.T) {
	for _, tt := range []struct {
		name   string
		params map[string]string
	}{
		{"defaults", nil},
		{"existing user pool", existingPoolParams},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if errs := Check(loadWith(t, tt.params)); len(errs) > 0 {
				t.Fatalf("%s:%s", count(errs), Join(errs))
			}
		})
	}
}

// TestExistingPoolConfig: with an existing pool, every function starts and
// the token service and the authorizer (both modes) trust that pool's
// issuer and the given app clients.
func TestExistingPoolConfig(t *testing.T) {
	tpl := loadWith(t, existingPoolParams)
	params := map[string]string{"AWS::Region": "eu-west-1"}
	for k, v := range existingPoolParams {
		params[k] = v
	}
	for _, f := range Functions {
		env := deployedEnv(t, tpl, f.LogicalID, params)
		if err := loadDeployed(t, f.LogicalID, env); err != nil {
			t.Errorf("%s would not start with an existing pool: %v", f.LogicalID, err)
		}
		if iss, ok := env["SHORTFUSE_COGNITO_ISSUER"]; ok && iss != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123" {
			t.Errorf("%s: SHORTFUSE_COGNITO_ISSUER %q", f.LogicalID, iss)
		}
		if c, ok := env["SHORTFUSE_CLIENTS"]; ok && c != existingPoolParams["ExistingUserPoolClientIds"] {
			t.Errorf("%s: SHORTFUSE_CLIENTS %q", f.LogicalID, c)
		}
		if id, ok := env["SHORTFUSE_COGNITO_USER_POOL_ID"]; ok && id != "eu-west-1_AbC123" {
			t.Errorf("%s: SHORTFUSE_COGNITO_USER_POOL_ID %q", f.LogicalID, id)
		}
	}
	env := deployedEnv(t, tpl, AuthorizerFunctionID, params)
	env["SHORTFUSE_AUTHORIZER_MODE"] = "direct"
	if err := loadDeployed(t, AuthorizerFunctionID, env); err != nil {
		t.Errorf("direct mode with an existing pool: %v", err)
	}
}

// TestExistingPoolPlanted: a resource that only the created pool has,
// referenced from the existing-pool branch, is caught.
func TestExistingPoolPlanted(t *testing.T) {
	src, err := os.ReadFile(*templatePath)
	if err != nil {
		t.Fatal(err)
	}
	old := `SHORTFUSE_CLIENTS: !If [CreateUserPool, !Ref UserPoolClient, !Ref ExistingUserPoolClientIds]`
	planted := strings.Replace(string(src), old, `SHORTFUSE_CLIENTS: !Ref UserPoolClient`, 1)
	if planted == string(src) {
		t.Fatalf("the template no longer holds %q; update the test", old)
	}
	tpl, err := ParseWith([]byte(planted), existingPoolParams)
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, Check(tpl), "UserPoolClient", "neither a parameter nor a resource")
}

// TestPackagedForm: the template make package writes (CodeUri <cmd>.zip,
// no build metadata) passes the function checks.
func TestPackagedForm(t *testing.T) {
	tree := template(t).Clone()
	for _, f := range Functions {
		props(tree, f.LogicalID)["CodeUri"] = f.Cmd + ".zip"
		delete(mapAt(tree, "Resources", f.LogicalID), "Metadata")
	}
	tpl, err := FromTree(tree)
	if err != nil {
		t.Fatal(err)
	}
	if errs := CheckFunctions(tpl); len(errs) > 0 {
		t.Fatalf("%s:%s", count(errs), Join(errs))
	}
}
