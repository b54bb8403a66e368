package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
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

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
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

// portNames are every component's port flag, in the order portArgs uses.
var portNames = []string{"dynamodb", "cognito", "ses", "lambda", "gateway", "demo"}

func portArgs(ports []int) []string {
	var args []string
	for i, name := range portNames {
		args = append(args, "-"+name+"-port", strconv.Itoa(ports[i]))
	}
	return args
}

// Every taken port is reported at once, each with its flag and variable.
func TestPortTaken(t *testing.T) {
	ports := freePorts(t, len(portNames))
	for _, i := range []int{1, 4} { // cognito and gateway
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(ports[i]))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
	}
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append(portArgs(ports), "-dir", dir), &out, &errOut)
	for _, want := range []string{
		"2 ports are already taken",
		fmt.Sprintf("port %d for cognito (move it with -cognito-port or SHORTFUSE_COGNITO_PORT)", ports[1]),
		fmt.Sprintf("port %d for gateway (move it with -gateway-port or SHORTFUSE_GATEWAY_PORT)", ports[4]),
	} {
		if code != 1 || !strings.Contains(errOut.String(), want) {
			t.Errorf("code %d, stderr lacks %q:\n%s", code, want, errOut.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "devstack.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("pid file left behind")
	}
}

func TestWalkthroughSections(t *testing.T) {
	env := Env{Region: "us-east-1", Table: "t", DynamoEndpoint: "http://127.0.0.1:4", CognitoEndpoint: "http://127.0.0.1:1",
		UserPoolID: "local_x", ClientID: "c", Issuer: "http://127.0.0.1:1/local_x", JWKSURL: "http://127.0.0.1:1/local_x/.well-known/jwks.json",
		LambdaInvokeURL: "http://127.0.0.1:2", TokenServiceURL: "http://127.0.0.1:3", APIGatewayURL: "http://127.0.0.1:3",
		ServiceURLs: map[string]string{"tokensvc": "http://127.0.0.1:3"}}
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

// devStack is a devstack command run as a child process by a test.
type devStack struct {
	cmd            *exec.Cmd
	dir, root      string
	ports          []int
	stdout, stderr *testenv.Buffer
	exited         chan error
}

// startDevStack runs the command with extra environment variables and
// waits until it has written endpoints.json and printed its walkthrough.
func startDevStack(t *testing.T, env ...string) *devStack {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to check the walkthrough: %v", tool, err)
		}
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ds := &devStack{dir: t.TempDir(), root: root, ports: freePorts(t, len(portNames)),
		stdout: &testenv.Buffer{}, stderr: &testenv.Buffer{}, exited: make(chan error, 1)}
	ds.cmd = exec.Command(os.Args[0], append(portArgs(ds.ports), "-dir", ds.dir)...)
	ds.cmd.Dir = root
	ds.cmd.Env = append(append(os.Environ(), "DEVSTACK_TEST_AS_MAIN=1"), env...)
	ds.cmd.Stdout, ds.cmd.Stderr = ds.stdout, ds.stderr
	ds.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := ds.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { ds.exited <- ds.cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-ds.cmd.Process.Pid, syscall.SIGKILL)
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ep map[string]any
		b, err := os.ReadFile(filepath.Join(ds.dir, "endpoints.json"))
		if err == nil && json.Unmarshal(b, &ep) == nil && strings.Contains(ds.stdout.String(), "kill -INT") {
			return ds
		}
		select {
		case err := <-ds.exited:
			t.Fatalf("devstack exited early: %v\nstderr:\n%s", err, ds.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no endpoints.json after 60 s; stderr:\n%s", ds.stderr.String())
		}
	}
}

// runWalkthrough runs the printed walkthrough, minus the stop step,
// verbatim from the repository root: every expectation it states is checked
// by its own commands.
func (ds *devStack) runWalkthrough(t *testing.T) string {
	t.Helper()
	text := ds.stdout.String()
	i, j := strings.Index(text, "\n# 1. "), strings.Index(text, "Stop the stack")
	if i < 0 || j < 0 {
		t.Fatalf("walkthrough not printed:\n%s", text)
	}
	script := text[i:strings.LastIndex(text[:j], "\n#")]
	sh := exec.Command("bash", "-euo", "pipefail", "-c", script)
	sh.Dir = ds.root
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough failed: %v\n%s\nscript:\n%s\ndevstack stderr (tail):\n%s", err, out, script, tail(ds.stderr.String(), 4000))
	}
	if strings.Contains(string(out), "!!") {
		t.Fatalf("walkthrough reported an unmet expectation:\n%s", out)
	}
	return string(out)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestDevStack runs the command as a child process: it comes up, writes
// endpoints.json, its walkthrough works verbatim, a second instance is
// refused, and SIGINT stops everything with no process left behind.
func TestDevStack(t *testing.T) {
	ds := startDevStack(t)
	var ep map[string]any
	b, _ := os.ReadFile(filepath.Join(ds.dir, "endpoints.json"))
	_ = json.Unmarshal(b, &ep)
	for _, k := range []string{"cognito_endpoint", "user_pool_id", "client_id", "issuer", "jwks_url", "token_service_url",
		"api_gateway_url", "demo_url", "lambda_invoke_url", "dynamodb_endpoint", "ses_endpoint", "ses_web_url", "table", "region"} {
		if _, ok := ep[k]; !ok {
			t.Errorf("endpoints.json lacks %q", k)
		}
	}
	gw := "http://127.0.0.1:" + strconv.Itoa(ds.ports[4])
	if ep["cognito_endpoint"] != "http://127.0.0.1:"+strconv.Itoa(ds.ports[1]) ||
		ep["issuer"] != fmt.Sprintf("http://127.0.0.1:%d/%s", ds.ports[1], ep["user_pool_id"]) ||
		ep["token_service_url"] != gw || ep["api_gateway_url"] != gw ||
		ep["demo_url"] != "http://127.0.0.1:"+strconv.Itoa(ds.ports[5])+"/" {
		t.Errorf("endpoints.json = %v", ep)
	}
	if !strings.Contains(ds.stdout.String(), fmt.Sprint(ep["demo_url"])) {
		t.Error("the walkthrough does not print the demo URL")
	}

	// A second stack with the same state directory is refused.
	var errOut bytes.Buffer
	if code := run(t.Context(), append(portArgs(freePorts(t, len(portNames))), "-dir", ds.dir), &bytes.Buffer{}, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "already running") {
		t.Errorf("second stack: code %d, stderr %s", code, errOut.String())
	}

	out := ds.runWalkthrough(t)
	wants := []string{`"UserConfirmed":`, `token_use: 'id'`, `"kid":"CognitoLocal"`,
		"X-Amz-Executed-Version", `{"TableNames":[`, `"emails":[`,
		"same refresh token as the first answer", "answered by the gateway", "allowed",
		`verifyauth: "answerCorrect":true`, `defineauth: "issueTokens":true`}
	if !presignupRegistered() {
		// The demo trigger ran: cognito-local reached the Lambda host.
		wants = append(wants, `"UserConfirmed":true`)
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("walkthrough output lacks %q:\n%s", want, out)
		}
	}

	// The demo's origin may call the API: a preflight from it is allowed.
	req, _ := http.NewRequest("OPTIONS", gw+"/token", nil)
	req.Header.Set("Origin", strings.TrimSuffix(fmt.Sprint(ep["demo_url"]), "/"))
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("preflight from the demo origin: %d %v", resp.StatusCode, resp.Header)
	}

	// make dev-stop stops it and waits.
	mk := exec.Command("make", "-s", "dev-stop", "DEVSTACK_DIR="+ds.dir)
	mk.Dir = ds.root
	if b, err := mk.CombinedOutput(); err != nil || !strings.Contains(string(b), "sent SIGINT") {
		t.Fatalf("make dev-stop: %v\n%s", err, b)
	}
	select {
	case err := <-ds.exited:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v\nstderr:\n%s", err, ds.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("devstack still running 20 s after SIGINT; stderr:\n%s", ds.stderr.String())
	}
	for _, f := range []string{"devstack.pid", "endpoints.json", "auth.json"} {
		if _, err := os.Stat(filepath.Join(ds.dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind", f)
		}
	}
	for _, p := range ds.ports {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Errorf("port %d still in use after stop: %v", p, err)
			continue
		}
		l.Close()
	}
	// The process group held only devstack itself: the emulators run in
	// groups of their own, which Stop killed.
	if err := syscall.Kill(-ds.cmd.Process.Pid, 0); err == nil {
		t.Error("processes left in the devstack process group")
	}
}

// TestWalkthroughUnderOverrides runs the generated walkthrough under each
// documented override: its expectations follow the effective configuration.
func TestWalkthroughUnderOverrides(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the stack once per override")
	}
	// Two stacks at a time: most of a run is waiting (start-up, the
	// revocation poll), and more would crowd a small machine.
	slots := make(chan struct{}, 2)
	for _, tc := range []struct {
		name   string
		env    []string
		script []string // in the printed walkthrough
		out    []string // in its output
	}{
		{"gateway cache 300 s", []string{"SHORTFUSE_GATEWAY_CACHE_TTL=300"},
			[]string{"gateway cache 300 s", "caches the authorizer's answer"}, []string{"answered by the service"}},
		{"direct mode", []string{"SHORTFUSE_AUTHORIZER_MODE=direct"},
			[]string{"authorizer mode direct", "# Direct mode"}, []string{`"error":"invalid_token"`, "answered by the gateway"}},
		{"REST TOKEN shape, strict, no grace", []string{"SHORTFUSE_AUTHORIZER_SHAPE=rest-token", "SHORTFUSE_REVOCATION_STRICT=true", "SHORTFUSE_REFRESH_GRACE=0"},
			[]string{"shape rest-token", "grace window is off", `"type":"TOKEN"`}, []string{`"Effect":"Allow"`}},
		{"direct mode behind a cache, REST REQUEST shape", []string{"SHORTFUSE_AUTHORIZER_MODE=direct", "SHORTFUSE_GATEWAY_CACHE_TTL=300", "SHORTFUSE_AUTHORIZER_SHAPE=rest-request"},
			[]string{"shape rest-request"}, []string{"refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			slots <- struct{}{}
			defer func() { <-slots }()
			ds := startDevStack(t, tc.env...)
			for _, want := range tc.script {
				if !strings.Contains(ds.stdout.String(), want) {
					t.Errorf("walkthrough lacks %q:\n%s", want, ds.stdout.String())
				}
			}
			out := ds.runWalkthrough(t)
			for _, want := range tc.out {
				if !strings.Contains(out, want) {
					t.Errorf("walkthrough output lacks %q:\n%s", want, out)
				}
			}
			if err := ds.cmd.Process.Signal(os.Interrupt); err == nil {
				<-ds.exited
			}
		})
	}
}

// TestDevStopStalePIDFile: make dev-stop removes a pid file whose process
// is gone, or is not a dev stack, and never signals that process.
func TestDevStopStalePIDFile(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{dead.Process.Pid, other.Process.Pid} {
		dir := t.TempDir()
		pidFile := filepath.Join(dir, "devstack.pid")
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		mk := exec.Command("make", "-s", "dev-stop", "DEVSTACK_DIR="+dir)
		mk.Dir = root
		out, err := mk.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "stale pid file") {
			t.Fatalf("pid %d: %v\n%s", pid, err, out)
		}
		if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("pid %d: stale pid file kept", pid)
		}
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("dev-stop signalled a process that is not a dev stack: %v", err)
	}
}
