//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/internal/dev/jwttest"
	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/store"
)

// buildAuthorizer compiles cmd/authorizer once per run.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func buildAuthorizer(b *testing.B) string {
	buildOnce.Do(func() {
		root, err := testenv.RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "shortfuse-bench-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "authorizer")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/authorizer")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}

// runtimeAPI is a minimal Lambda Runtime API for one process: it hands the
// event to the first request for the next invocation and reports the
// answer. Each process gets a server of its own, so that a request still
// in flight from a killed process cannot take the next one's event.
type runtimeAPI struct {
	event  []byte
	answer chan string
	mu     sync.Mutex
	served bool
}

func (r *runtimeAPI) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.Method == http.MethodGet && req.URL.Path == "/2018-06-01/runtime/invocation/next":
		r.mu.Lock()
		first := !r.served
		r.served = true
		r.mu.Unlock()
		if !first {
			<-req.Context().Done() // the next invocation never comes
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(30*time.Second).UnixMilli()))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:authorizer")
		_, _ = w.Write(r.event)
	case req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/response"):
		b, _ := io.ReadAll(req.Body)
		w.WriteHeader(http.StatusAccepted)
		r.answer <- string(b)
	case req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/error"):
		b, _ := io.ReadAll(req.Body)
		w.WriteHeader(http.StatusAccepted)
		r.answer <- "error: " + string(b)
	default:
		http.NotFound(w, req)
	}
}

// serveRuntimeAPI starts a runtime API for one process handing it event,
// and returns its address and a function stopping it.
func serveRuntimeAPI(b *testing.B, event []byte) (*runtimeAPI, string, func()) {
	api := &runtimeAPI{event: event, answer: make(chan string, 1)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: api}
	go func() { _ = srv.Serve(ln) }()
	return api, ln.Addr().String(), func() { _ = srv.Close() }
}

// appendRevocations fills the log with n live entries that match nothing.
func appendRevocations(b *testing.B, st *store.Store, n int) {
	now := time.Now()
	kinds := []string{store.RevokeSession, store.RevokeJTI, store.RevokeUser}
	const chunk = 2500
	for i := 0; i < n; i += chunk {
		var rs []store.Revocation
		for j := i; j < min(i+chunk, n); j++ {
			rs = append(rs, store.Revocation{Kind: kinds[j%3], Value: fmt.Sprintf("bench-%d", j), At: now, Until: now.Add(time.Hour)})
		}
		if _, err := st.AppendRevocations(context.Background(), rs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkColdInit measures an authorizer process from exec to its first
// decision (reading its configuration, loading the revocation log from
// dynalite, verifying and answering one REST TOKEN event).
func BenchmarkColdInit(b *testing.B) {
	bin := buildAuthorizer(b)
	// One replica in two shards: what a cold authorizer reads does not
	// depend on the number of replicas, and dynalite fills faster.
	layout := store.RevocationLayout{Replicas: 1, Shards: 2}
	for _, n := range []int{0, 10000, 100000} {
		b.Run(fmt.Sprintf("revocations=%d", n), func(b *testing.B) {
			dyn := sharedDB.Get(b)
			table := storetest.NewTable(b, dyn)
			appendRevocations(b, store.New(dyn.Client, table, store.WithRevocationLayout(layout), store.WithTimeout(time.Minute)), n)
			iss := jwttest.NewIssuer(b, "RS256")
			ev, _ := json.Marshal(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN",
				AuthorizationToken: "Bearer " + iss.AccessToken(nil),
				MethodArn:          "arn:aws:execute-api:us-east-1:000000000000:api/prod/GET/hello"})
			env := append(os.Environ(),
				"AWS_REGION=us-east-1",
				"SHORTFUSE_LOG_LEVEL=error",
				"SHORTFUSE_AUTHORIZER_MODE=exchange",
				"SHORTFUSE_ISSUER="+iss.Issuer,
				"SHORTFUSE_AUDIENCE="+iss.Audience,
				"SHORTFUSE_JWKS="+string(iss.JWKS()),
				"SHORTFUSE_ROUTES="+routes,
				"SHORTFUSE_TABLE="+table,
				"SHORTFUSE_AWS_ENDPOINT="+dyn.Endpoint,
				"SHORTFUSE_REVOCATION_REPLICAS=1",
				"SHORTFUSE_REVOCATION_SHARDS=2",
				// Let a slow load finish within init rather than refuse.
				"SHORTFUSE_REVOCATION_INIT_WAIT=9s",
			)
			for b.Loop() {
				b.StopTimer()
				api, addr, stop := serveRuntimeAPI(b, ev)
				cmd := exec.Command(bin)
				cmd.Env = append(slices.Clip(env), "AWS_LAMBDA_RUNTIME_API="+addr)
				cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
				cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
				b.StartTimer()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				var answer string
				select {
				case answer = <-api.answer:
				case <-time.After(60 * time.Second):
					_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					b.Fatal("no answer from the authorizer process")
				}
				b.StopTimer()
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				_ = cmd.Wait()
				stop()
				if !strings.Contains(answer, `"Allow"`) {
					b.Fatalf("first decision: %s", answer)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkDynamoCalls makes 10,000 decisions over about three seconds and
// counts the DynamoDB requests the authorizer sent meanwhile, next to the
// polls of its revocation set: the two must be equal.
func BenchmarkDynamoCalls(b *testing.B) {
	s := newStack(b, stackOptions{poll: time.Second})
	var sessions []session
	for i := range 20 {
		sessions = append(sessions, s.login(fmt.Sprintf("user-%d", i), "users"))
	}
	evs := make([]events.APIGatewayCustomAuthorizerRequest, len(sessions))
	for i, x := range sessions {
		evs[i] = events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + x.access,
			MethodArn: "arn:aws:execute-api:us-east-1:000000000000:api/prod/GET/hello"}
	}
	ctx := context.Background()
	// Warm the JWK Set, so that what follows is decisions only.
	if _, err := s.auth.RESTToken(ctx, evs[0]); err != nil {
		b.Fatal(err)
	}
	calls0, polls0 := s.ddbCalls.n.Load(), s.auth.Stats().Revocations.Calls
	const decisions = 10000
	for i := range decisions {
		if _, err := s.auth.RESTToken(ctx, evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
		if i%100 == 99 {
			time.Sleep(30 * time.Millisecond)
		}
	}
	calls, polls := s.ddbCalls.n.Load()-calls0, s.auth.Stats().Revocations.Calls-polls0
	for b.Loop() {
	}
	b.ReportMetric(float64(calls), "ddb-calls/10k")
	b.ReportMetric(float64(polls), "polls/10k")
	b.ReportMetric(0, "ns/op")
	if calls != polls {
		b.Errorf("%d DynamoDB requests for %d polls", calls, polls)
	}
}

// BenchmarkRevocationDelay reports the delay between an admin's revocation
// and the first refused call at the gateway, with a 1 s poll.
func BenchmarkRevocationDelay(b *testing.B) {
	s := newStack(b, stackOptions{poll: time.Second})
	_, _, delay := revocationDelay(b, s, time.Second)
	if delay < 0 {
		b.Fatal("revocation never observed")
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(delay.Milliseconds()), "delay-ms")
	b.ReportMetric(0, "ns/op")
}
