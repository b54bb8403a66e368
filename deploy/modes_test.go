package deploy

import (
	"errors"
	"maps"
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

// noAPIRestToken: no API of the stack's own; a REST API of yours attaches
// the authorizer as a TOKEN authorizer and serves nothing of the token
// service's (an HTTP API of yours would, under ApiBaseUrl).
var noAPIRestToken = map[string]string{
	"CreateHttpApi": "false", "ApiBaseUrl": "https://api.example.com/auth",
	"AuthorizerShape": "rest-token", "ExistingApiId": "a1b2c3d4e5",
}

// ownAPIRestRequest: the stack's HTTP API serves the token service, the
// authorizer answers a REST API of yours as a REQUEST authorizer.
var ownAPIRestRequest = map[string]string{"AuthorizerShape": "rest-request", "ExistingApiId": "a1b2c3d4e5"}

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
		{"no API, REST TOKEN authorizer on an existing API", noAPIRestToken},
		{"no API, REST REQUEST authorizer, direct mode, no permission", map[string]string{
			"CreateHttpApi": "false", "ApiBaseUrl": "https://api.example.com", "AuthorizerShape": "rest-request", "AuthorizerMode": "direct",
		}},
		{"no API, existing HTTP API, payload 1.0", map[string]string{
			"CreateHttpApi": "false", "ApiBaseUrl": "https://api.example.com/v1", "AuthorizerShape": "http-iam", "ExistingApiId": "a1b2c3d4e5",
		}},
		{"own API for the token service, REST REQUEST authorizer elsewhere", ownAPIRestRequest},
		{"own API, payload 1.0 IAM policies", map[string]string{"AuthorizerShape": "http-iam"}},
		{"own API, payload 1.0, private backend, existing API too", map[string]string{
			"AuthorizerShape": "http-iam", "ExistingApiId": "a1b2c3d4e5",
			"PrivateIntegrationUri": privateBackend["PrivateIntegrationUri"], "PrivateSubnetIds": "subnet-1,subnet-2",
		}},
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
	t.Logf("checks: none failed (%s)", "every x-shortfuse-* header overwritten from $context, each authorizer key one the deployed shape always sets non-empty, route behind the authorizer, throttled")
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

// TestAPIModes: what each combination of CreateHttpApi, AuthorizerShape and
// ExistingApiId deploys: the stack's HTTP API or none, its authorizer in
// the function's format or none, the Lambda permissions scoped to one API
// each, the outputs for attaching the function elsewhere, and every
// function starting with the issuer it is given.
func TestAPIModes(t *testing.T) {
	for _, tt := range []struct {
		name       string
		params     map[string]string
		ownAPI     bool
		authorizer string // the stack's authorizer's payload version, "" for none
		perms      []string
		issuer     string
		identity   string
	}{
		{"defaults", nil, true, "2.0", []string{"AuthorizerInvokePermission", "TokenServiceInvokePermission"},
			deployed["HttpApi.ApiEndpoint"], "$request.header.Authorization,$context.routeKey"},
		{"own API, http-iam", map[string]string{"AuthorizerShape": "http-iam"}, true, "1.0",
			[]string{"AuthorizerInvokePermission", "TokenServiceInvokePermission"}, deployed["HttpApi.ApiEndpoint"], "$request.header.Authorization"},
		{"own API, rest-request", ownAPIRestRequest, true, "",
			[]string{"ExistingApiAuthorizerPermission", "TokenServiceInvokePermission"}, deployed["HttpApi.ApiEndpoint"], "method.request.header.Authorization"},
		{"no API, rest-token", noAPIRestToken, false, "",
			[]string{"ExistingApiAuthorizerPermission", "ExistingApiTokenServicePermission"}, "https://api.example.com/auth", "method.request.header.Authorization"},
		{"no API, no existing API", map[string]string{"CreateHttpApi": "false", "ApiBaseUrl": "https://api.example.com", "AuthorizerShape": "http-simple"}, false, "",
			nil, "https://api.example.com", "$request.header.Authorization,$context.routeKey"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tpl := loadWith(t, tt.params)
			if errs := Check(tpl); len(errs) > 0 {
				t.Fatalf("%s:%s", count(errs), Join(errs))
			}
			if got := len(tpl.Resources("AWS::ApiGatewayV2::Api")) == 1; got != tt.ownAPI {
				t.Errorf("own HTTP API deployed: %v, want %v", got, tt.ownAPI)
			}
			auths := tpl.CFN.GetAllApiGatewayV2AuthorizerResources()
			switch a, ok := auths["ApiAuthorizer"]; {
			case tt.authorizer == "" && ok:
				t.Errorf("ApiAuthorizer deployed, want none")
			case tt.authorizer != "" && (!ok || str(a.AuthorizerPayloadFormatVersion) != tt.authorizer):
				t.Errorf("ApiAuthorizer %v, want payload %s", a, tt.authorizer)
			}
			// Without an authorizer on the stack's API, every route is the
			// token service's, which authenticates its callers itself.
			for id, r := range tpl.CFN.GetAllApiGatewayV2RouteResources() {
				if tt.authorizer == "" && (str(r.AuthorizationType) != "NONE" || !targetsTokenService(tpl, str(r.Target))) {
					t.Errorf("%s (%s): AuthorizationType %q, want NONE to the token service", id, r.RouteKey, str(r.AuthorizationType))
				}
			}
			var perms []string
			for id, p := range tpl.CFN.GetAllLambdaPermissionResources() {
				if p.Principal == "apigateway.amazonaws.com" {
					perms = append(perms, id)
				}
			}
			slices.Sort(perms)
			if !slices.Equal(perms, tt.perms) {
				t.Errorf("API Gateway permissions %v, want %v", perms, tt.perms)
			}
			if id := mapAt(tpl.Effective, "Outputs", "AuthorizerIdentitySource")["Value"]; id != tt.identity {
				t.Errorf("output AuthorizerIdentitySource %v, want %q", id, tt.identity)
			}
			_, hasURL := mapAt(tpl.Effective, "Outputs")["ApiUrl"]
			if hasURL != tt.ownAPI {
				t.Errorf("output ApiUrl present: %v", hasURL)
			}
			params := map[string]string{}
			maps.Copy(params, tt.params)
			for _, fn := range []string{"TokenServiceFunction", AuthorizerFunctionID} {
				env := deployedEnv(t, tpl, fn, params)
				if err := loadDeployed(t, fn, env); err != nil {
					t.Errorf("%s would not start: %v", fn, err)
				}
				if env["SHORTFUSE_ISSUER"] != tt.issuer {
					t.Errorf("%s: SHORTFUSE_ISSUER %q, want %q", fn, env["SHORTFUSE_ISSUER"], tt.issuer)
				}
			}
			if env := deployedEnv(t, tpl, AuthorizerFunctionID, params); env["SHORTFUSE_JWKS_URL"] != tt.issuer+"/.well-known/jwks.json" {
				t.Errorf("authorizer SHORTFUSE_JWKS_URL %q", env["SHORTFUSE_JWKS_URL"])
			}
		})
	}
}

// TestAPIModesPlanted: a permission for any API, an HTTP API authorizer
// left in place for a REST shape, and a REST shape's Bearer routes left
// behind the authorizer are caught.
func TestAPIModesPlanted(t *testing.T) {
	for _, tt := range []struct {
		name   string
		params map[string]string
		mutate func(tr map[string]any)
		want   []string
	}{
		{"authorizer invokable from any API", noAPIRestToken, func(tr map[string]any) {
			props(tr, "ExistingApiAuthorizerPermission")["SourceArn"] = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:*/authorizers/*"
		}, []string{"ExistingApiAuthorizerPermission", "must name one API"}},
		{"authorizer invokable from routes", noAPIRestToken, func(tr map[string]any) {
			props(tr, "ExistingApiAuthorizerPermission")["SourceArn"] = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${ExistingApiId}/*"
		}, []string{"ExistingApiAuthorizerPermission", "authorizers only"}},
		{"HTTP API authorizer for a REST shape", ownAPIRestRequest, func(tr map[string]any) {
			base := loadWith(t, nil)
			mapAt(tr, "Resources")["ApiAuthorizer"] = mapAt(base.Tree, "Resources", "ApiAuthorizer")
		}, []string{"ApiAuthorizer", "rest-request"}},
		{"payload 2.0 authorizer for http-iam", map[string]string{"AuthorizerShape": "http-iam"}, func(tr map[string]any) {
			p := props(tr, "ApiAuthorizer")
			p["AuthorizerPayloadFormatVersion"] = "2.0"
			p["EnableSimpleResponses"] = true
		}, []string{"ApiAuthorizer", "payload format 1.0"}},
		{"identity source output of another shape", noAPIRestToken, func(tr map[string]any) {
			mapAt(tr, "Outputs", "AuthorizerIdentitySource")["Value"] = "$request.header.Authorization"
		}, []string{"AuthorizerIdentitySource", "rest-token", "method.request.header.Authorization"}},
		{"route left without the API", noAPIRestToken, func(tr map[string]any) {
			base := loadWith(t, nil)
			mapAt(tr, "Resources")["JwksRoute"] = mapAt(base.Tree, "Resources", "JwksRoute")
		}, []string{"JwksRoute", "Condition CreateHttpApi"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := loadWith(t, tt.params)
			tree := base.Clone()
			tt.mutate(tree)
			tpl, err := FromTree(tree)
			if err != nil {
				t.Fatal(err)
			}
			tpl.Raw, tpl.Params = base.Raw, base.Params
			wantProblem(t, Check(tpl), tt.want...)
		})
	}
}

// TestRules: parameter combinations the template's rules refuse are
// refused before anything deploys, as CloudFormation does.
func TestRules(t *testing.T) {
	src, err := os.ReadFile(*templatePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		params map[string]string
		want   string // rule name, "" when accepted
	}{
		{"no API without ApiBaseUrl", map[string]string{"CreateHttpApi": "false"}, "NoApiNeedsBaseUrl"},
		{"private backend without the API", map[string]string{"CreateHttpApi": "false", "ApiBaseUrl": "https://api.example.com",
			"PrivateIntegrationUri": privateBackend["PrivateIntegrationUri"], "PrivateSubnetIds": "subnet-1"}, "PrivateBackendNeedsHttpApi"},
		{"private backend with a REST shape", map[string]string{"AuthorizerShape": "rest-token",
			"PrivateIntegrationUri": privateBackend["PrivateIntegrationUri"], "PrivateSubnetIds": "subnet-1"}, "PrivateBackendNeedsHttpApi"},
		{"existing pool without clients", map[string]string{"ExistingUserPoolId": "eu-west-1_AbC123"}, "ExistingUserPoolNeedsClients"},
		{"private backend, http-iam", map[string]string{"AuthorizerShape": "http-iam",
			"PrivateIntegrationUri": privateBackend["PrivateIntegrationUri"], "PrivateSubnetIds": "subnet-1"}, ""},
		{"no API", noAPIRestToken, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWith(src, tt.params)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (!errors.Is(err, ErrRule) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want rule %s to refuse", err, tt.want)
			}
		})
	}
}
