package cognitoevents

import (
	"slices"
	"testing"
)

func TestDecide(t *testing.T) {
	base := func(name string) Call {
		c := Call{Name: name, Sub: fixtureSub}
		if rules[name].admin {
			c.UserPoolID = fixturePool
		}
		if name == "RevokeToken" {
			c.ClientID = fixtureClient
		}
		return c
	}
	want := map[string]Action{
		"AdminDisableUser": RevokeUser, "AdminDeleteUser": RevokeUser, "DeleteUser": RevokeUser,
		"AdminRemoveUserFromGroup": RevokeUser, "AdminUserGlobalSignOut": RevokeUser, "GlobalSignOut": RevokeUser,
		"AdminSetUserPassword": RevokeUser, "AdminResetUserPassword": RevokeUser, "ChangePassword": RevokeUser,
		"AdminRevokeUserSession": RevokeSessions, "RevokeUserSession": RevokeSessions,
		"RevokeToken": RevokeClientSessions,
	}
	if got := EventNames(); !slices.Equal(got, sortedKeys(want)) {
		t.Fatalf("EventNames = %v", got)
	}
	for name, action := range want {
		if d := Decide(base(name), fixturePool); d.Action != action {
			t.Errorf("%s: %+v, want %s", name, d, action)
		}
		failed := base(name)
		failed.ErrorCode = "NotAuthorizedException"
		if d := Decide(failed, fixturePool); d.Action != Ignore || d.Reason != "call_failed" {
			t.Errorf("%s failed: %+v", name, d)
		}
		other := base(name)
		other.UserPoolID = "us-east-1_OTHER"
		if d := Decide(other, fixturePool); d.Action != Ignore || d.Reason != "other_user_pool" {
			t.Errorf("%s other pool: %+v", name, d)
		}
		anon := base(name)
		anon.Sub = ""
		if d := Decide(anon, fixturePool); d.Action != Ignore || d.Reason != "no_user" {
			t.Errorf("%s without user: %+v", name, d)
		}
	}
	for _, tt := range []struct {
		c      Call
		reason string
		action Action
	}{
		{Call{Name: "AdminEnableUser", UserPoolID: fixturePool, Sub: fixtureSub}, "unknown_event", Ignore},
		{Call{Name: "AdminDisableUser", Sub: fixtureSub}, "no_user_pool", Ignore},
		{Call{Name: "RevokeToken", Sub: fixtureSub}, "no_client_id", Ignore},
		{Call{Name: "GlobalSignOut", Username: "ada"}, "no_user", Ignore},
		{Call{Name: "AdminDisableUser", UserPoolID: fixturePool, Username: "ada"}, "", RevokeUser},
	} {
		if d := Decide(tt.c, fixturePool); d.Action != tt.action || d.Reason != tt.reason {
			t.Errorf("%+v: %+v", tt.c, d)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
