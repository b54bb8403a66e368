package deploy

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

var envName = regexp.MustCompile(`^SHORTFUSE_[A-Z0-9_]*[A-Z0-9]$`)

// VarsRead returns, for each command (a directory under cmd/), the
// SHORTFUSE_ variables named by string literals in the non-test Go files
// of the command and every package of this module it depends on. It runs
// `go list` in root.
func VarsRead(root string, cmds []string) (map[string][]string, error) {
	args := []string{"list", "-deps", "-f", "{{.ImportPath}}\t{{.Module}}\t{{.Dir}}\t{{join .GoFiles \",\"}}\t{{join .Deps \",\"}}"}
	for _, c := range cmds {
		args = append(args, "./cmd/"+c)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	type pkg struct {
		dir   string
		files []string
		deps  []string
	}
	pkgs := map[string]pkg{}
	var module string
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if len(f) != 5 {
			continue
		}
		if strings.HasSuffix(f[0], "/cmd/"+cmds[0]) && module == "" {
			module = strings.TrimSuffix(f[0], "/cmd/"+cmds[0])
		}
		pkgs[f[0]] = pkg{dir: f[2], files: strings.Split(f[3], ","), deps: strings.Split(f[4], ",")}
	}
	if module == "" {
		return nil, fmt.Errorf("go list: no package for ./cmd/%s", cmds[0])
	}

	cache := map[string][]string{}
	literals := func(path string) ([]string, error) {
		if v, ok := cache[path]; ok {
			return v, nil
		}
		p := pkgs[path]
		var names []string
		fset := token.NewFileSet()
		for _, name := range p.files {
			if name == "" {
				continue
			}
			file, err := parser.ParseFile(fset, filepath.Join(p.dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			ast.Inspect(file, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && envName.MatchString(s) {
						names = append(names, s)
					}
				}
				return true
			})
		}
		cache[path] = names
		return names, nil
	}

	result := map[string][]string{}
	for _, c := range cmds {
		main := module + "/cmd/" + c
		p, ok := pkgs[main]
		if !ok {
			return nil, fmt.Errorf("go list: no package for ./cmd/%s", c)
		}
		var names []string
		for _, path := range append([]string{main}, p.deps...) {
			if path != module && !strings.HasPrefix(path, module+"/") {
				continue
			}
			n, err := literals(path)
			if err != nil {
				return nil, err
			}
			names = append(names, n...)
		}
		slices.Sort(names)
		result[c] = slices.Compact(names)
	}
	return result, nil
}

var (
	readsMu    sync.Mutex
	readsCache = map[string]map[string][]string{}
)

// varsReadOnce memoizes VarsRead: the code does not change while a test
// binary runs, and go list takes a while.
func varsReadOnce(root string, cmds []string) (map[string][]string, error) {
	key := root + "\x00" + strings.Join(cmds, ",")
	readsMu.Lock()
	defer readsMu.Unlock()
	if r, ok := readsCache[key]; ok {
		return r, nil
	}
	r, err := VarsRead(root, cmds)
	if err == nil {
		readsCache[key] = r
	}
	return r, err
}

// CheckEnv asserts, for every function, that its Environment sets each
// variable of Function.Env, that the code (cmd/<Cmd> and the module's
// packages it imports) reads every SHORTFUSE_ variable set, and that no
// Forbidden variable is set. root is the module root.
func CheckEnv(t *Template, root string) []error {
	cmds := make([]string, 0, len(Functions))
	for _, f := range Functions {
		cmds = append(cmds, f.Cmd)
	}
	reads, err := varsReadOnce(root, cmds)
	if err != nil {
		return []error{problem("env", "%v", err)}
	}
	var errs []error
	for _, f := range Functions {
		set := mapAt(t.Effective, "Resources", f.LogicalID, "Properties", "Environment", "Variables")
		for _, name := range f.Env {
			if v, ok := set[name]; !ok || v == "" {
				errs = append(errs, problem("env", "%s does not set %s, which it needs", f.LogicalID, name))
			}
			if !slices.Contains(reads[f.Cmd], name) {
				errs = append(errs, problem("env", "deploy.Functions says %s needs %s, but cmd/%s never reads it", f.LogicalID, name, f.Cmd))
			}
		}
		for _, name := range sortedKeys(set) {
			switch {
			case slices.Contains(Forbidden, name):
				errs = append(errs, problem("env", "%s sets %s, which must not be set in AWS", f.LogicalID, name))
			case strings.HasPrefix(name, "SHORTFUSE_") && !slices.Contains(reads[f.Cmd], name):
				errs = append(errs, problem("env", "%s sets %s, which cmd/%s never reads (misspelt or stale?)", f.LogicalID, name, f.Cmd))
			}
		}
	}
	return errs
}
