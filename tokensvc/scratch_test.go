package tokensvc

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func BenchmarkScratchMix(b *testing.B) {
	e := newEnv(b)
	ex, put := exchangeOp(b, e), putOp(b)
	table := newTable(b, dyn)
	get := func() {
		_, err := dyn.Client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "USER#x"}, "sk": &types.AttributeValueMemberS{Value: "STATE"}}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			b.Fatal(err)
		}
	}
	putget := func() {
		var wg sync.WaitGroup
		wg.Go(get)
		put()
		wg.Wait()
	}
	var a, p, pg latencies
	for b.Loop() {
		timed(&a, ex)
		timed(&p, put)
		timed(&pg, putget)
	}
	sum := func(l latencies) time.Duration { var s time.Duration; for _, d := range l { s += d }; return s }
	b.ReportMetric(float64(sum(a).Microseconds())/float64(len(a)), "exchange-µs")
	b.ReportMetric(float64(sum(p).Microseconds())/float64(len(a)), "put-µs")
	b.ReportMetric(float64(sum(pg).Microseconds())/float64(len(a)), "put||get-µs")
}
