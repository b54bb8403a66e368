package tokenspec

import (
	"strings"
	"testing"
	"time"
)

func TestParseClients(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Client
		err  string // substring of the error; "" for none
	}{
		{in: "", want: nil},
		{in: "web", want: []Client{{ID: "web"}}},
		{in: " web , mobile:30 ", want: []Client{{ID: "web"}, {ID: "mobile", TTL: 30 * time.Second}}},
		{in: "web:ttl=300,mobile:ttl=30", want: []Client{{ID: "web", TTL: 300 * time.Second}, {ID: "mobile", TTL: 30 * time.Second}}},
		{in: "abc1DEF_-2", want: []Client{{ID: "abc1DEF_-2"}}},
		{in: "web:grace=0,mobile:30:grace=60", want: []Client{{ID: "web", HasGrace: true}, {ID: "mobile", TTL: 30 * time.Second, Grace: time.Minute, HasGrace: true}}},
		{in: "web:dpop=required,mobile:30:dpop=off,kiosk:dpop=allowed", want: []Client{{ID: "web", DPoP: DPoPRequired},
			{ID: "mobile", TTL: 30 * time.Second, DPoP: DPoPOff}, {ID: "kiosk", DPoP: DPoPAllowed}}},
		{in: "web:dpop=yes", err: `dpop "yes"`},
		{in: "web:dpop=", err: `dpop ""`},
		{in: "web:grace=61", err: `grace "61"`},
		{in: "web:grace=-1", err: `grace "-1"`},
		{in: "web:grace=", err: `grace ""`},
		{in: "web:abc", err: `client "web": lifetime "abc"`},
		{in: "web:1", err: `lifetime "1"`},
		{in: "web:7200", err: `lifetime "7200"`},
		{in: "web,web:30", err: `client "web" listed twice`},
		{in: ":30", err: `"" is not a client id`},
		{in: "we b", err: `"we b" is not a client id`},
		{in: "web:color=red", err: `unknown setting "color"`},
		{in: strings.Repeat("a", 129), err: "is not a client id"},
	} {
		got, err := ParseClients(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseClients(%q) error = %v, want one containing %q", tc.in, err, tc.err)
			}
			if got != nil {
				t.Errorf("ParseClients(%q) returned %v with an error", tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseClients(%q): %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("ParseClients(%q) = %v, want %v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseClients(%q)[%d] = %+v, want %+v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

// A wrong lifetime is reported alone, not with a spurious "no client".
func TestParseReportsOnlyTheRealError(t *testing.T) {
	_, err := ParseClients("abc:1")
	if err == nil || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("ParseClients(abc:1) = %v, want exactly one error", err)
	}
}

func TestParseBoundsTheList(t *testing.T) {
	ids := make([]string, MaxClients+1)
	for i := range ids {
		ids[i] = "c" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
	}
	if _, err := ParseClients(strings.Join(ids, ",")); err == nil {
		t.Fatalf("Parse accepted %d clients", len(ids))
	}
}

func FuzzParseClients(f *testing.F) {
	for _, s := range []string{"web", "web,mobile:30", "web:ttl=300", ":", "a:b=c:d", ",,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		list, err := ParseClients(in)
		if err != nil {
			if list != nil {
				t.Fatalf("list with error")
			}
			return
		}
		seen := map[string]bool{}
		for _, c := range list {
			if !validClientID(c.ID) || seen[c.ID] {
				t.Fatalf("bad or duplicate id %q", c.ID)
			}
			seen[c.ID] = true
			if c.TTL != 0 && (c.TTL < MinAccessTTL || c.TTL > MaxAccessTTL) {
				t.Fatalf("ttl %v out of range", c.TTL)
			}
		}
	})
}
