package testenv

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// ErrNoMoto means moto_server is not on PATH. It is installed on some
// development machines only, never required: tests that use it skip.
var ErrNoMoto = errors.New("testenv: moto_server not on PATH (pip install 'moto[server]' to run these tests)")

// Moto is a running moto_server, a second, independent emulation of AWS
// APIs (Cognito user pools, DynamoDB, SSM) to check code against.
type Moto struct {
	Endpoint string // "http://127.0.0.1:<Port>"
	Port     int
	Cognito  *cip.Client // endpoint override, static credentials

	proc *process
}

// MotoServer starts moto_server for the duration of the test, or skips the
// test, saying why, when moto_server is not installed.
func MotoServer(t testing.TB, more ...Option) *Moto {
	t.Helper()
	m, err := StartMoto(context.Background(), more...)
	if errors.Is(err, ErrNoMoto) {
		t.Skip(err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("moto_server output:\n%s", m.proc.output())
		}
		m.Stop()
	})
	return m
}

// StartMoto starts moto_server on a free loopback port and waits until it
// answers. The caller must call Stop.
func StartMoto(ctx context.Context, more ...Option) (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, ErrNoMoto
	}
	s := newSettings(more)
	sp := spec{
		name:    "moto_server",
		program: bin,
		output:  s.output,
		args:    func(port int) []string { return []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)} },
		health:  func(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) + "/moto-api/" },
	}
	p, port, err := startOnPort(ctx, sp, s.port)
	if err != nil {
		return nil, fmt.Errorf("testenv: moto_server: %w", err)
	}
	m := &Moto{proc: p, Port: port, Endpoint: "http://127.0.0.1:" + strconv.Itoa(port)}
	m.Cognito = cip.NewFromConfig(AWSConfig(), func(o *cip.Options) { o.BaseEndpoint = aws.String(m.Endpoint) })
	return m, nil
}

// Stop ends moto_server.
func (m *Moto) Stop() { m.proc.stop() }
