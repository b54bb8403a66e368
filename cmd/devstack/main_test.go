package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/shared/testenv"
)

// presignupRegistered reports whether a project function already handles
// the PreSignUp trigger.
func presignupRegistered() bool {
	for _, f := range functions {
		if slices.Contains(f.Triggers, "PreSignUp") {
			return true
		}
	}
	return false
}

// TestMain lets the end-to-end test run this binary as the devstack command,
// with a demo PreSignUp function that auto-confirms every user unless the
// project registers its own.
func TestMain(m *testing.M) {
	if os.Getenv("DEVSTACK_TEST_AS_MAIN") == "1" {
		if presignupRegistered() {
			main()
			return
		}
		functions = append(functions, Function{
			Name:     "demo-presignup",
			Triggers: []string{"PreSignUp"},
			New: func(context.Context, Env) (lambda.Handler, error) {
				return lambda.NewHandler(func(_ context.Context, ev events.CognitoEventUserPoolsPreSignup) (events.CognitoEventUserPoolsPreSignup, error) {
					ev.Response.AutoConfirmUser = true
					return ev, nil
				}), nil
			},
		})
		main()
		return
	}
	os.Exit(m.Run())
}

func TestParseConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		want    map[string]int
		table   string
		persist bool
		err     string
	}{
		{name: "defaults", env: env(), want: map[string]int{"dynamodb": 8000, "cognito": 9229, "ses": 8005, "lambda": 9001}, table: "shortfuse"},
		{name: "flags", args: []string{"-dynamodb-port", "18000", "-table", "t1", "-persist"}, env: env(),
			want: map[string]int{"dynamodb": 18000}, table: "t1", persist: true},
		{name: "env", env: env("SHORTFUSE_COGNITO_PORT", "19229", "SHORTFUSE_TABLE", "t2", "SHORTFUSE_DEVSTACK_PERSIST", "true"),
			want: map[string]int{"cognito": 19229}, table: "t2", persist: true},
		{name: "flag beats env", args: []string{"-ses-port", "1"}, env: env("SHORTFUSE_SES_PORT", "2"), want: map[string]int{"ses": 1}, table: "shortfuse"},
		{name: "bad env port", env: env("SHORTFUSE_LAMBDA_PORT", "x"), err: "SHORTFUSE_LAMBDA_PORT"},
		{name: "out of range", args: []string{"-lambda-port", "70000"}, env: env(), err: "out of range"},
		{name: "duplicate", args: []string{"-lambda-port", "8000"}, env: env(), err: "dynamodb and lambda both use port 8000"},
		{name: "bad persist", env: env("SHORTFUSE_DEVSTACK_PERSIST", "maybe"), err: "SHORTFUSE_DEVSTACK_PERSIST"},
		{name: "empty table", args: []string{"-table", ""}, env: env(), err: "table"},
		{name: "extra arg", args: []string{"now"}, env: env(), err: "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig(tc.args, tc.env, &bytes.Buffer{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if cfg.ports[k] != v {
					t.Errorf("port %s = %d, want %d", k, cfg.ports[k], v)
				}
			}
			if cfg.table != tc.table || cfg.persist != tc.persist {
				t.Errorf("table, persist = %q, %v; want %q, %v", cfg.table, cfg.persist, tc.table, tc.persist)
			}
		})
	}
}

func TestPIDFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devstack.pid")
	if err := acquirePIDFile(path); err != nil {
		t.Fatal(err)
	}
	if err := acquirePIDFile(path); !errors.Is(err, errAlreadyRunning) {
		t.Fatalf("second acquire: %v, want errAlreadyRunning", err)
	}
	releasePIDFile(path)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pid file still there: %v", err)
	}
	// A pid file left by a dead process is taken over.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(dead.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := acquirePIDFile(path); err != nil {
		t.Fatalf("stale pid file: %v", err)
	}
	releasePIDFile(path)
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func portArgs(ports []int) []string {
	return []string{
		"-dynamodb-port", strconv.Itoa(ports[0]), "-cognito-port", strconv.Itoa(ports[1]),
		"-ses-port", strconv.Itoa(ports[2]), "-lambda-port", strconv.Itoa(ports[3]),
	}
}

func TestPortTaken(t *testing.T) {
	ports := freePorts(t, 4)
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(ports[1]))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append(portArgs(ports), "-dir", dir), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), fmt.Sprintf("port %d for cognito is already taken", ports[1])) ||
		!strings.Contains(errOut.String(), "-cognito-port or SHORTFUSE_COGNITO_PORT") {
		t.Fatalf("code %d, stderr:\n%s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "devstack.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("pid file left behind")
	}
}

func TestWalkthroughSections(t *testing.T) {
	env := Env{Region: "us-east-1", CognitoEndpoint: "http://127.0.0.1:1", UserPoolID: "local_x", ClientID: "c",
		LambdaInvokeURL: "http://127.0.0.1:2", ServiceURLs: map[string]string{"tokensvc": "http://127.0.0.1:3"}}
	saved := extraSections
	t.Cleanup(func() { extraSections = saved })
	extraSections = append(extraSections, func(Env) Section { return Section{Title: "Extra", Commands: "echo extra"} })
	got := walkthrough(env, "/state", 42)
	for _, want := range []string{"# 1. Sign up and sign in", "local_x", "tokensvc  http://127.0.0.1:3",
		". Extra\necho extra\n", "kill -INT 42"} {
		if !strings.Contains(got, want) {
			t.Errorf("walkthrough lacks %q:\n%s", want, got)
		}
	}
	if i, j := strings.Index(got, ". Extra\n"), strings.Index(got, ". Stop the stack\n"); i < 0 || j < i {
		t.Errorf("extra section missing or not before the stop step:\n%s", got)
	}
}

// TestDevStack runs the command as a child process: it comes up, writes
// endpoints.json, its walkthrough works verbatim, a second instance is
// refused, and SIGINT stops everything with no process left behind.
func TestDevStack(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to check the walkthrough: %v", tool, err)
		}
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ports := freePorts(t, 4)
	args := append(portArgs(ports), "-dir", dir)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DEVSTACK_TEST_AS_MAIN=1")
	var stdout, stderr testenv.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})

	endpointsFile := filepath.Join(dir, "endpoints.json")
	var ep map[string]any
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(endpointsFile)
		if err == nil && json.Unmarshal(b, &ep) == nil && strings.Contains(stdout.String(), "kill -INT") {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("devstack exited early: %v\nstderr:\n%s", err, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no endpoints.json after 60 s; stderr:\n%s", stderr.String())
		}
	}
	for _, k := range []string{"cognito_endpoint", "user_pool_id", "client_id", "issuer", "jwks_url", "token_service_url",
		"lambda_invoke_url", "dynamodb_endpoint", "ses_endpoint", "ses_web_url", "table", "region"} {
		if _, ok := ep[k]; !ok {
			t.Errorf("endpoints.json lacks %q", k)
		}
	}
	if ep["cognito_endpoint"] != "http://127.0.0.1:"+strconv.Itoa(ports[1]) ||
		ep["issuer"] != fmt.Sprintf("http://127.0.0.1:%d/%s", ports[1], ep["user_pool_id"]) {
		t.Errorf("endpoints.json = %v", ep)
	}

	// A second stack with the same state directory is refused.
	var errOut bytes.Buffer
	if code := run(t.Context(), append(portArgs(freePorts(t, 4)), "-dir", dir), &bytes.Buffer{}, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "already running") {
		t.Errorf("second stack: code %d, stderr %s", code, errOut.String())
	}

	// Run the printed walkthrough, minus the stop step, verbatim.
	text := stdout.String()
	i, j := strings.Index(text, "\n# 1. "), strings.Index(text, "Stop the stack")
	if i < 0 || j < 0 {
		t.Fatalf("walkthrough not printed:\n%s", text)
	}
	script := text[i:strings.LastIndex(text[:j], "\n#")]
	sh := exec.Command("bash", "-euo", "pipefail", "-c", script)
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough failed: %v\n%s\nscript:\n%s", err, out, script)
	}
	wants := []string{`"UserConfirmed":`, `token_use: 'id'`, `"kid":"CognitoLocal"`,
		"X-Amz-Executed-Version", `{"TableNames":[`, `"emails":[`}
	if !presignupRegistered() {
		// The demo trigger ran: cognito-local reached the Lambda host.
		wants = append(wants, `"UserConfirmed":true`)
	}
	for _, want := range wants {
		if !strings.Contains(string(out), want) {
			t.Errorf("walkthrough output lacks %q:\n%s", want, out)
		}
	}

	// SIGINT stops everything.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("devstack still running 20 s after SIGINT; stderr:\n%s", stderr.String())
	}
	for _, f := range []string{"devstack.pid", "endpoints.json", "auth.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind", f)
		}
	}
	for _, p := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Errorf("port %d still in use after stop: %v", p, err)
			continue
		}
		l.Close()
	}
	// The process group held only devstack itself: the emulators run in
	// groups of their own, which Stop killed.
	if err := syscall.Kill(-cmd.Process.Pid, 0); err == nil {
		t.Error("processes left in the devstack process group")
	}
}
