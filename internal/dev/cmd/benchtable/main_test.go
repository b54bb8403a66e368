package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	const (
		partial = "BenchmarkDecisionRepeated-2 \t 100\t 1500 ns/op\t 0 B/op\t 0 allocs/op\nPASS\n"
		slow    = "BenchmarkDecisionRepeated-2 \t 100\t 9500 ns/op\t 0 B/op\t 0 allocs/op\nPASS\n"
	)
	tests := []struct {
		name   string
		in     string
		strict bool
		want   int
		out    string
	}{
		{"missing, lenient", partial, false, 0, "Not measured in this run: "},
		{"missing, strict", partial, true, 1, "Not measured in this run: "},
		{"goal not met, strict", slow, true, 1, "Goal not met: repeated decision (cache hit)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(strings.NewReader(tt.in), &out, &errOut, tt.strict); code != tt.want {
				t.Fatalf("exit %d, want %d", code, tt.want)
			}
			if !strings.Contains(out.String(), "| repeated decision (cache hit)") || !strings.Contains(out.String(), tt.out) ||
				!strings.HasPrefix(errOut.String(), tt.in) {
				t.Fatalf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
			}
		})
	}
}
