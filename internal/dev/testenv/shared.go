package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// SharedDynalite is one dynalite for a whole test binary, for packages whose
// tests each take a table of their own: the first test that asks starts it
// (a run of tests that need none starts none), and TestMain stops it after
// the tests:
//
//	var sharedDB testenv.SharedDynalite
//
//	func TestMain(m *testing.M) { os.Exit(sharedDB.Run(m)) }
type SharedDynalite struct {
	once sync.Once
	d    *Dynamo
	err  error
}

// Get returns the shared dynalite, starting it on first use; when it cannot
// start, every test that asks fails with the reason.
func (s *SharedDynalite) Get(tb testing.TB) *Dynamo {
	tb.Helper()
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.d, s.err = StartDynalite(ctx)
	})
	if s.err != nil {
		tb.Fatal(s.err)
	}
	return s.d
}

// Run runs the tests, stops the dynalite if a test started it, and returns
// the exit code for os.Exit.
func (s *SharedDynalite) Run(m *testing.M) int {
	code := m.Run()
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}

// Close stops the dynalite if a test started it.
func (s *SharedDynalite) Close() error {
	if s.d == nil {
		return nil
	}
	return s.d.Close()
}
