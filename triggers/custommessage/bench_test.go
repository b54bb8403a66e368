package custommessage

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
)

// BenchmarkHandle measures one invocation as the Lambda runtime makes it:
// JSON in, template rendering (HTML, subject, SMS), JSON out.
func BenchmarkHandle(b *testing.B) {
	h := lambda.NewHandler(newHandler(b).Handle)
	in, err := os.ReadFile("testdata/cognito-local-signup.json")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
