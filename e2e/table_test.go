package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shortfuse/shortfuse/e2e/benchtable"
)

// benchCapture copies what the testing package writes to standard output
// while benchmarks run, so that the table of figures and goals can be built
// from exactly the results it printed.
type benchCapture struct {
	stdout *os.File
	w      *os.File
	buf    bytes.Buffer
	done   chan struct{}
}

// captureBenchmarks starts copying standard output when benchmarks were
// asked for (-test.bench); it returns nil otherwise. It must be called
// after flag.Parse and before m.Run.
func captureBenchmarks() *benchCapture {
	f := flag.Lookup("test.bench")
	if f == nil || f.Value.String() == "" {
		return nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchmark table disabled:", err)
		return nil
	}
	c := &benchCapture{stdout: os.Stdout, w: w, done: make(chan struct{})}
	os.Stdout = w
	go func() {
		defer close(c.done)
		_, _ = io.Copy(io.MultiWriter(c.stdout, &c.buf), r)
		r.Close()
	}()
	return c
}

// finish restores standard output and prints the table of the figures
// measured in this run, with the ones missing from it named.
func (c *benchCapture) finish() {
	if c == nil {
		return
	}
	os.Stdout = c.stdout
	c.w.Close()
	<-c.done
	res, err := benchtable.Parse(&c.buf, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchmark table:", err)
		return
	}
	t := benchtable.Build(res)
	if t.Empty() {
		return
	}
	fmt.Println()
	fmt.Println("Authorizer figures of this run (goals from the design):")
	t.Print(os.Stdout)
	if len(t.Missing) > 0 {
		fmt.Println("Not measured in this run:", strings.Join(t.Missing, ", "))
	}
	if u := t.Unmet(); len(u) > 0 {
		fmt.Println("Goal not met:", strings.Join(u, "; "))
	}
}
