package deploy

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
)

// TestSnippets checks the templates the deploy guide gives for attaching
// the authorizer to an API you already have: valid against the schema, no
// reference to nothing, and wired as the stack's own API is.
func TestSnippets(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "docs", "snippets", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no snippets in docs/snippets (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tpl, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			errs := append(Validate(tpl), CheckReferences(tpl)...)
			if tpl.ParseErr != nil {
				t.Fatal(tpl.ParseErr)
			}
			for id, a := range tpl.CFN.GetAllApiGatewayV2AuthorizerResources() {
				fail := func(format string, args ...any) { errs = append(errs, problem("snippet", id+": "+format, args...)) }
				if !strings.Contains(str(a.AuthorizerUri), "${AuthorizerFunctionArn}") {
					fail("AuthorizerUri must invoke the stack's AuthorizerFunctionArn")
				}
				if a.AuthorizerType != "REQUEST" || str(a.AuthorizerPayloadFormatVersion) != "2.0" || a.EnableSimpleResponses == nil || !*a.EnableSimpleResponses {
					fail("want a REQUEST authorizer, payload 2.0, simple responses (the stack's function answers in that shape)")
				}
				if !slices.Equal(a.IdentitySource, []string{"$request.header.Authorization", "$context.routeKey"}) {
					fail("IdentitySource is %v, want the stack's output AuthorizerIdentitySource", a.IdentitySource)
				}
				if !invokableFrom(tpl, "${AuthorizerFunctionArn}", "/authorizers/${"+id+"}") {
					fail("no Lambda permission lets apigateway.amazonaws.com invoke the function from this authorizer only")
				}
			}
			for id, r := range tpl.CFN.GetAllApiGatewayV2RouteResources() {
				if str(r.AuthorizationType) != "CUSTOM" || !strings.HasPrefix(str(r.AuthorizerId), "${") {
					errs = append(errs, problem("snippet", "%s: a protected route needs AuthorizationType CUSTOM and the authorizer", id))
				}
			}
			if len(errs) > 0 {
				t.Fatalf("%s:%s", count(errs), Join(errs))
			}
		})
	}
}

func invokableFrom(t *Template, fn, sourceSuffix string) bool {
	for _, p := range t.CFN.GetAllLambdaPermissionResources() {
		if p.Action == "lambda:InvokeFunction" && p.Principal == "apigateway.amazonaws.com" && p.FunctionName == fn &&
			strings.HasSuffix(str(p.SourceArn), sourceSuffix) {
			return true
		}
	}
	return false
}
