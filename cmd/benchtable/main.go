// Command benchtable reads `go test -bench` output on standard input and
// prints the authorizer's figures, each next to its goal, as one table (see
// package e2e/benchtable). Every ratio is computed from figures of the same
// run.
//
//	go test -run '^$' -bench . -benchmem ./e2e | go run ./cmd/benchtable
//
// The e2e benchmarks print the same table themselves when they finish; this
// command rebuilds it from saved output. The benchmark output is echoed to
// standard error. The exit status is 1 when a benchmark the table needs is
// missing, and 2 when a goal is not met.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shortfuse/shortfuse/e2e/benchtable"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Stderr))
}

func run(in io.Reader, out, errOut io.Writer) int {
	res, err := benchtable.Parse(in, errOut)
	if err != nil {
		fmt.Fprintln(errOut, "benchtable:", err)
		return 1
	}
	t := benchtable.Build(res)
	fmt.Fprintln(out)
	t.Print(out)
	if len(t.Missing) > 0 {
		fmt.Fprintln(errOut, "benchtable: missing:", strings.Join(t.Missing, ", "))
		return 1
	}
	if u := t.Unmet(); len(u) > 0 {
		fmt.Fprintln(errOut, "benchtable: goal not met:", strings.Join(u, "; "))
		return 2
	}
	return 0
}
