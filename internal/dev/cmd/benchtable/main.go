// Command benchtable reads `go test -bench` output on standard input, echoes
// it to standard error and prints the authorizer's and the token service's
// figures, each next to its goal, as one table (see package internal/dev/benchtable).
// Every ratio is computed from figures of the same run.
//
//	go test -run '^$' -bench . -benchmem ./e2e ./tokensvc | go run ./internal/dev/cmd/benchtable
//
// Figures missing from the input and goals not met are listed after the
// table. With -strict the exit status is then 1 (missing) or 2 (goal not
// met); without it, 0 whenever the input could be read.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shortfuse/shortfuse/internal/dev/benchtable"
)

func main() {
	strict := flag.Bool("strict", false, "exit non-zero when a figure is missing or a goal is not met")
	flag.Parse()
	os.Exit(run(os.Stdin, os.Stdout, os.Stderr, *strict))
}

func run(in io.Reader, out, errOut io.Writer, strict bool) int {
	res, err := benchtable.Parse(in, errOut)
	if err != nil {
		fmt.Fprintln(errOut, "benchtable:", err)
		return 1
	}
	t := benchtable.Build(res)
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Figures of this run (goals from the design):")
	t.Print(out)
	code := 0
	if len(t.Missing) > 0 {
		fmt.Fprintln(out, "Not measured in this run:", strings.Join(t.Missing, ", "))
		code = 1
	}
	if u := t.Unmet(); len(u) > 0 {
		fmt.Fprintln(out, "Goal not met:", strings.Join(u, "; "))
		if code == 0 {
			code = 2
		}
	}
	if !strict {
		return 0
	}
	return code
}
