package authorizer

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
)

const stepUpRoutes = `[
	{"route": "GET /hello"},
	{"route": "GET /payments/*", "max_age": 300},
	{"route": "ANY /admin/*", "amr": ["mfa"]},
	{"route": "GET /vault", "acr": ["urn:x:loa2", "urn:x:loa3"], "max_age": 60}
]`

func TestStepUp(t *testing.T) {
	routes, err := ParseRoutes([]byte(stepUpRoutes))
	if err != nil {
		t.Fatal(err)
	}
	for _, shape := range []Shape{ShapeRESTToken, ShapeRESTRequest, ShapeHTTPIAM, ShapeHTTPSimple} {
		t.Run(string(shape), func(t *testing.T) {
			var logs testenv.Buffer
			f := newFixture(t, ModeExchange, func(c *Config) { c.Routes = routes })
			f.a.log = slog.New(slog.NewJSONHandler(&logs, nil))
			now := time.Now()
			f.a.now = func() time.Time { return now }
			old := now.Add(-10 * time.Minute).Unix()
			fresh := f.good(map[string]any{"auth_time": now.Unix(), "amr": []string{"pwd"}, "acr": "urn:x:loa1"})
			stale := f.good(map[string]any{"auth_time": old, "amr": []string{"pwd", "mfa"}, "acr": "urn:x:loa2"})
			strong := f.good(map[string]any{"auth_time": now.Unix(), "amr": []string{"pwd", "mfa"}, "acr": "urn:x:loa3"})
			for _, tc := range []struct {
				name, tok, method, path string
				want                    int
				challenge               string
			}{
				{"fresh sign-in, max_age route", fresh, "GET", "/payments/1", http.StatusOK, ""},
				{"old sign-in, max_age route", stale, "GET", "/payments/1", http.StatusForbidden, "max_age=300"},
				{"old sign-in, other route", stale, "GET", "/hello", http.StatusOK, ""},
				{"no mfa", fresh, "POST", "/admin/users", http.StatusForbidden, `error="insufficient_user_authentication"`},
				{"mfa", stale, "POST", "/admin/users", http.StatusOK, ""},
				{"weak acr", fresh, "GET", "/vault", http.StatusForbidden, `acr_values="urn:x:loa2 urn:x:loa3"`},
				{"strong acr but old", stale, "GET", "/vault", http.StatusForbidden, "max_age=60"},
				{"strong and fresh", strong, "GET", "/vault", http.StatusOK, ""},
			} {
				r := invoke(t, f.a, shape, "Bearer "+tc.tok, tc.method, tc.path)
				if r.status != tc.want {
					t.Errorf("%s: %d, want %d", tc.name, r.status, tc.want)
				}
				if tc.challenge != "" && !strings.Contains(strings.ReplaceAll(logs.String(), `\"`, `"`), tc.challenge) {
					t.Errorf("%s: challenge %s not logged", tc.name, tc.challenge)
				}
				if tc.challenge != "" && shape != ShapeHTTPSimple {
					if r.context["error"] != "insufficient_user_authentication" || !strings.Contains(r.context["wwwAuthenticate"].(string), tc.challenge) {
						t.Errorf("%s: context %v", tc.name, r.context)
					}
					// The cacheable policy must not allow the route the
					// sign-in is too weak for.
					for _, st := range parsePolicy(t, r.raw).Statement {
						if st.Effect == "Allow" && strings.Contains(strings.Join(st.Resource, " "), strings.TrimPrefix(tc.path, "/")[:4]) {
							t.Errorf("%s: policy allows %v", tc.name, st.Resource)
						}
					}
				}
			}
			// A cached token whose sign-in ages past max_age loses the route.
			if r := invoke(t, f.a, shape, "Bearer "+strong, "GET", "/payments/9"); r.status != http.StatusOK {
				t.Fatalf("fresh: %d", r.status)
			}
			now = now.Add(301 * time.Second)
			if r := invoke(t, f.a, shape, "Bearer "+strong, "GET", "/payments/9"); r.status != http.StatusForbidden {
				t.Fatalf("aged cached token: %d", r.status)
			}
		})
	}
}

func TestStepUpChallenge(t *testing.T) {
	d := Decision{Effect: Deny, Reason: &StepUpError{Route: "GET /x", MaxAge: 5 * time.Minute, ACRValues: []string{"a", "b"}}}
	if !errors.Is(d.Reason, ErrStepUp) {
		t.Fatal("not ErrStepUp")
	}
	want := `DPoP error="insufficient_user_authentication", error_description="A different authentication level is required", max_age=300, acr_values="a b"`
	if got := d.stepUpChallenge(&Request{DPoP: true}); got != want {
		t.Fatalf("got %s", got)
	}
}

func TestStepUpRouteErrors(t *testing.T) {
	for _, bad := range []string{
		`[{"route": "GET /x", "max_age": -1}]`,
		`[{"route": "GET /x", "acr": [""]}]`,
		`[{"route": "GET /x", "amr": ["a b"]}]`,
		`[{"route": "GET /x", "amr": ["a\""]}]`,
		`[{"route": "GET /x", "max_age": "60"}]`,
	} {
		if _, err := ParseRoutes([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
