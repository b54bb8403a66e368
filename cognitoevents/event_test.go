package cognitoevents

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	fixturePool   = "us-east-1_EXAMPLE1"
	fixtureSub    = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
	fixtureClient = "1example23456789abcdefghij"
	fixtureTime   = "2026-12-03T07:00:00Z"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseFixtures reads every golden event and checks what Parse finds
// in it: CloudTrail's redacted usernames come out empty, the sub comes
// from additionalEventData.
func TestParseFixtures(t *testing.T) {
	at, _ := time.Parse(time.RFC3339, fixtureTime)
	tests := []struct {
		file string
		want Call
		bad  bool
	}{
		{file: "admin-disable-user.json", want: Call{Name: "AdminDisableUser", UserPoolID: fixturePool, Sub: fixtureSub}},
		{file: "admin-delete-user.json", want: Call{Name: "AdminDeleteUser", UserPoolID: fixturePool, Sub: fixtureSub}},
		{file: "delete-user.json", want: Call{Name: "DeleteUser", Sub: fixtureSub}},
		{file: "admin-remove-user-from-group.json", want: Call{Name: "AdminRemoveUserFromGroup", UserPoolID: fixturePool, Sub: fixtureSub, GroupName: "shortfuse-admin"}},
		{file: "admin-user-global-sign-out.json", want: Call{Name: "AdminUserGlobalSignOut", UserPoolID: fixturePool, Sub: fixtureSub}},
		{file: "global-sign-out.json", want: Call{Name: "GlobalSignOut", Sub: fixtureSub}},
		{file: "revoke-token.json", want: Call{Name: "RevokeToken", Sub: fixtureSub, ClientID: fixtureClient}},
		{file: "admin-revoke-user-session.json", want: Call{Name: "AdminRevokeUserSession", UserPoolID: fixturePool, Sub: fixtureSub}},
		{file: "admin-set-user-password.json", want: Call{Name: "AdminSetUserPassword", UserPoolID: fixturePool, Sub: fixtureSub}},
		{file: "admin-reset-user-password.json", want: Call{Name: "AdminResetUserPassword", UserPoolID: fixturePool, Sub: fixtureSub}},
		{file: "change-password.json", want: Call{Name: "ChangePassword", Sub: fixtureSub}},
		{file: "admin-disable-user-username-only.json", want: Call{Name: "AdminDisableUser", UserPoolID: fixturePool, Username: "ada@example.com"}},
		{file: "admin-disable-user-failed.json", want: Call{Name: "AdminDisableUser", UserPoolID: fixturePool, ErrorCode: "UserNotFoundException"}},
		{file: "global-sign-out-failed.json", want: Call{Name: "GlobalSignOut", Sub: fixtureSub, ErrorCode: "NotAuthorizedException"}},
		{file: "admin-disable-user-other-pool.json", want: Call{Name: "AdminDisableUser", UserPoolID: "us-east-1_OTHERPOOL", Sub: fixtureSub}},
		{file: "admin-enable-user.json", want: Call{Name: "AdminEnableUser", UserPoolID: fixturePool, Sub: fixtureSub}},
		{file: "malformed-wrong-source.json", bad: true},
		{file: "malformed-detail-string.json", bad: true},
		{file: "malformed-sub.json", bad: true},
		{file: "malformed-pool-type.json", bad: true},
		{file: "malformed-truncated.json", bad: true},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			got, err := Parse(fixture(t, tt.file))
			if tt.bad {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Parse = %+v, %v; want ErrMalformed", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.EventID == "" || !got.Time.Equal(at) {
				t.Errorf("event id %q time %v", got.EventID, got.Time)
			}
			got.EventID, got.Time = "", time.Time{}
			if got != tt.want {
				t.Errorf("Parse =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("fixture %s is not covered", f)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	ok := string(fixture(t, "global-sign-out.json"))
	for name, in := range map[string]string{
		"empty":        ``,
		"null":         `null`,
		"array":        `[]`,
		"no detail":    `{"source":"aws.cognito-idp","detail-type":"AWS API Call via CloudTrail"}`,
		"null detail":  `{"source":"aws.cognito-idp","detail-type":"AWS API Call via CloudTrail","detail":null}`,
		"other type":   strings.Replace(ok, DetailType, "AWS Console Signin via CloudTrail", 1),
		"no name":      strings.Replace(ok, `"eventName": "GlobalSignOut"`, `"eventName": ""`, 1),
		"bad time":     strings.ReplaceAll(ok, fixtureTime, "yesterday"),
		"control char": strings.Replace(ok, `"eventName": "GlobalSignOut"`, `"eventName": "Global\u0000SignOut"`, 1),
		"huge":         ok[:len(ok)-2] + `,"pad":"` + strings.Repeat("x", MaxEventBytes) + `"}`,
	} {
		if c, err := Parse([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Parse = %+v, %v; want ErrMalformed", name, c, err)
		}
	}
	// The envelope's time stands in for a record without eventTime.
	noTime := strings.Replace(ok, `"eventTime": "`+fixtureTime+`",`, ``, 1)
	if c, err := Parse([]byte(noTime)); err != nil || c.Time.IsZero() {
		t.Errorf("without eventTime: %+v %v", c, err)
	}
	for _, r := range redacted {
		in := strings.Replace(string(fixture(t, "admin-disable-user.json")), "HIDDEN_DUE_TO_SECURITY_REASONS", r, 1)
		if c, err := Parse([]byte(in)); err != nil || c.Username != "" {
			t.Errorf("%s: %+v %v", r, c, err)
		}
	}
}

// FuzzParse: no input panics, and whatever Parse accepts is bounded and
// keyed by a sub that is safe to use in a store key.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"source":"aws.cognito-idp","detail-type":"AWS API Call via CloudTrail","detail":{"eventSource":"cognito-idp.amazonaws.com","eventName":"X","eventTime":"2026-01-01T00:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := Parse(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if c.Name == "" || c.Time.IsZero() || (c.Sub != "" && !validSub(c.Sub)) || len(c.Username) > 128 {
			t.Fatalf("accepted %+v", c)
		}
		_ = Decide(c, fixturePool)
	})
}
