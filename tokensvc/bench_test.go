package tokensvc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shortfuse/shortfuse/internal/dev/storetest"
	"github.com/shortfuse/shortfuse/shared/keys"
)

// The benchmarks run against the package's dynalite. BenchmarkBarePutItem is
// the yardstick: an exchange writes one item (and reads one concurrently), so
// its throughput is compared with a loop of bare PutItem calls in the same run.

// latencies records per-operation durations and reports p50/p99.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	pct := func(p float64) float64 {
		return float64(l[min(len(l)-1, int(float64(len(l))*p))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	var total time.Duration
	for _, d := range l {
		total += d
	}
	b.ReportMetric(float64(len(l))/total.Seconds(), "ops/s")
}

// exchangeOp returns one token exchange through the handler. Every ID
// token is exchanged once (its jti is claimed), so each exchange needs a
// fresh one: prepare mints it, outside the timed part, since minting an
// RS256 token costs about as much as the exchange itself. Each is another
// user's first login: one user's hundredth would measure the session cap's
// listing and revocations instead (MaxSessionsPerUser).
func exchangeOp(b *testing.B, e *env) (prepare, op func()) {
	var body string
	n := 0
	prepare = func() {
		b.StopTimer()
		n++
		sub := fmt.Sprintf("bench-user-%d", n)
		body = exchangeForm(e.cog.CognitoIDToken(map[string]any{"sub": sub, "cognito:username": sub})).Encode()
		b.StartTimer()
	}
	op = func() {
		r := httptest.NewRequest("POST", "/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		e.svc.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	return prepare, op
}

// putOp returns one bare PutItem of a session-sized item.
func putOp(b *testing.B) func() {
	dyn := sharedDB.Get(b)
	table := storetest.NewTable(b, dyn)
	ctx := context.Background()
	hash := make([]byte, 32)
	return func() {
		id := newID(sidBytes)
		_, err := dyn.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item: map[string]types.AttributeValue{
				"pk":           &types.AttributeValueMemberS{Value: "SESSION#" + id},
				"sk":           &types.AttributeValueMemberS{Value: "SESSION"},
				"gsi1pk":       &types.AttributeValueMemberS{Value: "USER#bench-user"},
				"gsi1sk":       &types.AttributeValueMemberS{Value: "SESSION#" + id},
				"client_id":    &types.AttributeValueMemberS{Value: testClient},
				"refresh_hash": &types.AttributeValueMemberB{Value: hash},
				"ttl":          &types.AttributeValueMemberN{Value: "4102444800"},
			},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func timed(lat *latencies, op func()) {
	start := time.Now()
	op()
	*lat = append(*lat, time.Since(start))
}

func BenchmarkExchange(b *testing.B) {
	prepare, op := exchangeOp(b, newEnv(b))
	var lat latencies
	for b.Loop() {
		prepare()
		timed(&lat, op)
	}
	lat.report(b)
}

// getOp returns one consistent GetItem of a missing user item, the read an
// exchange makes.
func getOp(b *testing.B) func() {
	dyn := sharedDB.Get(b)
	table := storetest.NewTable(b, dyn)
	ctx := context.Background()
	return func() {
		_, err := dyn.Client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(table),
			Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "USER#bench-user"},
				"sk": &types.AttributeValueMemberS{Value: "STATE"},
			},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExchangeVsPutItem alternates an exchange, a bare PutItem and a
// bare PutItem with a concurrent GetItem, so all three see the same machine
// load, and reports exchange throughput as a percentage of the other two.
// The second is the floor of any exchange that reads the user's revocation
// state: dynalite serves requests on one thread, so the concurrent read
// costs it nearly as much as a sequential one, which DynamoDB does not.
func BenchmarkExchangeVsPutItem(b *testing.B) {
	prepare, ex := exchangeOp(b, newEnv(b))
	put, get := putOp(b), getOp(b)
	putGet := func() {
		var wg sync.WaitGroup
		wg.Go(get)
		put()
		wg.Wait()
	}
	var exLat, putLat, pgLat latencies
	for b.Loop() {
		prepare()
		timed(&exLat, ex)
		timed(&putLat, put)
		timed(&pgLat, putGet)
	}
	sum := func(l latencies) float64 {
		var t time.Duration
		for _, d := range l {
			t += d
		}
		return t.Seconds()
	}
	b.ReportMetric(100*sum(putLat)/sum(exLat), "exchange/put-%")
	b.ReportMetric(100*sum(pgLat)/sum(exLat), "exchange/put+get-%")
	b.ReportMetric(100*sum(putLat)/sum(pgLat), "put+get/put-%")
}

func BenchmarkRefresh(b *testing.B) {
	e := newEnv(b)
	rt := e.login("bench-user", nil).RefreshToken
	var lat latencies
	for b.Loop() {
		start := time.Now()
		r := httptest.NewRequest("POST", "/token", strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		e.svc.ServeHTTP(rec, r)
		lat = append(lat, time.Since(start))
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
		var tr TokenResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil {
			b.Fatal(err)
		}
		rt = tr.RefreshToken
	}
	lat.report(b)
}

// BenchmarkBarePutItem writes session-sized items with plain PutItem calls.
func BenchmarkBarePutItem(b *testing.B) {
	op := putOp(b)
	var lat latencies
	for b.Loop() {
		timed(&lat, op)
	}
	lat.report(b)
}

func BenchmarkSign(b *testing.B) {
	claims := accessClaims{Issuer: testIssuer, Subject: "user", Audience: testIssuer, Expires: 2e9, IssuedAt: 1e9,
		JTI: newID(16), ClientID: testClient, SID: newID(sidBytes), AuthTime: 1e9, Scope: "read", Username: "user"}
	for _, alg := range []string{keys.RS256, keys.ES256, keys.EdDSA} {
		b.Run(alg, func(b *testing.B) {
			k, err := keys.Generate(alg)
			if err != nil {
				b.Fatal(err)
			}
			ks, err := keys.NewSet("", k)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := ks.Sign("at+jwt", claims); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
