package function

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/shared/config"
)

type event struct{ N int }

func TestNew(t *testing.T) {
	var logs, metrics bytes.Buffer
	env := config.FromMap(map[string]string{"SHORTFUSE_LOG_LEVEL": "debug", "SHORTFUSE_X": "7"})
	var got Input
	h, log, err := New(context.Background(), "fn", env, Options{Log: &logs, Metrics: &metrics, Component: true},
		func(_ context.Context, in Input) (Handler, error) {
			got = in
			n := in.Env.Int("SHORTFUSE_X", 0, 0, 10)
			return func(context.Context, event) (int, error) { return n, nil }, in.Env.Err()
		})
	if err != nil || h == nil || log == nil {
		t.Fatalf("%v %v", h, err)
	}
	if got.Name != "fn" || got.Env != env || got.Log == nil || got.Metrics == nil {
		t.Fatalf("input %+v", got)
	}
	got.Log.Debug("hello")
	got.Metrics.Count("Things", "Kind", "a")
	var line struct{ Msg, Component string }
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line.Msg != "hello" || line.Component != "fn" {
		t.Fatalf("log at debug with the component: %q %v", logs.String(), err)
	}
	if !strings.Contains(metrics.String(), `"Function":"fn"`) {
		t.Fatalf("metrics %q", metrics.String())
	}
}

// Every problem is reported at once: the common settings' and the
// constructor's, each naming its variable, and a constructor that forgets
// to check still fails.
func TestNewErrors(t *testing.T) {
	var logs bytes.Buffer
	build := func(_ context.Context, in Input) (Handler, error) {
		in.Env.Required("SHORTFUSE_NEEDED")
		return func() {}, nil // does not check in.Env.Err()
	}
	_, log, err := New(context.Background(), "fn", config.FromMap(map[string]string{"SHORTFUSE_LOG_LEVEL": "loud"}), Options{Log: &logs}, build)
	if err == nil || !strings.Contains(err.Error(), "SHORTFUSE_LOG_LEVEL") || !strings.Contains(err.Error(), "SHORTFUSE_NEEDED") {
		t.Fatalf("%v", err)
	}
	log.Error("start-up failed", "error", err.Error())
	if !strings.Contains(logs.String(), `"error":"SHORTFUSE_LOG_LEVEL`) {
		t.Fatalf("log %q", logs.String())
	}

	boom := errors.New("boom")
	if _, _, err := New(context.Background(), "fn", config.FromMap(nil), Options{Log: &logs},
		func(context.Context, Input) (Handler, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("%v", err)
	}
	if _, _, err := New(context.Background(), "fn", config.FromMap(nil), Options{Log: &logs},
		func(context.Context, Input) (Handler, error) { return nil, nil }); err == nil {
		t.Fatal("a nil handler was accepted")
	}
}
