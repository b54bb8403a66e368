package dev

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/shortfuse/shortfuse"

// TestNoProductionDependsOnDev fails when any package outside internal/dev
// (every Lambda function, the CLI and the libraries they use) imports dev
// tooling in non-test code, directly or through another package.
func TestNoProductionDependsOnDev(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../cmd/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var deps int
	for _, p := range strings.Fields(string(out)) {
		if !strings.HasPrefix(p, module+"/") {
			continue
		}
		deps++
		if strings.HasPrefix(p, module+"/internal/dev") {
			t.Errorf("a production command depends on %s", p)
		}
	}
	if deps < 10 {
		t.Fatalf("go list found only %d of the module's packages behind cmd/...; the check is not looking at the right place", deps)
	}
	out, err = exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "../../...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], module+"/internal/dev") {
			continue
		}
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, module+"/internal/dev") {
				t.Errorf("%s imports %s outside its tests", f[0], imp)
			}
		}
	}
}
