package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	in := "BenchmarkDecisionRepeated-2 \t 100\t 1500 ns/op\t 0 B/op\t 0 allocs/op\nPASS\n"
	var out, errOut bytes.Buffer
	if code := run(strings.NewReader(in), &out, &errOut); code != 1 {
		t.Fatalf("exit %d with benchmarks missing, want 1", code)
	}
	if !strings.Contains(out.String(), "| repeated decision (cache hit)") || !strings.Contains(errOut.String(), "missing: ") ||
		!strings.HasPrefix(errOut.String(), in) {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
}
