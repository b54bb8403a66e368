package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Benchmarks run against dynalite over loopback. Besides ns/op they report
// ops/s and the p50/p99 latency of single calls in µs. BenchmarkBarePutItem
// is the floor: one PutItem of a session-sized item through the SDK with
// nothing of the store around it.

// latencies records the duration of each operation of a benchmark.
type latencies []time.Duration

func (l *latencies) time(b *testing.B, op func() error) {
	start := time.Now()
	if err := op(); err != nil {
		b.Fatal(err)
	}
	*l = append(*l, time.Since(start))
}

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	pct := func(p float64) float64 {
		return float64(s[int(p*float64(len(s)-1))].Nanoseconds()) / 1e3
	}
	var total time.Duration
	for _, d := range s {
		total += d
	}
	b.ReportMetric(float64(len(s))/total.Seconds(), "ops/s")
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

func benchStore(b *testing.B) *Store {
	s, _ := newTestStore(b)
	return s
}

func BenchmarkCreateSession(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	lat := make(latencies, 0, b.N)
	i := 0
	for b.Loop() {
		sess := newSession(fmt.Sprintf("bench-%d", i), "bench-user", now)
		i++
		lat.time(b, func() error { return s.CreateSession(ctx, sess) })
	}
	lat.report(b)
}

func BenchmarkRotateRefresh(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	sess := newSession("bench", "bench-user", now)
	if err := s.CreateSession(ctx, sess); err != nil {
		b.Fatal(err)
	}
	old := sess.RefreshHash
	lat := make(latencies, 0, b.N)
	i := 0
	for b.Loop() {
		i++
		next := fmt.Appendf(nil, "%032d", i)
		lat.time(b, func() error {
			_, err := s.RotateRefresh(ctx, "bench", old, next, now, now.Add(time.Hour), now.Add(time.Hour))
			return err
		})
		old = next
	}
	lat.report(b)
}

func BenchmarkGetSession(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	if err := s.CreateSession(ctx, newSession("bench", "bench-user", time.Now())); err != nil {
		b.Fatal(err)
	}
	lat := make(latencies, 0, b.N)
	for b.Loop() {
		lat.time(b, func() error {
			_, err := s.GetSession(ctx, "bench")
			return err
		})
	}
	lat.report(b)
}

func BenchmarkBarePutItem(b *testing.B) {
	s := benchStore(b)
	client := s.db.(*dynamodb.Client)
	ctx := context.Background()
	now := time.Now()
	lat := make(latencies, 0, b.N)
	i := 0
	for b.Loop() {
		it := sessionItem(newSession(fmt.Sprintf("bare-%d", i), "bench-user", now), now.Unix()+86400)
		i++
		lat.time(b, func() error {
			_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it})
			return err
		})
	}
	lat.report(b)
}
