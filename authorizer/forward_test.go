package authorizer

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// decodeForwarded is what a backend does with a forwarded value: NoValue is
// none, else split at sep (when a list) and percent-decode each member.
func decodeForwarded(t *testing.T, v, sep string) []string {
	t.Helper()
	if v == NoValue {
		return nil
	}
	parts := []string{v}
	if sep != "" {
		parts = strings.Split(v, sep)
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		d, err := url.PathUnescape(p)
		if err != nil {
			t.Fatalf("%q does not decode: %v", v, err)
		}
		out = append(out, d)
	}
	return out
}

// checkForwardable: every forwarded key of the shape is a non-empty string
// of printable ASCII (no control bytes, no leading or trailing space).
func checkForwardable(t *testing.T, shape Shape, ctx map[string]any) {
	t.Helper()
	for _, k := range ForwardedKeys(shape) {
		v, ok := ctx[k].(string)
		if !ok || v == "" {
			t.Fatalf("%s: context %s = %#v, want a non-empty string", shape, k, ctx[k])
		}
		if strings.TrimSpace(v) != v {
			t.Fatalf("%s: context %s = %q has surrounding space (a header would lose it)", shape, k, v)
		}
		for i := 0; i < len(v); i++ {
			if v[i] < ' ' || v[i] >= 0x7f {
				t.Fatalf("%s: context %s = %q has byte %#x", shape, k, v, v[i])
			}
		}
	}
}

// TestForwardedContextAlwaysSet: whatever the token lacks (no groups, no
// scope, no session, no username), every key a backend may receive as a
// header is set, in every shape, for allowed and denied requests alike, so
// an "overwrite:" mapping always replaces the client's header.
func TestForwardedContextAlwaysSet(t *testing.T) {
	for _, mode := range []string{ModeExchange, ModeDirect} {
		f := newFixture(t, mode)
		// jwttest tokens carry groups and scope by default: take them out.
		bare := map[string]any{"sub": "s-1", "groups": nil, "scope": nil, "sid": nil, "username": nil, "cognito:groups": nil, "cognito:username": nil}
		tok := f.good(bare)
		for _, shape := range Shapes {
			for _, path := range []string{"/hello", "/admin/x"} { // allowed, denied (no group)
				r := invoke(t, f.a, shape, bearer(tok), "GET", path)
				if r.status != http.StatusOK && r.status != http.StatusForbidden {
					t.Fatalf("%s %s %s: status %d", mode, shape, path, r.status)
				}
				checkForwardable(t, shape, r.context)
				for _, k := range ForwardedKeys(shape) {
					if k == "sub" {
						continue
					}
					if r.context[k] != NoValue {
						t.Errorf("%s %s %s: %s = %q, want %q for none", mode, shape, path, k, r.context[k], NoValue)
					}
				}
				if shape == ShapeHTTPSimple {
					if g, ok := r.context["groups"].([]any); !ok || len(g) != 0 {
						t.Errorf("%s: groups %#v, want an empty list", shape, r.context["groups"])
					}
				}
			}
		}
	}
}

// TestForwardedContextEncoding: values that would be ambiguous or unsafe in
// a header (a group named "-", a comma in a group name, non-ASCII, '%')
// are percent-encoded and decode back to the token's values.
func TestForwardedContextEncoding(t *testing.T) {
	f := newFixture(t, ModeExchange)
	groups := []string{"-", "a,b", "users", "équipe", "100%"}
	tok := f.iss.AccessToken(map[string]any{"sub": "s-1", "username": "zoë", "sid": "-",
		"groups": groups, "scope": "openid  orders:write"})
	for _, shape := range Shapes {
		r := invoke(t, f.a, shape, bearer(tok), "GET", "/hello")
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d", shape, r.status)
		}
		checkForwardable(t, shape, r.context)
		if got := decodeForwarded(t, r.context["groupsHeader"].(string), ","); !slices.Equal(got, groups) {
			t.Errorf("%s: groups decode to %q, want %q (sent %q)", shape, got, groups, r.context["groupsHeader"])
		}
		if got := decodeForwarded(t, r.context["username"].(string), ""); !slices.Equal(got, []string{"zoë"}) {
			t.Errorf("%s: username %q", shape, r.context["username"])
		}
		if r.context["sid"] != "%2D" {
			t.Errorf("%s: sid %q, want %%2D (a literal -, not none)", shape, r.context["sid"])
		}
		if r.context["scope"] != "openid orders:write" {
			t.Errorf("%s: scope %q", shape, r.context["scope"])
		}
	}
}
