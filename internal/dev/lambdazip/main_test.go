package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/deploy"
)

func TestZipReproducible(t *testing.T) {
	dist := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dist, "fn"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dist, "fn", "bootstrap"), bytes.Repeat([]byte("binary"), 1000), 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(&out, dist, "", []string{"fn"}); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(filepath.Join(dist, "fn.zip"))
	if err := run(&out, dist, "", []string{"fn"}); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(dist, "fn.zip"))
	if !bytes.Equal(first, second) {
		t.Error("zipping the same binary twice gave different zips")
	}
	zr, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("zip entries: %+v", zr.File)
	}
	if !strings.Contains(out.String(), "fn") {
		t.Errorf("no size report: %q", out.String())
	}
}

func TestMissingBinary(t *testing.T) {
	err := run(&bytes.Buffer{}, t.TempDir(), "", []string{"nothere"})
	if err == nil || !strings.Contains(err.Error(), "run make build") {
		t.Fatalf("err = %v", err)
	}
}

func TestRewriteTemplate(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "template.yaml")
	src := `Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: .
      Environment:
        Variables:
          T: !Ref Table   # kept
  Table:
    Type: AWS::DynamoDB::Table
`
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.yaml")
	if err := rewriteTemplate(in, out, map[string]string{"Fn": "fn.zip"}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	for _, want := range []string{"CodeUri: fn.zip", "T: !Ref Table", "# kept"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(string(got), "BuildMethod") {
		t.Errorf("build metadata kept:\n%s", got)
	}
	if err := rewriteTemplate(in, out, map[string]string{}); err == nil {
		t.Error("a function without a zip was accepted")
	}
}

// TestPackagedTemplate packages the project's template and checks that the
// result is the same deployment: it passes every offline check except the
// two that describe building with sam build, and each function points at
// its zip.
func TestPackagedTemplate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "template.yaml")
	uris := map[string]string{}
	for _, f := range deploy.Functions {
		uris[f.LogicalID] = f.Cmd + ".zip"
	}
	if err := rewriteTemplate("../../../template.yaml", out, uris); err != nil {
		t.Fatal(err)
	}
	tpl, err := deploy.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, e := range deploy.Check(tpl) {
		if msg := e.Error(); !strings.Contains(msg, "CodeUri must be") && !strings.Contains(msg, "Metadata.BuildMethod") {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		t.Errorf("packaged template:%s", deploy.Join(errs))
	}
	for _, f := range deploy.Functions {
		if got := tpl.Props(f.LogicalID)["CodeUri"]; got != f.Cmd+".zip" {
			t.Errorf("%s: CodeUri %v, want %s.zip", f.LogicalID, got, f.Cmd)
		}
	}
}
