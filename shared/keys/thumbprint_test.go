package keys_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"testing"

	"github.com/shortfuse/shortfuse/shared/keys"
)

// TestThumbprintRFC7638 checks the kid against the example of RFC 7638 §3.1.
func TestThumbprintRFC7638(t *testing.T) {
	b := func(s string) []byte {
		v, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	pub := &rsa.PublicKey{
		N: new(big.Int).SetBytes(b("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")),
		E: 65537,
	}
	got, err := keys.Thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("thumbprint %s, want %s", got, want)
	}
}

// TestKIDIsThumbprint recomputes each generated key's kid from the RFC 7638
// members in lexicographic order, without the JWK library.
func TestKIDIsThumbprint(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	for _, alg := range algs {
		k := mustGenerate(t, alg)
		var members string
		switch p := k.Public().(type) {
		case *rsa.PublicKey:
			members = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, enc(big.NewInt(int64(p.E)).Bytes()), enc(p.N.Bytes()))
		case *ecdsa.PublicKey:
			raw, err := p.Bytes() // 0x04 || X || Y, each 32 bytes for P-256
			if err != nil {
				t.Fatal(err)
			}
			members = fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, enc(raw[1:33]), enc(raw[33:]))
		case ed25519.PublicKey:
			members = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, enc(p))
		default:
			t.Fatalf("%s: public key %T", alg, p)
		}
		sum := sha256.Sum256([]byte(members))
		if want := enc(sum[:]); k.KID != want {
			t.Errorf("%s: kid %s, want %s", alg, k.KID, want)
		}
	}
}
