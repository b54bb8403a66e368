package lambdahost

import (
	"strings"
	"testing"
)

func TestFunctionName(t *testing.T) {
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"/2015-03-31/functions/presignup/invocations", "presignup", true},
		{"/2015-03-31/functions/presignup:prod/invocations", "presignup", true},
		{"/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:presignup/invocations", "presignup", true},
		{"/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:presignup:3/invocations", "presignup", true},
		{"/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:layer:x/invocations", "", false},
		{"/2015-03-31/functions/arn:aws:lambda/invocations", "", false},
		{"/2015-03-31/functions//invocations", "", false},
		{"/2015-03-31/functions/a/b/invocations", "", false},
		{"/2015-03-31/functions/invocations", "", false},
		{"/2015-03-31/functions/x", "", false},
		{"/", "", false},
	}
	for _, tc := range tests {
		got, ok := functionName(tc.path)
		if got != tc.want || ok != tc.ok {
			t.Errorf("functionName(%q) = %q, %v; want %q, %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzFunctionName(f *testing.F) {
	f.Add("/2015-03-31/functions/presignup/invocations")
	f.Add("/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:f:q/invocations")
	f.Add("/2015-03-31/functions/:/invocations")
	f.Add("/2015-03-31/functions/invocations")
	f.Fuzz(func(t *testing.T, path string) {
		name, ok := functionName(path)
		if !ok {
			return
		}
		if name == "" || strings.ContainsAny(name, "/:") {
			t.Fatalf("functionName(%q) = %q", path, name)
		}
	})
}
