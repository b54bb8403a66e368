package keys_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"testing"

	"github.com/shortfuse/shortfuse/shared/keys"
)

// FuzzParseKeys: key documents never make the parser panic, and every key
// it returns fits its algorithm and can sign when it says so.
func FuzzParseKeys(f *testing.F) {
	for _, alg := range algs {
		k, err := keys.Generate(alg)
		if err != nil {
			f.Fatal(err)
		}
		doc, err := keys.MarshalPrivateJWK(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(doc))
		set, err := keys.NewSet("", k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(set.JWKS()))
	}
	f.Add("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB8d0zCfrzXzSShj4S1Uc8q4bVAkHXr5cnGmYyEWdRf6\n-----END PRIVATE KEY-----\n")
	f.Add("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n")
	f.Add(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`)
	f.Add(`{"kty":"oct","k":"AAAA"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		ks, err := keys.ParseKeys([]byte(doc))
		if err != nil {
			return
		}
		for _, k := range ks {
			ok := false
			switch k.Public().(type) {
			case *rsa.PublicKey:
				ok = k.Alg == keys.RS256
			case *ecdsa.PublicKey:
				ok = k.Alg == keys.ES256
			case ed25519.PublicKey:
				ok = k.Alg == keys.EdDSA
			}
			if !ok || k.KID == "" {
				t.Fatalf("key %s: %T", k.Alg, k.Public())
			}
			if k.Private() {
				set, err := keys.NewSet(k.KID, k)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := set.Sign("", map[string]int{"n": 1}); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
