package storetest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
)

func TestTables(t *testing.T) {
	d := testenv.Dynalite(t)
	a, b := NewTable(t, d), NewTable(t, d)
	if a == b {
		t.Fatalf("two new tables named %q", a)
	}
	if got := CreateTable(t, d, "fixed"); got != "fixed" {
		t.Fatalf("CreateTable returned %q", got)
	}
	for _, name := range []string{a, b, "fixed"} {
		if _, err := d.Client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("table %s: %v", name, err)
		}
	}
}
