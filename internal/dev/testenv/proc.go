package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// process is one emulator child process.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd.Wait has returned
	err  error         // cmd.Wait result, valid after done
	out  *tailBuffer
}

// spec describes how to launch an emulator on a given port.
type spec struct {
	name    string
	program string // executable; "" runs Node.js with args
	dir     string
	env     func(port int) []string // extra environment, may be nil
	args    func(port int) []string
	health  func(port int) string // URL answering 2xx (or any status when anyStatus) once ready
	// anyStatus treats every HTTP response as ready (dynalite has no health route).
	anyStatus bool
	output    io.Writer
}

// launch starts the process and waits until its health URL answers.
func launch(ctx context.Context, sp spec, port int) (*process, error) {
	bin := sp.program
	if bin == "" {
		node, err := nodeOnce()
		if err != nil {
			return nil, err
		}
		bin = node
	}
	cmd := exec.Command(bin, sp.args(port)...)
	cmd.Dir = sp.dir
	cmd.Env = os.Environ()
	if sp.env != nil {
		cmd.Env = append(cmd.Env, sp.env(port)...)
	}
	cmd.Stdin = nil
	out := &tailBuffer{max: 64 << 10}
	var w io.Writer = out
	if sp.output != nil {
		w = io.MultiWriter(out, sp.output)
	}
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("testenv: start %s: %w", sp.name, err)
	}
	p := &process{name: sp.name, cmd: cmd, done: make(chan struct{}), out: out}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(ctx, sp.health(port), sp.anyStatus); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *process) waitReady(ctx context.Context, url string, anyStatus bool) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultStartTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("testenv: %s health check: %w", p.name, err)
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if anyStatus || resp.StatusCode/100 == 2 {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("testenv: %s exited before it was ready (%v); output:\n%s", p.name, p.err, p.out.String())
		case <-ctx.Done():
			return fmt.Errorf("testenv: %s not ready at %s: %w; output:\n%s", p.name, url, ctx.Err(), p.out.String())
		case <-tick.C:
		}
	}
}

// stop ends the whole process group: SIGTERM, then SIGKILL after a grace
// period. It returns once the process has been reaped.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	signalGroup(p.cmd, false)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
	}
	// Kill the group even when the leader exited: it reaps nothing else,
	// but a stray grandchild must not outlive the test.
	signalGroup(p.cmd, true)
	<-p.done
}

// output returns the last lines the process wrote.
func (p *process) output() string { return p.out.String() }

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startOnPort launches sp on the fixed port, or on a free port retried a few
// times when another process grabs it first.
func startOnPort(ctx context.Context, sp spec, fixed int) (*process, int, error) {
	if fixed != 0 {
		if err := checkPortFree(fixed); err != nil {
			return nil, 0, fmt.Errorf("testenv: %s: %w", sp.name, err)
		}
		p, err := launch(ctx, sp, fixed)
		return p, fixed, err
	}
	var lastErr error
	for range 3 {
		port, err := FreePort()
		if err != nil {
			return nil, 0, err
		}
		p, err := launch(ctx, sp, port)
		if err == nil {
			return p, port, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "EADDRINUSE") || ctx.Err() != nil {
			break
		}
	}
	return nil, 0, lastErr
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testenv: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ErrPortInUse reports that a fixed port is already taken.
var ErrPortInUse = errors.New("port already in use")

func checkPortFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("127.0.0.1:%d: %w", port, ErrPortInUse)
	}
	return l.Close()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// closedChan is returned by Done when no process runs.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func doneOf(p *process) <-chan struct{} {
	if p == nil {
		return closedChan
	}
	return p.done
}
