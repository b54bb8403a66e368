package lambdahost_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/lambdahost"
)

type echo struct {
	N int    `json:"n"`
	S string `json:"s"`
}

// Concurrent invocations each get their own, intact reply.
func TestConcurrentHandler(t *testing.T) {
	h := lambdahost.ConcurrentHandler(func(_ context.Context, in echo) (echo, error) {
		in.S = strings.Repeat("x", in.N)
		return in, nil
	})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, _ := json.Marshal(echo{N: i})
			out, err := h.Invoke(context.Background(), in)
			if err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
			var got echo
			if err := json.Unmarshal(out, &got); err != nil || got.N != i || len(got.S) != i {
				t.Errorf("invocation %d got %s", i, out)
			}
		}()
	}
	wg.Wait()
}
