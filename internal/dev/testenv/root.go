package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// RepoRoot walks up from the working directory to the directory holding
// package.json and checks that the npm dependencies are installed there.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testenv: working directory: %w", err)
	}
	return repoRootFrom(wd)
}

func repoRootFrom(dir string) (string, error) {
	for d := dir; ; {
		if fi, err := os.Stat(filepath.Join(d, "package.json")); err == nil && !fi.IsDir() {
			nm := filepath.Join(d, "node_modules")
			if fi, err := os.Stat(nm); err != nil || !fi.IsDir() {
				return "", fmt.Errorf("testenv: %s is missing: run `npm ci` in %s", nm, d)
			}
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("testenv: no package.json found in %s or any parent directory", dir)
		}
		d = parent
	}
}

var nodeOnce = sync.OnceValues(func() (string, error) {
	p, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("testenv: node not found in PATH: install Node.js (20 or later) and run `npm ci`")
	}
	return p, nil
})

// script resolves the node binary and a script inside node_modules.
func script(rel string) (node, path, root string, err error) {
	root, err = RepoRoot()
	if err != nil {
		return "", "", "", err
	}
	node, err = nodeOnce()
	if err != nil {
		return "", "", "", err
	}
	path = filepath.Join(root, "node_modules", filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		return "", "", "", fmt.Errorf("testenv: %s is missing: run `npm ci` in %s", path, root)
	}
	return node, path, root, nil
}
