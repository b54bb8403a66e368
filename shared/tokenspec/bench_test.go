package tokenspec

import (
	"strings"
	"testing"
)

// BenchmarkParseAuthorization reads a header holding a token of a typical
// access token's size; the authorizer does it on every request, cached
// token or not.
func BenchmarkParseAuthorization(b *testing.B) {
	h := "Bearer " + strings.Repeat("eyJhbGciOiJSUzI1NiJ9.", 40)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseAuthorization(h); !ok {
			b.Fatal("refused")
		}
	}
}

// BenchmarkScanReference is the scan the authorizer made before
// (strings.ContainsAny over the token), for comparison in one run.
func BenchmarkScanReference(b *testing.B) {
	tok := strings.Repeat("eyJhbGciOiJSUzI1NiJ9.", 40)
	for b.Loop() {
		if strings.ContainsAny(tok, " \t,") {
			b.Fatal("found")
		}
	}
}
