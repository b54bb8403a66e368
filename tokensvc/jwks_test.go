package tokensvc

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/obs"
)

// headerKID returns the kid of a compact JWS.
func headerKID(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct{ KID, Typ string }
	if err := json.Unmarshal(raw, &hdr); err != nil || hdr.Typ != "at+jwt" {
		t.Fatalf("header %s: %v", raw, err)
	}
	return hdr.KID
}

// jwksKIDs returns the kids the service publishes, in order, checking that
// no key carries a private part.
func jwksKIDs(t *testing.T, e *env) []string {
	t.Helper()
	resp := e.get("GET", "/.well-known/jwks.json", "")
	if resp.Code != 200 {
		t.Fatalf("jwks: %d", resp.Code)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(resp.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range doc.Keys {
		if k["d"] != nil {
			t.Fatalf("private member in %v", k)
		}
		kids = append(kids, k["kid"].(string))
	}
	return kids
}

// TestKeyRotation follows the documented rotation: publish the next key,
// switch to it, keep the previous one published. Tokens signed with the
// previous key keep working until they expire; new ones use the next key.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t)
	current := e.svc.keys.Active()
	next, err := keys.Generate(keys.RS256)
	if err != nil {
		t.Fatal(err)
	}
	withKeys := func(activeKID string, ks ...*keys.Key) *env {
		t.Helper()
		set, err := keys.NewSet(activeKID, ks...)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := New(e.cfg, e.store, set, WithClock(e.clock.Now), WithLogger(obs.NewLogger(e.logs, "debug")), WithCognitoKeys(e.cog.Keys()))
		if err != nil {
			t.Fatal(err)
		}
		return &env{t: t, svc: svc, store: e.store, cog: e.cog, clock: e.clock, logs: e.logs, cfg: e.cfg}
	}

	before := e.login("user-rot", nil)
	if headerKID(t, before.AccessToken) != current.KID {
		t.Fatal("token not signed with the current key")
	}

	// Step 1: both keys published, the current one still signs.
	step1 := withKeys(current.KID, current, next)
	if kids := jwksKIDs(t, step1); strings.Join(kids, ",") != current.KID+","+next.KID {
		t.Fatalf("step 1 publishes %v", kids)
	}
	// Step 2: the next key signs; the previous one stays published (public half only).
	step2 := withKeys(next.KID, next, current.PublicOnly())
	if kids := jwksKIDs(t, step2); strings.Join(kids, ",") != next.KID+","+current.KID {
		t.Fatalf("step 2 publishes %v", kids)
	}
	// A token of the previous key is still a valid Bearer token...
	if resp := step2.get("GET", "/sessions", before.AccessToken); resp.Code != 200 {
		t.Fatalf("previous key's token refused: %d %s", resp.Code, resp.Body)
	}
	// ...and the refresh token it came with gets tokens of the next key.
	after := step2.tokenResponse(step2.refresh(before.RefreshToken))
	if headerKID(t, after.AccessToken) != next.KID {
		t.Fatal("token not signed with the next key")
	}
	if resp := step2.get("GET", "/sessions", after.AccessToken); resp.Code != 200 {
		t.Fatalf("next key's token refused: %d", resp.Code)
	}
	// Step 3: once the previous key is dropped, its tokens are refused.
	step3 := withKeys("", next)
	wantError(t, step3.get("GET", "/sessions", before.AccessToken), 401, "invalid_token")
	e.tokens = append(e.tokens, after.AccessToken, after.RefreshToken)
}
