package deploy

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// existingPoolParams are the parameters of a stack that adopts a user pool.
var existingPoolParams = map[string]string{"ExistingUserPoolId": "eu-west-1_AbC123", "ExistingUserPoolClientIds": "client1,client2:ttl=60"}

// privateBackend forwards /backend/* to an internal ALB listener.
var privateBackend = map[string]string{
	"PrivateIntegrationUri":   "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/internal/50dc6c495c0c9188/f2f7dc8efc522ab2",
	"PrivateSubnetIds":        "subnet-1,subnet-2",
	"PrivateSecurityGroupIds": "sg-1",
}

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
		{"private backend", privateBackend},
		{"direct mode", map[string]string{"AuthorizerMode": "direct"}},
		{"private backend over TLS, existing pool", map[string]string{
			"PrivateIntegrationUri": privateBackend["PrivateIntegrationUri"], "PrivateSubnetIds": "subnet-1,subnet-2",
			"PrivateSecurityGroupIds": "sg-1", "PrivateServerName": "backend.internal.example.com",
			"ExistingUserPoolId": "eu-west-1_AbC123", "ExistingUserPoolClientIds": "client1",
		}},
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
	if tpl.ParseErr != nil {
		t.Fatal(tpl.ParseErr)
	}
	if errs := CheckFunctions(tpl); len(errs) > 0 {
		t.Fatalf("%s:%s", count(errs), Join(errs))
	}
}

// TestPrivateBackendPlanted: identity headers the backend could receive
// from the client instead of the authorizer are caught.
func TestPrivateBackendPlanted(t *testing.T) {
	base := loadWith(t, privateBackend)
	params := func(tr map[string]any) map[string]any {
		return mapAt(tr, "Resources", "BackendIntegration", "Properties", "RequestParameters")
	}
	for _, tt := range []struct {
		name   string
		mutate func(map[string]any)
		want   []string
	}{
		{"appended, not overwritten", func(p map[string]any) {
			delete(p, "overwrite:header.x-shortfuse-groups")
			p["append:header.x-shortfuse-groups"] = "$context.authorizer.groups"
		}, []string{"overwrite:header.x-shortfuse-groups"}},
		{"append next to overwrite", func(p map[string]any) { p["append:header.x-shortfuse-sub"] = "$context.authorizer.sub" }, []string{`"append" on an identity header`}},
		{"from the client's request", func(p map[string]any) { p["overwrite:header.x-shortfuse-scope"] = "$request.header.x-shortfuse-scope" }, []string{"x-shortfuse-scope"}},
		{"header missing", func(p map[string]any) { delete(p, "overwrite:header.x-shortfuse-request-id") }, []string{"x-shortfuse-request-id"}},
		{"list-valued key", func(p map[string]any) { p["overwrite:header.x-shortfuse-groups"] = "$context.authorizer.groups" }, []string{"does not always set"}},
		{"key the authorizer never sets", func(p map[string]any) { p["overwrite:header.x-shortfuse-tenant"] = "$context.authorizer.tenant" }, []string{"authorizer.tenant", "does not always set"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tree := base.Clone()
			tt.mutate(params(tree))
			tpl, err := FromTree(tree)
			if err != nil {
				t.Fatal(err)
			}
			tpl.Raw, tpl.Params = base.Raw, base.Params
			wantProblem(t, Check(tpl), tt.want...)
		})
	}
}

// TestPrivateBackendWiring prints the private integration as the checker
// sees it (go test -v -run TestPrivateBackendWiring ./deploy).
func TestPrivateBackendWiring(t *testing.T) {
	tpl := loadWith(t, privateBackend)
	in := mapAt(tpl.Effective, "Resources", "BackendIntegration", "Properties")
	route := mapAt(tpl.Effective, "Resources", "BackendRoute", "Properties")
	t.Logf("route %v: AuthorizationType %v, AuthorizerId %v, Target %v", route["RouteKey"], route["AuthorizationType"], route["AuthorizerId"], route["Target"])
	t.Logf("integration: %v %v via %v %v, payload %v", in["IntegrationType"], in["IntegrationUri"], in["ConnectionType"], in["ConnectionId"], in["PayloadFormatVersion"])
	for _, k := range sortedKeys(mapAt(in, "RequestParameters")) {
		t.Logf("  %s: %v", k, mapAt(in, "RequestParameters")[k])
	}
	if errs := Check(tpl); len(errs) > 0 {
		t.Fatalf("%s:%s", count(errs), Join(errs))
	}
	t.Logf("checks: none failed (%s)", "every x-shortfuse-* header overwritten from $context, route behind the authorizer, throttled")
}

// TestDirectModeRoutes: in direct mode the token service's Bearer routes
// skip the authorizer (which would accept only Cognito tokens there) and
// every other protected route keeps it; in exchange mode all are behind it.
func TestDirectModeRoutes(t *testing.T) {
	for _, mode := range []string{"exchange", "direct"} {
		tpl := loadWith(t, map[string]string{"AuthorizerMode": mode})
		for id, r := range tpl.CFN.GetAllApiGatewayV2RouteResources() {
			self := slices.Contains(SelfAuthenticated, r.RouteKey)
			public := slices.Contains(PublicRoutes, r.RouteKey)
			want := "CUSTOM"
			if public || (self && mode == "direct") {
				want = "NONE"
			}
			if got := str(r.AuthorizationType); got != want {
				t.Errorf("%s mode: %s (%s): AuthorizationType %q, want %q", mode, id, r.RouteKey, got, want)
			}
		}
	}
	// A protected route that is not the token service's may not skip the
	// authorizer in direct mode.
	tpl := loadWith(t, map[string]string{"AuthorizerMode": "direct"})
	tree := tpl.Clone()
	props(tree, "UserinfoRoute")["AuthorizationType"] = "NONE"
	delete(props(tree, "UserinfoRoute"), "AuthorizerId")
	planted, err := FromTree(tree)
	if err != nil {
		t.Fatal(err)
	}
	planted.Raw, planted.Params = tpl.Raw, tpl.Params
	wantProblem(t, Check(planted), "GET /userinfo", "not behind the authorizer")
}
