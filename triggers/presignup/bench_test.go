package presignup

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/shared/store"
)

// BenchmarkHandle measures one invocation as the Lambda runtime makes it:
// JSON in, policy, JSON out. The invite store is in memory, so the figure
// is the handler's own cost; a real consume adds one DynamoDB UpdateItem.
func BenchmarkHandle(b *testing.B) {
	cfg := Config{AutoConfirmInvited: true, External: "allow"}
	cfg.Domains.Allowed, _ = ParseDomains("example.com", "*.example.org", "a.test", "b.test", "c.test")
	cfg.Domains.Denied, _ = ParseDomains("bad.example.org")
	cfg.AutoConfirm, _ = ParseDomains("example.com")
	inv := &fakeInvites{byID: map[string]*store.Invite{code("ABCD-EFGH-JKMN-PQRS"): {}}}
	for _, bc := range []struct {
		name string
		meta map[string]string
	}{
		{"policy", nil},
		{"invite", map[string]string{InviteField: "ABCD-EFGH-JKMN-PQRS"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := lambda.NewHandler(New(cfg, inv, 0, nil).Handle)
			in, _ := json.Marshal(signup(SourceSignUp, "ada@eu.example.org", "+14155550100", nil, bc.meta))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Invoke(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
