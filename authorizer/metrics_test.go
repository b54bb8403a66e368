package authorizer

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
)

func TestMetricsCountOutcomes(t *testing.T) {
	f := newFixture(t, ModeExchange)
	var buf bytes.Buffer
	f.a.metrics = obs.NewCounter(&buf, "authorizer")
	tok := f.iss.AccessToken(map[string]any{"sid": "s-7"})

	invoke(t, f.a, ShapeRESTToken, bearer(tok), "GET", "/hello")
	invoke(t, f.a, ShapeHTTPSimple, bearer(tok), "GET", "/admin/x")
	invoke(t, f.a, ShapeRESTToken, "", "GET", "/hello")
	f.revoke(t, store.RevokeSession, "s-7", time.Now())
	invoke(t, f.a, ShapeHTTPIAM, bearer(tok), "GET", "/hello")

	var got []string
	for line := range strings.Lines(buf.String()) {
		var rec struct{ Function, Outcome string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Function != "authorizer" {
			t.Fatalf("record %q: %v", line, err)
		}
		got = append(got, rec.Outcome)
	}
	want := []string{"allow", "deny", "unauthorized", "revoked"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
}
