package tokenspec

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"
)

func TestCheckKeyURL(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json", true},
		{"https://auth.example.com/jwks", true},
		{"HTTPS://auth.example.com/jwks", true},
		{"http://localhost:9229/local/.well-known/jwks.json", true},
		{"http://LOCALHOST/jwks", true},
		{"http://127.0.0.1:8080/jwks", true},
		{"http://127.1.2.3/jwks", true},
		{"http://[::1]:8080/jwks", true},

		{"http://auth.example.com/jwks", false}, // clear text over a network
		{"http://10.0.0.1/jwks", false},
		{"http://localhost.example.com/jwks", false},
		{"http://127.0.0.1.nip.io/jwks", false},
		{"http://[::ffff:10.0.0.1]/jwks", false},
		{"ftp://auth.example.com/jwks", false},
		{"file:///etc/jwks.json", false},
		{"https://user:pw@auth.example.com/jwks", false},
		{"//auth.example.com/jwks", false},
		{"/jwks", false},
		{"", false},
		{"https:auth.example.com", false},
		{"https://", false},
	} {
		if err := CheckKeyURL(tc.in); (err == nil) != tc.ok {
			t.Errorf("CheckKeyURL(%q) = %v, want ok %v", tc.in, err, tc.ok)
		}
	}
}

func FuzzCheckKeyURL(f *testing.F) {
	for _, s := range []string{"https://a/b", "http://localhost/", "http://10.0.0.1/", "http://[::1]/", ":", "http://%41/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = CheckKeyURL(s) // never panics
	})
}

func TestAlgorithmFor(t *testing.T) {
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name string
		pub  any
		want string
	}{
		{"rsa2048", &rsa2048.PublicKey, RS256},
		{"p256", &p256.PublicKey, ES256},
		{"ed25519", ed, EdDSA},
		{"rsa1024", &rsa1024.PublicKey, ""},
		{"p384", &p384.PublicKey, ""},
		{"short ed25519", ed[:10], ""},
		{"nil rsa", (*rsa.PublicKey)(nil), ""},
		{"string", "key", ""},
	} {
		got, err := AlgorithmFor(tc.pub)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
		if tc.want != "" && !Supported(got) {
			t.Errorf("%s: %q not in the table", tc.name, got)
		}
	}
}
