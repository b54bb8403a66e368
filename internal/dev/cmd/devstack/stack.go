package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/internal/dev/lambdahost"
	"github.com/shortfuse/shortfuse/internal/dev/testenv"
)

// stack is a running dev stack.
type stack struct {
	env      Env
	dir      string
	log      *slog.Logger
	dynamo   *testenv.Dynamo
	cognito  *testenv.Cognito
	ses      *testenv.SES
	servers  []*http.Server
	logFiles []*os.File
	cancel   context.CancelFunc // ends the context given to services
	serveErr chan error
}

// errPortInUse is returned when a configured port is taken.
var errPortInUse = errors.New("port in use")

// checkPorts reports every configured port that is taken, in one error,
// each with the flag and variable that move it.
func checkPorts(cfg config) error {
	var taken []string
	for _, name := range portOrder(cfg) {
		port := cfg.ports[name]
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			taken = append(taken, fmt.Sprintf("port %d for %s (move it with %s)", port, name, portFlagHint(name)))
			continue
		}
		_ = l.Close()
	}
	switch len(taken) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: %s is already taken (another program, or a stack started elsewhere?)", errPortInUse, taken[0])
	}
	return fmt.Errorf("%w: %d ports are already taken (another program, or a stack started elsewhere?):\n  %s",
		errPortInUse, len(taken), strings.Join(taken, "\n  "))
}

func portOrder(cfg config) []string {
	var names []string
	for _, b := range basePorts {
		names = append(names, b.name)
	}
	for _, s := range services {
		names = append(names, s.Name)
	}
	return names
}

func url(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

// startStack brings everything up. On error, whatever started is stopped.
func startStack(ctx context.Context, cfg config, logger *slog.Logger) (_ *stack, err error) {
	st := &stack{dir: cfg.dir, log: logger, serveErr: make(chan error, 1+len(services))}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	if err := checkPorts(cfg); err != nil {
		return nil, err
	}
	logDir := filepath.Join(cfg.dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	logTo := func(name string) (testenv.Option, error) {
		f, err := os.Create(filepath.Join(logDir, name+".log"))
		if err != nil {
			return nil, err
		}
		st.logFiles = append(st.logFiles, f)
		return testenv.WithOutput(f), nil
	}
	dataDir := func(name string) (testenv.Option, error) {
		if !cfg.persist {
			return nil, nil
		}
		d := filepath.Join(cfg.dir, "data", name)
		return testenv.WithDataDir(d), os.MkdirAll(d, 0o755)
	}

	// Reserve the Go-served ports first so the URLs handed out stay valid.
	lambdaLn, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(cfg.ports["lambda"]))
	if err != nil {
		return nil, fmt.Errorf("%w: dev Lambda host port %d: %v", errPortInUse, cfg.ports["lambda"], err)
	}
	svcLns := make([]net.Listener, len(services))
	for i, s := range services {
		if svcLns[i], err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(cfg.ports[s.Name])); err != nil {
			lambdaLn.Close()
			for _, l := range svcLns[:i] {
				l.Close()
			}
			return nil, fmt.Errorf("%w: %s port %d: %v", errPortInUse, s.Name, cfg.ports[s.Name], err)
		}
	}
	closeListeners := func() {
		lambdaLn.Close()
		for _, l := range svcLns {
			l.Close()
		}
	}

	triggers := map[string]string{}
	for _, f := range functions {
		for _, t := range f.Triggers {
			if prev, dup := triggers[t]; dup {
				closeListeners()
				return nil, fmt.Errorf("trigger %s is claimed by both %s and %s", t, prev, f.Name)
			}
			triggers[t] = f.Name
		}
	}

	// The three emulators start in parallel: Node start-up dominates.
	var (
		wg                  sync.WaitGroup
		dErr, cErr, sErr    error
		dOpts, cOpts, sOpts []testenv.Option
	)
	for _, x := range []struct {
		name, log string
		opts      *[]testenv.Option
		port      int
	}{
		{"dynamodb", "dynalite", &dOpts, cfg.ports["dynamodb"]},
		{"cognito", "cognito-local", &cOpts, cfg.ports["cognito"]},
		{"ses", "aws-ses-v2-local", &sOpts, cfg.ports["ses"]},
	} {
		o, err := logTo(x.log)
		if err != nil {
			closeListeners()
			return nil, err
		}
		*x.opts = append(*x.opts, o, testenv.WithPort(x.port))
		if x.name != "ses" {
			d, err := dataDir(x.name)
			if err != nil {
				closeListeners()
				return nil, err
			}
			if d != nil {
				*x.opts = append(*x.opts, d)
			}
		}
	}
	wg.Add(3)
	go func() { defer wg.Done(); st.dynamo, dErr = testenv.StartDynalite(ctx, dOpts...) }()
	go func() {
		defer wg.Done()
		st.cognito, cErr = testenv.StartCognitoLocal(ctx, testenv.CognitoOptions{
			LambdaEndpoint: url(cfg.ports["lambda"]),
			Triggers:       triggers,
			PoolName:       "shortfuse-dev",
		}, cOpts...)
	}()
	go func() { defer wg.Done(); st.ses, sErr = testenv.StartSESLocal(ctx, sOpts...) }()
	wg.Wait()
	if err := errors.Join(dErr, cErr, sErr); err != nil {
		closeListeners()
		return nil, err
	}

	env := Env{
		Region:          testenv.Region,
		Table:           cfg.table,
		DynamoEndpoint:  st.dynamo.Endpoint,
		CognitoEndpoint: st.cognito.Endpoint,
		UserPoolID:      st.cognito.UserPoolID,
		ClientID:        st.cognito.ClientID,
		Issuer:          st.cognito.Issuer,
		JWKSURL:         st.cognito.JWKSURL,
		SESEndpoint:     st.ses.Endpoint,
		SESWebURL:       st.ses.Endpoint + "/",
		LambdaInvokeURL: url(cfg.ports["lambda"]),
		ServiceURLs:     map[string]string{},
		AWS:             testenv.AWSConfig(),
	}
	for _, s := range services {
		u := url(cfg.ports[s.Name])
		env.ServiceURLs[s.Name] = u
		switch s.Name {
		case "gateway":
			// The token service is served behind the gateway, as deployed.
			env.APIGatewayURL, env.TokenServiceURL = u, u
		case "demo":
			env.DemoURL = u + "/"
		}
	}
	st.env = env

	for _, setup := range setups {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := setup(sctx, env)
		cancel()
		if err != nil {
			closeListeners()
			return nil, fmt.Errorf("setup: %w", err)
		}
	}

	handlers := make(map[string]lambda.Handler, len(functions))
	for _, f := range functions {
		if _, dup := handlers[f.Name]; dup {
			closeListeners()
			return nil, fmt.Errorf("function %s is registered twice", f.Name)
		}
		h, err := f.New(ctx, env)
		if err != nil {
			closeListeners()
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		handlers[f.Name] = h
	}
	svcCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st.cancel = cancel
	svcHandlers := make([]http.Handler, len(services))
	for i, s := range services {
		h, err := s.New(svcCtx, env)
		if err != nil {
			closeListeners()
			return nil, fmt.Errorf("service %s: %w", s.Name, err)
		}
		svcHandlers[i] = h
	}

	st.serve("lambda", lambdaLn, lambdahost.New(handlers, lambdahost.WithLogger(logger.With("component", "lambda"))))
	for i, s := range services {
		st.serve(s.Name, svcLns[i], svcHandlers[i])
	}
	return st, nil
}

func (st *stack) serve(name string, ln net.Listener, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(st.log.With("component", name).Handler(), slog.LevelWarn),
	}
	st.servers = append(st.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			st.serveErr <- fmt.Errorf("%s server: %w", name, err)
		}
	}()
}

// wait returns when ctx ends (nil) or a component fails (its error).
func (st *stack) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-st.serveErr:
		return err
	case <-st.dynamo.Done():
		return fmt.Errorf("dynalite exited; see %s", filepath.Join(st.dir, "logs", "dynalite.log"))
	case <-st.cognito.Done():
		return fmt.Errorf("cognito-local exited; see %s", filepath.Join(st.dir, "logs", "cognito-local.log"))
	case <-st.ses.Done():
		return fmt.Errorf("aws-ses-v2-local exited; see %s", filepath.Join(st.dir, "logs", "aws-ses-v2-local.log"))
	}
}

// close stops everything that started; it is safe on a partial stack.
func (st *stack) close() {
	if st.cancel != nil {
		st.cancel()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range st.servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			_ = srv.Close()
		}
	}
	// Stop the emulators in parallel; each waits for its process group.
	var wg sync.WaitGroup
	stop := func(f func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); _ = f() }()
	}
	if st.dynamo != nil {
		stop(st.dynamo.Close)
	}
	if st.cognito != nil {
		stop(st.cognito.Stop)
	}
	if st.ses != nil {
		stop(st.ses.Stop)
	}
	wg.Wait()
	for _, f := range st.logFiles {
		_ = f.Close()
	}
}
