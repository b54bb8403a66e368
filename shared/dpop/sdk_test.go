package dpop_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/shortfuse/shortfuse/shared/dpop"
)

// TestBrowserSDKProofs checks that proofs made by the browser SDK
// (clients/web, WebCrypto under Node) pass this verifier, thumbprint
// included. It needs node and the SDK built (make web-build).
func TestBrowserSDKProofs(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found")
	}
	dist, err := filepath.Abs("../../clients/web/dist/index.js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dist); err != nil {
		t.Skip("clients/web/dist not built (make web-build)")
	}
	script := `import { createDPoP, memoryKeyStore } from ` + strconvQuote("file://"+dist) + `;
const d = await createDPoP({ keyStore: memoryKeyStore() });
const out = [];
for (const [m, u, tok] of [["GET", "https://API.example.com:443/v1/orders?x=1", "tok123"], ["POST", "https://auth.example.com/token", ""]]) {
  out.push({ method: m, url: u, token: tok, proof: await d.proof(m, u, tok || undefined) });
}
console.log(JSON.stringify({ jkt: d.jkt, proofs: out }));`
	b, err := exec.Command(node, "--input-type=module", "-e", script).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got struct {
		JKT    string
		Proofs []struct{ Method, URL, Token, Proof string }
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	v, err := dpop.New(dpop.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got.Proofs {
		res, err := v.Check(p.Proof, dpop.Request{Method: p.Method, URL: "https://api.example.com/v1/orders", AccessToken: p.Token, JKT: got.JKT})
		if p.Method == "POST" {
			res, err = v.Check(p.Proof, dpop.Request{Method: p.Method, URL: p.URL, JKT: got.JKT})
		}
		if err != nil || res.JKT != got.JKT {
			t.Fatalf("%s %s: %v", p.Method, p.URL, err)
		}
	}
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }
