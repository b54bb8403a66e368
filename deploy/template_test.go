package deploy

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
)

// templateFlag names the template under test. Point it at another file to
// check that one: go test ./deploy -template dist/template.yaml. A relative
// path is taken from the repository root, where make and the docs run go
// test, not from deploy/, where go test runs the binary; templatePath holds
// the resolved path.
var (
	templateFlag = flag.String("template", "template.yaml", "SAM template to check (relative to the repository root)")
	templatePath = new(string)
)

func TestMain(m *testing.M) {
	flag.Parse()
	*templatePath = *templateFlag
	if !filepath.IsAbs(*templatePath) {
		root, err := testenv.RepoRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// From the root first; a path that only exists from deploy/ (go
		// test run there, -template ../x.yaml) is taken as it is.
		if p := filepath.Join(root, *templatePath); fileExists(p) || !fileExists(*templatePath) {
			*templatePath = p
		}
	}
	os.Exit(m.Run())
}

var (
	loadOnce sync.Once
	loaded   *Template
	loadErr  error
)

// template loads template.yaml once for the whole package.
func template(t *testing.T) *Template {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = Load(*templatePath) })
	if loadErr != nil {
		t.Fatalf("load %s: %v", *templatePath, loadErr)
	}
	return loaded
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestTemplate(t *testing.T) {
	if errs := Check(template(t)); len(errs) > 0 {
		t.Fatalf("%s: %s:%s", *templatePath, count(errs), Join(errs))
	}
}

func count(errs []error) string {
	if len(errs) == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", len(errs))
}

// TestPlantedInSource plants the mistakes of the deploy guide in the YAML
// source, as someone editing template.yaml would, and checks that each
// fails the check with a message that names the resource and the fix.
func TestPlantedInSource(t *testing.T) {
	src, err := os.ReadFile(*templatePath)
	if err != nil {
		t.Fatal(err)
	}
	// replace plants by replacing old, which must occur once, by new.
	replace := func(old, new string) func(t *testing.T, src string) string {
		return func(t *testing.T, src string) string {
			if strings.Count(src, old) != 1 {
				t.Fatalf("the template no longer holds %q exactly once; update the test", old)
			}
			return strings.Replace(src, old, new, 1)
		}
	}
	tests := []struct {
		name  string
		plant func(t *testing.T, src string) string
		want  string
	}{
		{
			name: "unknown property",
			plant: replace("        PointInTimeRecoveryEnabled: true\n",
				"        PointInTimeRecoveryEnabled: true\n        RecoveryPeriodDay: 35\n"),
			want: "schema: resource Table (AWS::DynamoDB::Table): Properties.PointInTimeRecoverySpecification: Additional property RecoveryPeriodDay is not allowed",
		},
		{
			name: "missing trigger permission",
			plant: func(t *testing.T, src string) string {
				// Delete the resource: its lines up to the next resource.
				start := strings.Index(src, "\n  CreateAuthChallengePermission:\n")
				if start < 0 {
					t.Fatal("the template no longer defines CreateAuthChallengePermission; update the test")
				}
				end := strings.Index(src[start+1:], "\n  VerifyAuthChallengePermission:\n")
				if end < 0 {
					t.Fatal("CreateAuthChallengePermission is no longer followed by VerifyAuthChallengePermission; update the test")
				}
				return src[:start] + src[start+1+end:]
			},
			want: "triggers: no AWS::Lambda::Permission lets cognito-idp.amazonaws.com invoke CreateAuthChallengeFunction",
		},
		{
			name: "route without the authorizer",
			plant: replace("      RouteKey: GET /userinfo\n      AuthorizationType: !If [HttpApiAuthorizer, CUSTOM, NONE]\n",
				"      RouteKey: GET /userinfo\n      AuthorizationType: NONE\n"),
			want: `routes: route "GET /userinfo" (UserinfoRoute) is not behind the authorizer: AuthorizationType is "NONE"; set AuthorizationType: CUSTOM and AuthorizerId: !Ref ApiAuthorizer`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := Parse([]byte(tt.plant(t, string(src))))
			if err != nil {
				t.Fatal(err)
			}
			errs := Check(tpl)
			wantProblem(t, errs, tt.want)
		})
	}
}

// props returns the Properties of a resource in a mutable tree.
func props(tree map[string]any, id string) map[string]any {
	return mapAt(tree, "Resources", id, "Properties")
}

// statement0 returns the first statement of a function's first policy.
func statement0(tree map[string]any, fn string) map[string]any {
	return props(tree, fn)["Policies"].([]any)[0].(map[string]any)["Statement"].([]any)[0].(map[string]any)
}

// TestPlantedMistakes mutates the template in memory and asserts that each
// mistake makes the checks fail with a message that says what is wrong.
func TestPlantedMistakes(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(tree map[string]any)
		want   []string // every fragment must appear in one reported problem
	}{
		{
			name:   "unknown property",
			mutate: func(tr map[string]any) { props(tr, "TokenServiceFunction")["MemorySise"] = 512.0 },
			want:   []string{"resource TokenServiceFunction (AWS::Serverless::Function)", "Additional property MemorySise is not allowed"},
		},
		{
			name: "unknown nested property",
			mutate: func(tr map[string]any) {
				props(tr, "Table")["PointInTimeRecoverySpecification"] = map[string]any{"Enabled": true}
			},
			want: []string{"resource Table (AWS::DynamoDB::Table)", "Additional property Enabled is not allowed"},
		},
		{
			name:   "wrong property type",
			mutate: func(tr map[string]any) { props(tr, "ApiAuthorizer")["EnableSimpleResponses"] = "yes" },
			want:   []string{"resource ApiAuthorizer", "EnableSimpleResponses", "Expected: boolean"},
		},
		{
			name:   "unknown property in Globals",
			mutate: func(tr map[string]any) { mapAt(tr, "Globals", "Function")["Runtme"] = "go1.x" },
			want:   []string{"Globals.Function", "Additional property Runtme is not allowed"},
		},
		{
			name:   "unknown resource type",
			mutate: func(tr map[string]any) { mapAt(tr, "Resources", "Table")["Type"] = "AWS::DynamoDB::Tabel" },
			want:   []string{"resource Table", `unknown resource type "AWS::DynamoDB::Tabel"`},
		},
		{
			name: "Cognito admin calls of any user pool",
			mutate: func(tr map[string]any) {
				or := mapAt(props(tr, "CognitoEventsRule"), "EventPattern", "detail")["$or"].([]any)
				delete(or[0].(map[string]any), "requestParameters")
			},
			want: []string{"CognitoEventsRule", "AdminDisableUser of any user pool", "userPoolId"},
		},
		{
			name: "Cognito call not subscribed",
			mutate: func(tr map[string]any) {
				or := mapAt(props(tr, "CognitoEventsRule"), "EventPattern", "detail")["$or"].([]any)
				b := or[1].(map[string]any)
				b["eventName"] = b["eventName"].([]any)[1:]
			},
			want: []string{"CognitoEventsRule", "does not match eventName"},
		},
		{
			name:   "Cognito events function not invokable",
			mutate: func(tr map[string]any) { delete(mapAt(tr, "Resources"), "CognitoEventsPermission") },
			want:   []string{"no AWS::Lambda::Permission lets events.amazonaws.com invoke CognitoEventsFunction"},
		},
		{
			name:   "Cognito events retried without bound",
			mutate: func(tr map[string]any) { delete(mapAt(tr, "Resources"), "CognitoEventsInvokeConfig") },
			want:   []string{"no AWS::Lambda::EventInvokeConfig for CognitoEventsFunction"},
		},
		{
			name:   "missing trigger permission",
			mutate: func(tr map[string]any) { delete(mapAt(tr, "Resources"), "CreateAuthChallengePermission") },
			want:   []string{"no AWS::Lambda::Permission lets cognito-idp.amazonaws.com invoke CreateAuthChallengeFunction"},
		},
		{
			name: "trigger permission for another principal",
			mutate: func(tr map[string]any) {
				props(tr, "PreSignUpPermission")["Principal"] = "lambda.amazonaws.com"
			},
			want: []string{"cognito-idp.amazonaws.com invoke PreSignUpFunction", "PreSignUp trigger"},
		},
		{
			name: "trigger not hooked",
			mutate: func(tr map[string]any) {
				delete(mapAt(tr, "Resources", "UserPool", "Properties", "LambdaConfig"), "VerifyAuthChallengeResponse")
			},
			want: []string{"UserPool.LambdaConfig.VerifyAuthChallengeResponse is not set"},
		},
		{
			name: "route without the authorizer",
			mutate: func(tr map[string]any) {
				p := props(tr, "ListSessionsRoute")
				p["AuthorizationType"] = "NONE"
				delete(p, "AuthorizerId")
			},
			want: []string{`route "GET /sessions" (ListSessionsRoute) is not behind the authorizer`},
		},
		{
			name: "new route without authorizer or throttling",
			mutate: func(tr map[string]any) {
				mapAt(tr, "Resources")["ExtraRoute"] = map[string]any{
					"Type": "AWS::ApiGatewayV2::Route",
					"Properties": map[string]any{
						"ApiId": "${HttpApi}", "RouteKey": "GET /extra",
						"Target": "integrations/${TokenServiceIntegration}",
					},
				}
			},
			want: []string{`route "GET /extra" (ExtraRoute) is not behind the authorizer`},
		},
		{
			name: "route without throttling",
			mutate: func(tr map[string]any) {
				delete(mapAt(tr, "Resources", "ApiStage", "Properties", "RouteSettings"), "POST /token")
			},
			want: []string{`route "POST /token" (TokenRoute) has no throttling`},
		},
		{
			name: "route throttled without a burst limit",
			mutate: func(tr map[string]any) {
				delete(mapAt(tr, "Resources", "ApiStage", "Properties", "RouteSettings", "GET /sessions"), "ThrottlingBurstLimit")
			},
			want: []string{`RouteSettings["GET /sessions"] has no ThrottlingBurstLimit`},
		},
		{
			name: "throttling not from a parameter",
			mutate: func(tr map[string]any) {
				mapAt(tr, "Resources", "ApiStage", "Properties", "RouteSettings", "POST /revoke")["ThrottlingRateLimit"] = 1000.0
			},
			want: []string{`RouteSettings["POST /revoke"]`, "ThrottlingRateLimit must be !Ref to a Number parameter"},
		},
		{
			name:   "dynamodb:* on a policy",
			mutate: func(tr map[string]any) { statement0(tr, "AuthorizerFunction")["Action"] = "dynamodb:*" },
			want:   []string{"AuthorizerFunction statement Revocations allows \"dynamodb:*\""},
		},
		{
			name:   "data action on Resource *",
			mutate: func(tr map[string]any) { statement0(tr, "TokenServiceFunction")["Resource"] = "*" },
			want:   []string{"TokenServiceFunction statement Sessions allows", "dynamodb:GetItem", `on Resource "*"`},
		},
		{
			name: "authorizer may not write",
			mutate: func(tr map[string]any) {
				statement0(tr, "AuthorizerFunction")["Action"] = []any{"dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem"}
			},
			want: []string{"grants dynamodb:PutItem on ${Table.Arn}, which AuthorizerFunction may not have"},
		},
		{
			name: "authorizer may not read the index",
			mutate: func(tr map[string]any) {
				statement0(tr, "AuthorizerFunction")["Resource"] = []any{"${Table.Arn}", "${Table.Arn}/index/gsi1"}
			},
			want: []string{"grants dynamodb:Query on ${Table.Arn}/index/gsi1, which AuthorizerFunction may not have"},
		},
		{
			name: "wildcard index",
			mutate: func(tr map[string]any) {
				statement0(tr, "TokenServiceFunction")["Resource"] = []any{"${Table.Arn}", "${Table.Arn}/index/*"}
			},
			want: []string{`wildcard resource "${Table.Arn}/index/*"`},
		},
		{
			name: "managed policy",
			mutate: func(tr map[string]any) {
				props(tr, "CustomMessageFunction")["Policies"] = []any{"AmazonDynamoDBFullAccess"}
			},
			want: []string{"CustomMessageFunction: policy AmazonDynamoDBFullAccess is a managed policy"},
		},
		{
			name: "SAM policy template",
			mutate: func(tr map[string]any) {
				props(tr, "PreSignUpFunction")["Policies"] = []any{map[string]any{"DynamoDBCrudPolicy": map[string]any{"TableName": "${Table}"}}}
			},
			want: []string{"PreSignUpFunction: policy [DynamoDBCrudPolicy] is a SAM policy template"},
		},
		{
			name: "missing grant",
			mutate: func(tr map[string]any) {
				st := props(tr, "TokenServiceFunction")["Policies"].([]any)[0].(map[string]any)
				st["Statement"] = st["Statement"].([]any)[:1]
			},
			want: []string{"TokenServiceFunction lacks ssm:GetParameter on arn:${AWS::Partition}:ssm:"},
		},
		{
			name: "kms without the SSM condition",
			mutate: func(tr map[string]any) {
				st := props(tr, "VerifyAuthChallengeFunction")["Policies"].([]any)[0].(map[string]any)["Statement"].([]any)
				delete(st[len(st)-1].(map[string]any), "Condition")
			},
			want: []string{"grants kms:Decrypt without the condition kms:ViaService"},
		},
		{
			name:   "handler does not match the binary",
			mutate: func(tr map[string]any) { props(tr, "DefineAuthChallengeFunction")["Handler"] = "main" },
			want:   []string{`DefineAuthChallengeFunction: Handler is "main", want "bootstrap"`},
		},
		{
			name:   "x86 function",
			mutate: func(tr map[string]any) { mapAt(tr, "Globals", "Function")["Architectures"] = []any{"x86_64"} },
			want:   []string{"Architectures is [x86_64], want [arm64]"},
		},
		{
			name: "not built by make",
			mutate: func(tr map[string]any) {
				// from the sources (a packaged template has no Metadata)
				props(tr, "AuthorizerFunction")["CodeUri"] = "."
				delete(mapAt(tr, "Resources", "AuthorizerFunction"), "Metadata")
			},
			want: []string{`AuthorizerFunction: Metadata.BuildMethod is "", want "makefile"`},
		},
		{
			name:   "instant revocation promised",
			mutate: func(tr map[string]any) { tr["Description"] = "shortfuse: instant revocation" },
			want:   []string{"bounded revocation"},
		},
		{
			name: "prebuilt zip rebuilt by sam",
			mutate: func(tr map[string]any) {
				props(tr, "AuthorizerFunction")["CodeUri"] = "authorizer.zip"
				mapAt(tr, "Resources", "AuthorizerFunction")["Metadata"] = map[string]any{"BuildMethod": "makefile"}
			},
			want: []string{"AuthorizerFunction: CodeUri is the prebuilt authorizer.zip"},
		},
		{
			name: "function missing from the spec",
			mutate: func(tr map[string]any) {
				mapAt(tr, "Resources")["SpareFunction"] = deepCopy(mapAt(tr, "Resources", "CustomMessageFunction"))
			},
			want: []string{"SpareFunction is not listed in deploy.Functions"},
		},
		{
			name:   "table without point-in-time recovery",
			mutate: func(tr map[string]any) { delete(props(tr, "Table"), "PointInTimeRecoverySpecification") },
			want:   []string{"Table: point-in-time recovery must be enabled"},
		},
		{
			name:   "table without TTL",
			mutate: func(tr map[string]any) { delete(props(tr, "Table"), "TimeToLiveSpecification") },
			want:   []string{"TimeToLiveSpecification must enable TTL on attribute ttl"},
		},
		{
			name:   "token revocation off",
			mutate: func(tr map[string]any) { props(tr, "UserPoolClient")["EnableTokenRevocation"] = false },
			want:   []string{"UserPoolClient: EnableTokenRevocation must be true"},
		},
		{
			name: "Cognito mail",
			mutate: func(tr map[string]any) {
				mapAt(props(tr, "UserPool"), "EmailConfiguration")["EmailSendingAccount"] = "COGNITO_DEFAULT"
			},
			want: []string{"EmailSendingAccount DEVELOPER"},
		},
		{
			name: "authorizer cache keyed without the route",
			mutate: func(tr map[string]any) {
				props(tr, "ApiAuthorizer")["IdentitySource"] = []any{"$request.header.Authorization"}
			},
			want: []string{"IdentitySource", "must include $context.routeKey"},
		},
		{
			name:   "authorizer not invokable",
			mutate: func(tr map[string]any) { delete(mapAt(tr, "Resources"), "AuthorizerInvokePermission") },
			want:   []string{"no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke AuthorizerFunction"},
		},
		{
			name: "access log records the token",
			mutate: func(tr map[string]any) {
				mapAt(props(tr, "ApiStage"), "AccessLogSettings")["Format"] = `{"requestId":"$context.requestId","routeKey":"$context.routeKey","status":"$context.status","auth":"$request.header.Authorization"}`
			},
			want: []string{"must not record request headers"},
		},
		{
			name: "stage created before a route",
			mutate: func(tr map[string]any) {
				r := mapAt(tr, "Resources", "ApiStage")
				r["DependsOn"] = r["DependsOn"].([]any)[1:]
			},
			want: []string{"ApiStage must DependsOn TokenRoute"},
		},
		{
			name: "misspelt reference",
			mutate: func(tr map[string]any) {
				mapAt(props(tr, "PreSignUpFunction"), "Environment", "Variables")["SHORTFUSE_TABLE"] = "${Tabel}"
			},
			want: []string{`refers to "Tabel", which is neither a parameter nor a resource`},
		},
		{
			name: "CORS wildcard and credentials",
			mutate: func(tr map[string]any) {
				c := mapAt(props(tr, "HttpApi"), "CorsConfiguration")
				c["AllowOrigins"] = []any{"*"}
				c["AllowCredentials"] = true
			},
			want: []string{"never a wildcard"},
		},
		{
			name: "CORS headers drift",
			mutate: func(tr map[string]any) {
				mapAt(props(tr, "HttpApi"), "CorsConfiguration")["ExposeHeaders"] = []any{"WWW-Authenticate"}
			},
			want: []string{"ExposeHeaders", "DPoP-Nonce"},
		},
		{
			name: "issuer drift",
			mutate: func(tr map[string]any) {
				mapAt(props(tr, "AuthorizerFunction"), "Environment", "Variables")["SHORTFUSE_ISSUER"] = "https://example.com"
			},
			want: []string{"SHORTFUSE_ISSUER differs"},
		},
	}
	base := template(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := base.Clone()
			tt.mutate(tree)
			tpl, err := FromTree(tree)
			if err != nil {
				t.Fatal(err)
			}
			tpl.Raw = base.Raw // the references of the branches Tree does not show
			errs := Check(tpl)
			if len(errs) == 0 {
				t.Fatalf("the mistake was not caught")
			}
			wantProblem(t, errs, tt.want...)
		})
	}
}

// wantProblem fails t unless one of errs mentions every fragment of want.
func wantProblem(t *testing.T, errs []error, want ...string) {
	t.Helper()
	for _, e := range errs {
		if containsAll(e.Error(), want) {
			t.Logf("caught: %v", e)
			return
		}
	}
	t.Errorf("no problem mentions all of %q; got:%s", want, Join(errs))
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestCloneIsolated guards the planted-mistake tests: mutating a clone must
// never change the loaded template.
func TestCloneIsolated(t *testing.T) {
	base := template(t)
	tree := base.Clone()
	delete(mapAt(tree, "Resources"), "Table")
	if base.Resource("Table") == nil || mapAt(base.Tree, "Resources", "Table") == nil {
		t.Fatal("Clone shares state with the template")
	}
}

func TestPlaceholders(t *testing.T) {
	tpl, err := Parse([]byte(`
Transform: AWS::Serverless-2016-10-31
Parameters:
  N: {Type: Number, Default: "7"}
  S: {Type: String, Default: x}
Conditions:
  C: !Equals [!Ref S, ""]
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${S}-${AWS::Region}"
      Tags:
        - {Key: a, Value: !GetAtt T.Arn}
        - {Key: b, Value: !Join ["/", [!Ref S, !Ref N]]}
        - !If [C, {Key: c, Value: !Ref N}, !Ref AWS::NoValue]
        - !If [C, !Ref AWS::NoValue, {Key: d, Value: "${x}"}]
        - !Ref AWS::NoValue
      ProvisionedThroughput:
        ReadCapacityUnits: !Ref N
        WriteCapacityUnits: !Select [1, [!Ref N, !Ref N]]
`))
	if err != nil {
		t.Fatal(err)
	}
	p := mapAt(tpl.Tree, "Resources", "T", "Properties")
	if got := p["TableName"]; got != "${S}-${AWS::Region}" {
		t.Errorf("Sub: %v", got)
	}
	tags := p["Tags"].([]any)
	want := []string{"${T.Arn}", "${S}/${N}", "${N}", "${x}"}
	if len(tags) != len(want) {
		t.Fatalf("tags %v, want values %v", tags, want)
	}
	for i, w := range want {
		if got := tags[i].(map[string]any)["Value"]; got != w {
			t.Errorf("tag %d = %v, want %v", i, got, w)
		}
	}
	if got := mapAt(tpl.Typed, "Resources", "T", "Properties", "ProvisionedThroughput")["ReadCapacityUnits"]; got != 7.0 {
		t.Errorf("Typed Number parameter = %#v, want 7", got)
	}
	if got := mapAt(tpl.Tree, "Conditions", "C"); got["Fn::Equals"] == nil {
		t.Errorf("condition rewritten: %v", got)
	}
	if r := Refs("a${X}b${Y.Arn}${AWS::Region}"); len(r) != 3 || r[1] != (Ref{"Y", "Arn"}) || r[2].Name != "AWS::Region" {
		t.Errorf("Refs = %v", r)
	}
}

// BenchmarkCheck measures a full offline check of template.yaml.
func BenchmarkCheck(b *testing.B) {
	tpl, err := Load(*templatePath)
	if err != nil {
		b.Fatal(err)
	}
	Check(tpl) // compile the schemas once
	b.ResetTimer()
	for b.Loop() {
		Check(tpl)
	}
}

func TestCode(t *testing.T) {
	if errs := CheckCode(template(t), ".."); len(errs) > 0 {
		t.Fatalf("%s: %s:%s", *templatePath, count(errs), Join(errs))
	}
}

// TestCodeMistakes plants mistakes in a function's environment and shows
// that CheckCode names them.
func TestCodeMistakes(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(vars map[string]any)
		fn     string
		want   string
	}{
		{"required variable unset", func(v map[string]any) { delete(v, "SHORTFUSE_ISSUER") }, "TokenServiceFunction",
			"TokenServiceFunction does not set SHORTFUSE_ISSUER"},
		{"misspelt variable", func(v map[string]any) { v["SHORTFUSE_REVOCATION_POL"] = "1" }, "AuthorizerFunction",
			"AuthorizerFunction sets SHORTFUSE_REVOCATION_POL, which cmd/authorizer never reads"},
		{"variable of another function", func(v map[string]any) { v["SHORTFUSE_SIGNING_KEY"] = "ssm:/k" }, "AuthorizerFunction",
			"AuthorizerFunction sets SHORTFUSE_SIGNING_KEY, which cmd/authorizer never reads"},
		{"variable read but never used by this function's code", func(v map[string]any) { v["SHORTFUSE_MAIL_FROM"] = "a@example.com" }, "VerifyAuthChallengeFunction",
			"VerifyAuthChallengeFunction sets SHORTFUSE_MAIL_FROM, which cmd/verifyauth never reads"},
		{"local stack endpoint", func(v map[string]any) { v["SHORTFUSE_AWS_ENDPOINT"] = "http://127.0.0.1:4566" }, "PreSignUpFunction",
			"PreSignUpFunction sets SHORTFUSE_AWS_ENDPOINT, which must not be set in AWS"},
		{"shared setting on one function only", func(v map[string]any) { delete(v, "SHORTFUSE_AUTH_CODE_LENGTH") }, "VerifyAuthChallengeFunction",
			"set SHORTFUSE_AUTH_CODE_LENGTH but VerifyAuthChallengeFunction does not, though cmd/verifyauth reads it too"},
		{"shared setting with another value", func(v map[string]any) { v["SHORTFUSE_AUTH_MAX_ATTEMPTS"] = "5" }, "CreateAuthChallengeFunction",
			"SHORTFUSE_AUTH_MAX_ATTEMPTS is set to different values"},
	}
	base := template(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := base.Clone()
			tt.mutate(mapAt(props(tree, tt.fn), "Environment", "Variables"))
			tpl, err := FromTree(tree)
			if err != nil {
				t.Fatal(err)
			}
			tpl.Raw = base.Raw // the references of the branches Tree does not show
			errs := CheckCode(tpl, "..")
			wantProblem(t, errs, tt.want)
		})
	}
}

// TestGrantMistakes changes a function's grants in deploy.Functions (which
// CheckIAM holds the template to) and shows that the code analysis refuses
// a grant the code needs but lacks, and one it never uses.
func TestGrantMistakes(t *testing.T) {
	cmds := make([]string, 0, len(Functions))
	for _, f := range Functions {
		cmds = append(cmds, f.Cmd)
	}
	usage, err := analyseOnce("..", cmds)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		fn     string
		grants func(g []Grant) []Grant
		want   string
	}{
		{"missing action", "CreateAuthChallengeFunction", func(g []Grant) []Grant {
			g[0].Actions = []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}
			return g
		}, "cmd/createauth calls dynamodb:DeleteItem (createauth.main → "},
		{"unused action", "AuthorizerFunction", func(g []Grant) []Grant {
			g[0].Actions = []string{"dynamodb:Query", "dynamodb:GetItem"}
			return g
		}, "AuthorizerFunction is granted dynamodb:GetItem on ${Table.Arn}, but cmd/authorizer never calls it"},
		{"no mail", "CreateAuthChallengeFunction", func(g []Grant) []Grant {
			return append(g[:1:1], g[2:]...)
		}, "cmd/createauth calls ses:SendEmail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fns := make([]Function, len(Functions))
			copy(fns, Functions)
			for i := range fns {
				if fns[i].LogicalID == tt.fn {
					g := make([]Grant, len(fns[i].Grants))
					for j, gr := range fns[i].Grants {
						g[j] = Grant{Actions: append([]string(nil), gr.Actions...), Resources: gr.Resources, ViaService: gr.ViaService}
					}
					fns[i].Grants = tt.grants(g)
				}
			}
			errs := checkActions(fns, usage)
			wantProblem(t, errs, tt.want)
		})
	}
}

func TestBuild(t *testing.T) {
	if errs := CheckBuild(".."); len(errs) > 0 {
		t.Fatalf("Makefile: %s:%s", count(errs), Join(errs))
	}
}

func TestBuildCommandMistakes(t *testing.T) {
	f := Function{LogicalID: "TokenServiceFunction", Cmd: "tokensvc"}
	good := "mkdir -p /a && CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o /a/bootstrap ./cmd/tokensvc\n"
	if errs := buildCommand(f, "make x", good, "/a/bootstrap"); len(errs) > 0 {
		t.Fatalf("good command refused:%s", Join(errs))
	}
	tests := []struct{ out, want string }{
		{strings.Replace(good, "-o /a/bootstrap", "-o /a/tokensvc", 1), "does not write /a/bootstrap"},
		{strings.Replace(good, " -trimpath", "", 1), "builds without -trimpath"},
		{strings.Replace(good, "GOARCH=arm64", "GOARCH=amd64", 1), "builds without GOARCH=arm64"},
		{strings.Replace(good, "-tags lambda.norpc ", "", 1), "builds without -tags lambda.norpc"},
		{strings.Replace(good, "./cmd/tokensvc", "./cmd/authorizer", 1), "does not build ./cmd/tokensvc"},
	}
	for _, tt := range tests {
		errs := buildCommand(f, "make x", tt.out, "/a/bootstrap")
		if len(errs) == 0 || !strings.Contains(Join(errs), tt.want) {
			t.Errorf("want %q, got:%s", tt.want, Join(errs))
		}
	}
}
