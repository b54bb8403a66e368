package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// lambdaFlags must appear in every Lambda build command.
var lambdaFlags = []string{
	"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + Architecture,
	"-tags lambda.norpc", "-trimpath", "-s -w",
}

// CheckBuild asserts, with `make -n` (nothing is built), that the Makefile
// in root builds every function's main package into a file named after
// its Handler: the build-<LogicalID> target sam build runs, `make build`
// and `make package`.
func CheckBuild(root string) []error {
	var errs []error
	build, err := dryRun(root, "build")
	if err != nil {
		return []error{problem("build", "%v", err)}
	}
	pkg, err := dryRun(root, "package")
	if err != nil {
		return []error{problem("build", "%v", err)}
	}
	for _, f := range Functions {
		if _, err := os.Stat(filepath.Join(root, "cmd", f.Cmd, "main.go")); err != nil {
			errs = append(errs, problem("build", "%s: cmd/%s/main.go does not exist", f.LogicalID, f.Cmd))
		}
		target := "build-" + f.LogicalID
		out, err := dryRun(root, target, "ARTIFACTS_DIR=/artifacts")
		if err != nil {
			errs = append(errs, problem("build", "%s: sam build runs make %s: %v", f.LogicalID, target, err))
			continue
		}
		errs = append(errs, buildCommand(f, "make "+target, out, "/artifacts/"+Handler)...)
		errs = append(errs, buildCommand(f, "make build", build, "dist/"+f.Cmd+"/"+Handler)...)
		if !strings.Contains(pkg, f.LogicalID+"="+f.Cmd) {
			errs = append(errs, problem("build", "make package does not package %s as %s.zip (LAMBDAS lacks %s=%s)", f.LogicalID, f.Cmd, f.LogicalID, f.Cmd))
		}
	}
	return errs
}

// buildCommand finds the go build line for f's command in a dry run's
// output and checks its output file and flags.
func buildCommand(f Function, what, out, binary string) []error {
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if !strings.Contains(line, "go build") || !strings.Contains(line, "./cmd/"+f.Cmd+";") && !strings.HasSuffix(line, "./cmd/"+f.Cmd) {
			continue
		}
		var errs []error
		if !strings.Contains(line, "-o "+binary+" ") {
			errs = append(errs, problem("build", "%s: %s does not write %s (the Handler is %s)", f.LogicalID, what, binary, Handler))
		}
		for _, flag := range lambdaFlags {
			if !strings.Contains(line, flag) {
				errs = append(errs, problem("build", "%s: %s builds without %s", f.LogicalID, what, flag))
			}
		}
		return errs
	}
	return []error{problem("build", "%s: %s does not build ./cmd/%s", f.LogicalID, what, f.Cmd)}
}

func dryRun(root string, args ...string) (string, error) {
	cmd := exec.Command("make", append([]string{"-n", "-s", "--no-print-directory", "-C", root}, args...)...)
	// Under make test, the parent make's flags and jobserver must not leak in.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return name == "MAKEFLAGS" || name == "MFLAGS" || name == "MAKELEVEL" || name == "MAKEOVERRIDES"
	})
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("make -n %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
