// Command devstack runs the whole shortfuse stack locally on real emulators:
// dynalite (DynamoDB), cognito-local (Cognito user pools) with every trigger
// pointed at a local Lambda Invoke API serving the project's functions,
// aws-ses-v2-local (SES v2), and the project's HTTP services.
//
// Run it with `make dev` (or `go run ./internal/dev/cmd/devstack`) from the repository.
// It writes every URL and id to .devstack/endpoints.json, prints commands to
// try the stack, and runs until interrupted (Ctrl-C, SIGINT or SIGTERM), when
// it stops every child process and exits 0 (a second Ctrl-C exits at once,
// status 130). State lives in memory for one run unless
// -persist is given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
)

func main() {
	exitWithParent()
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		// A second Ctrl-C ends the process at once; the emulators die with
		// it (parent-death signal). Further SIGTERMs are ignored: the kernel
		// may send the parent-death SIGTERM once per exiting parent thread.
		for sig := range sigs {
			if sig == os.Interrupt {
				fmt.Fprintln(os.Stderr, "devstack: interrupted again, exiting now")
				os.Exit(130)
			}
		}
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run starts the stack and blocks until ctx ends or a component fails. It
// returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	begin := time.Now()
	cfg, err := parseConfig(args, os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "devstack:", err)
		return 2
	}
	if cfg.dir == "" {
		root, err := testenv.RepoRoot()
		if err != nil {
			fmt.Fprintln(stderr, "devstack:", err)
			return 1
		}
		cfg.dir = filepath.Join(root, ".devstack")
	}
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		fmt.Fprintln(stderr, "devstack:", err)
		return 1
	}
	pidFile := filepath.Join(cfg.dir, "devstack.pid")
	if err := acquirePIDFile(pidFile); err != nil {
		fmt.Fprintln(stderr, "devstack:", err)
		return 1
	}
	defer releasePIDFile(pidFile)
	endpointsFile := filepath.Join(cfg.dir, "endpoints.json")
	_ = os.Remove(endpointsFile) // stale values from a crashed run would mislead

	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	fmt.Fprintln(stderr, "devstack: starting dynalite, cognito-local, aws-ses-v2-local, the Lambda host and services...")
	st, err := startStack(ctx, cfg, logger)
	if err != nil {
		if ctx.Err() != nil {
			// What had started is stopped: a clean end, as after start-up.
			fmt.Fprintln(stderr, "devstack: interrupted during start-up; stopped")
			return 0
		}
		fmt.Fprintln(stderr, "devstack:", err)
		return 1
	}
	code := 0
	func() {
		defer st.close()
		defer os.Remove(endpointsFile)
		defer os.Remove(filepath.Join(cfg.dir, "auth.json")) // tokens saved by the walkthrough
		if err := writeEndpoints(endpointsFile, st.env); err != nil {
			fmt.Fprintln(stderr, "devstack:", err)
			code = 1
			return
		}
		fmt.Fprint(stdout, walkthrough(st.env, cfg.dir, os.Getpid()))
		fmt.Fprintf(stderr, "devstack: up in %.1fs; Ctrl-C to stop\n", time.Since(begin).Seconds())
		if err := st.wait(ctx); err != nil {
			fmt.Fprintln(stderr, "devstack:", err)
			code = 1
		}
		fmt.Fprintln(stderr, "devstack: stopping...")
	}()
	if code == 0 {
		fmt.Fprintln(stderr, "devstack: stopped")
	}
	return code
}
