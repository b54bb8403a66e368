package tokensvc

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/obs"
)

func TestMetrics(t *testing.T) {
	var buf testenv.Buffer
	e := newEnv(t, envOption{opts: []Option{WithMetrics(obs.NewCounter(&buf, "tokensvc"))}})
	first := e.login("user-1", nil)
	e.tokenResponse(e.refresh(first.RefreshToken))
	wantError(t, e.refresh(first.RefreshToken), 400, "invalid_grant") // reuse

	counts := map[string]int{}
	for line := range strings.Lines(buf.String()) {
		var rec struct {
			Function, Status, Event string
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Function != "tokensvc" {
			t.Fatalf("record %q: %v", line, err)
		}
		counts[rec.Status+rec.Event]++
	}
	want := map[string]int{"2xx": 2, "4xx": 1, "refresh_token_reuse": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: %d records, want %d (all: %v)", k, counts[k], v, counts)
		}
	}
}
