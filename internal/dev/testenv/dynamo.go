package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Dynamo is a running dynalite, a local DynamoDB. It has no transactions and
// no TTL. Unless started with Persistent or WithDataDir its data lives in
// memory and is lost on Stop.
type Dynamo struct {
	Endpoint string           // "http://127.0.0.1:<Port>"
	Port     int              // fixed for the life of the value, across Stop and Start
	Client   *dynamodb.Client // endpoint override, static credentials, Region

	mu      sync.Mutex
	sp      spec
	proc    *process
	last    *process // most recent process, for Output after Stop
	tempDir string   // created for Persistent, removed by Close
}

// Dynalite starts dynalite for the duration of the test.
func Dynalite(t testing.TB, opts ...Option) *Dynamo {
	t.Helper()
	d, err := StartDynalite(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dynalite output:\n%s", d.Output())
		}
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

// StartDynalite starts dynalite and waits until it answers. The caller must
// call Close (or Stop, when not Persistent).
func StartDynalite(ctx context.Context, opts ...Option) (*Dynamo, error) {
	s := newSettings(opts)
	_, cli, root, err := script("dynalite/cli.js")
	if err != nil {
		return nil, err
	}
	d := &Dynamo{}
	dataDir := s.dataDir
	if dataDir == "" && s.persist {
		dataDir, err = os.MkdirTemp("", "testenv-dynalite-")
		if err != nil {
			return nil, fmt.Errorf("testenv: dynalite data dir: %w", err)
		}
		d.tempDir = dataDir
	}
	d.sp = spec{
		name:   "dynalite",
		dir:    root,
		output: s.output,
		args: func(port int) []string {
			a := []string{cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
				"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
			if dataDir != "" {
				a = append(a, "--path", dataDir)
			}
			return a
		},
		health:    func(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) + "/" },
		anyStatus: true,
	}
	p, port, err := startOnPort(ctx, d.sp, s.port)
	if err != nil {
		d.removeTemp()
		return nil, err
	}
	d.proc, d.last = p, p
	d.Port = port
	d.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	d.Client = dynamodb.NewFromConfig(AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(d.Endpoint)
	})
	return d, nil
}

// Stop stops dynalite, leaving Endpoint and Client in place so that Start can
// bring it back on the same port. Stopping a stopped Dynamo does nothing.
func (d *Dynamo) Stop() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc != nil {
		// A paused process would not act on SIGTERM until killed.
		_ = pauseGroup(d.proc.cmd, false)
		d.proc.stop()
		d.proc = nil
	}
	return nil
}

// Start starts a stopped dynalite again on the same port and waits until it
// answers. Starting a running Dynamo does nothing.
func (d *Dynamo) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc != nil && !d.proc.exited() {
		return nil
	}
	if d.sp.args == nil {
		return errors.New("testenv: Dynamo was not created by StartDynalite")
	}
	p, _, err := startOnPort(ctx, d.sp, d.Port)
	if err != nil {
		return err
	}
	d.proc, d.last = p, p
	return nil
}

// Restart stops dynalite and starts it again on the same port.
func (d *Dynamo) Restart(ctx context.Context) error {
	if err := d.Stop(); err != nil {
		return err
	}
	return d.Start(ctx)
}

// Pause freezes dynalite (SIGSTOP to its process group): connections stay
// open and requests hang, as with a DynamoDB that stopped answering. Resume
// undoes it; Stop and Close resume first. Not available on Windows.
func (d *Dynamo) Pause() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil || d.proc.exited() {
		return errors.New("testenv: dynalite is not running")
	}
	return pauseGroup(d.proc.cmd, true)
}

// Resume lets a paused dynalite run again (SIGCONT).
func (d *Dynamo) Resume() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil || d.proc.exited() {
		return errors.New("testenv: dynalite is not running")
	}
	return pauseGroup(d.proc.cmd, false)
}

// Close stops dynalite and removes the data directory Persistent created.
func (d *Dynamo) Close() error {
	err := d.Stop()
	d.removeTemp()
	return err
}

// Output returns the last lines dynalite printed.
func (d *Dynamo) Output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.last == nil {
		return ""
	}
	return d.last.output()
}

func (d *Dynamo) removeTemp() {
	if d.tempDir != "" {
		_ = os.RemoveAll(d.tempDir)
		d.tempDir = ""
	}
}

// Done is closed when the current dynalite process exits, whether by Stop or
// by crashing. After Start it refers to the new process.
func (d *Dynamo) Done() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return doneOf(d.proc)
}
