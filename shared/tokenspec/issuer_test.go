package tokenspec

import (
	"strings"
	"testing"
)

func TestParseIssuers(t *testing.T) {
	const (
		orig  = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
		multi = "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_XyZ9"
	)
	for _, tc := range []struct {
		issuers, jwks string
		want          []Issuer
		err           string
	}{
		{issuers: orig, want: []Issuer{{orig, orig + "/.well-known/jwks.json"}}},
		{issuers: orig + "/", want: []Issuer{{orig, orig + "/.well-known/jwks.json"}}},
		{issuers: multi, want: []Issuer{{multi, multi + "/.well-known/jwks.json"}}},
		{issuers: " " + orig + " , " + multi, want: []Issuer{{orig, orig + "/.well-known/jwks.json"}, {multi, multi + "/.well-known/jwks.json"}}},
		// A pool moving from the original issuer to the updated one: both.
		{issuers: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_XyZ9," + multi, want: []Issuer{
			{"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_XyZ9", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_XyZ9/.well-known/jwks.json"},
			{multi, multi + "/.well-known/jwks.json"}}},
		{issuers: "https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_A1", want: []Issuer{{"https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_A1", "https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_A1/.well-known/jwks.json"}}},
		{issuers: orig + "," + multi, jwks: "https://k1.example/jwks,https://k2.example/jwks", want: []Issuer{{orig, "https://k1.example/jwks"}, {multi, "https://k2.example/jwks"}}},
		{issuers: "http://localhost:9229/local_4Xk2", want: []Issuer{{"http://localhost:9229/local_4Xk2", "http://localhost:9229/local_4Xk2/.well-known/jwks.json"}}},
		{issuers: "https://auth.example.com", want: []Issuer{{"https://auth.example.com", "https://auth.example.com/.well-known/jwks.json"}}},

		{issuers: "", err: "no issuer"},
		{issuers: " , ", err: "no issuer"},
		{issuers: strings.Repeat(orig+",", MaxIssuers+1), err: "at most"},
		{issuers: orig + "," + orig + "/", err: "listed twice"},
		{issuers: orig + "," + multi, jwks: "https://k1.example/jwks", err: "1 JWK Set URLs for 2 issuers"},
		{issuers: orig, jwks: "http://keys.example.com/jwks", err: "https"},
		{issuers: "http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123", err: "https"},
		{issuers: "http://auth.example.com", err: "https"},
		// Multi-Region form with the wrong Region or pool.
		{issuers: "https://issuer-cognito-idp.eu-west-1.amazonaws.com/us-east-1_XyZ9", err: "primary Region"},
		{issuers: "https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_XyZ9", err: "primary Region"},
		{issuers: "https://issuer-cognito-idp.us-east-1.amazonaws.com/", err: "not a user pool id"},
		{issuers: "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_XyZ9/extra", err: "not a user pool id"},
		{issuers: "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1-XyZ9", err: "not a user pool id"},
		{issuers: "https://issuer-cognito-idp.amazonaws.com/us-east-1_XyZ9", err: "not a Cognito issuer"},
		{issuers: "https://issuer-cognito-idp.us-east-1.amazonaws.com.evil.example/us-east-1_XyZ9", err: "not a Cognito issuer"},
		{issuers: "https://cognito-idp.us-east-1.amazonaws.com:8443/us-east-1_XyZ9", err: "not a Cognito issuer"},
		{issuers: "https://other-cognito-idp.us-east-1.amazonaws.com/us-east-1_XyZ9", err: "not a Cognito issuer"},
		{issuers: orig + "?x=1", err: "query"},
		// An escaped pool id passes the check decoded but never equals a
		// token's iss.
		{issuers: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_%58yZ9", err: "not a user pool id"},
		{issuers: "https://cognito-idp.us-east-1.amazonaws.com/%75s-east-1_XyZ9", err: "not a user pool id"},
		{issuers: "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123", err: "absolute"},
	} {
		got, err := ParseIssuers(tc.issuers, tc.jwks)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseIssuers(%.60q, %q) = %v, %v; want error containing %q", tc.issuers, tc.jwks, got, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseIssuers(%q, %q) = %v, %v", tc.issuers, tc.jwks, got, err)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseIssuers(%q)[%d] = %+v, want %+v", tc.issuers, i, got[i], tc.want[i])
			}
		}
	}
}

func FuzzParseIssuers(f *testing.F) {
	for _, s := range []string{
		"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
		"https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_XyZ9,http://localhost/x",
		"https://issuer-cognito-idp.eu-west-1.amazonaws.com/us-east-1_XyZ9", ",", "http://10.0.0.1/",
	} {
		f.Add(s, "")
	}
	f.Add("https://a.example,https://b.example", "https://k/1,https://k/2")
	f.Fuzz(func(t *testing.T, issuers, jwks string) {
		list, err := ParseIssuers(issuers, jwks)
		if err != nil {
			if list != nil {
				t.Fatal("list with an error")
			}
			return
		}
		if len(list) == 0 || len(list) > MaxIssuers {
			t.Fatalf("%d issuers", len(list))
		}
		seen := map[string]bool{}
		for _, is := range list {
			if seen[is.URL] || CheckKeyURL(is.URL) != nil || CheckKeyURL(is.JWKSURL) != nil {
				t.Fatalf("accepted %+v", is)
			}
			seen[is.URL] = true
		}
	})
}

func TestCognitoIssuerURL(t *testing.T) {
	iss := CognitoIssuerURL("eu-west-1", "eu-west-1_AbC123")
	if iss != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123" {
		t.Fatal(iss)
	}
	if u := JWKSURLOf(iss + "/"); u != iss+"/.well-known/jwks.json" {
		t.Fatal(u)
	}
	if _, err := ParseIssuers(iss, ""); err != nil {
		t.Fatal(err)
	}
}
