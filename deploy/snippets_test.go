package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
)

func snippetFiles(t *testing.T) []string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "docs", "snippets", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no snippets in docs/snippets (%v)", err)
	}
	return files
}

// TestSnippets checks the templates the deploy guide gives for attaching
// the authorizer to an API you already have (CheckSnippet).
func TestSnippets(t *testing.T) {
	shapes := map[string]bool{}
	for _, f := range snippetFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tpl, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if errs := CheckSnippet(tpl); len(errs) > 0 {
				t.Fatalf("%s:%s", count(errs), Join(errs))
			}
			shapes[scalarString(mapAt(tpl.Effective, "Metadata", "Shortfuse")["AuthorizerShape"])] = true
		})
	}
	for _, s := range []string{"rest-token", "rest-request", "http-simple"} {
		if !shapes[s] {
			t.Errorf("no snippet for AuthorizerShape %s", s)
		}
	}
}

// TestSnippetsPlanted: the mistakes the checker exists for are caught in
// each snippet's own text.
func TestSnippetsPlanted(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		file, name, old, new string
		want                 []string
	}{
		{"existing-rest-api-token.yaml", "shape of another kind", "AuthorizerShape: rest-token", "AuthorizerShape: rest-request", []string{"Type is \"TOKEN\"", "REQUEST"}},
		{"existing-rest-api-token.yaml", "identity source of the HTTP API", "IdentitySource: method.request.header.Authorization", "IdentitySource: method.request.header.Authorization,context.routeKey", []string{"IdentitySource"}},
		{"existing-rest-api-token.yaml", "validation refusing lower-case bearer", "^[Bb][Ee][Aa][Rr][Ee][Rr] +", "^Bearer +", []string{"refuses", "bearer "}},
		{"existing-rest-api-token.yaml", "validation letting DPoP through", "^[Bb][Ee][Aa][Rr][Ee][Rr] +", "^[A-Za-z]+ +", []string{"lets", "DPoP"}},
		{"existing-rest-api-token.yaml", "cache TTL defaulting above 0", "Default: \"0\"", "Default: \"300\"", []string{"must default to 0"}},
		{"existing-rest-api-token.yaml", "one identity header left out", "          integration.request.header.x-shortfuse-scope: context.authorizer.scope\n", "", []string{"x-shortfuse-scope", "a client could send it"}},
		{"existing-rest-api-token.yaml", "header from the client", "integration.request.header.x-shortfuse-sid: context.authorizer.sid", "integration.request.header.x-shortfuse-sid: method.request.header.x-shortfuse-sid", []string{"x-shortfuse-sid is mapped from"}},
		{"existing-rest-api-request.yaml", "method without the authorizer", "      AuthorizationType: CUSTOM\n", "      AuthorizationType: NONE\n", []string{"AuthorizationType CUSTOM"}},
		{"existing-rest-api-request.yaml", "permission for the whole API", "${RestApiId}/authorizers/${ShortfuseAuthorizer}", "${RestApiId}/*", []string{"no Lambda permission"}},
		{"existing-http-api.yaml", "route key left out of the cache key", "        - $context.routeKey\n", "", []string{"IdentitySource"}},
		{"existing-http-api.yaml", "list-valued groups forwarded", "$context.authorizer.groupsHeader", "$context.authorizer.groups", []string{"x-shortfuse-groups is mapped from"}},
		{"existing-http-api.yaml", "identity header appended", "overwrite:header.x-shortfuse-sub:", "append:header.x-shortfuse-sub:", []string{"keeps or adds the client's value"}},
	} {
		t.Run(tt.file+"/"+tt.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(root, "docs", "snippets", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(string(src), tt.old) != 1 {
				t.Fatalf("%s no longer holds %q exactly once; update the test", tt.file, tt.old)
			}
			tpl, err := Parse([]byte(strings.Replace(string(src), tt.old, tt.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			wantProblem(t, CheckSnippet(tpl), tt.want...)
		})
	}
}
