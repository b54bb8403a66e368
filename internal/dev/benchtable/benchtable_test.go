package benchtable

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkSignatureRS256-2        	   20000	     50000 ns/op	    1376 B/op	       9 allocs/op
BenchmarkFreshVsSignature-2      	   10000	    110000 ns/op	     50000 sig-ns/op	     60000 decision-ns/op	     1.200 ratio	1.100 jwtverify-ratio
BenchmarkDecisionFresh-2         	   20000	     60000 ns/op	    5068 B/op	      39 allocs/op
BenchmarkDecisionRepeated-2      	  600000	      2000 ns/op	       0 B/op	       0 allocs/op
BenchmarkJWTVerify-2             	   20000	     55000 ns/op
BenchmarkJWXParse-2              	   10000	    110000 ns/op
BenchmarkJWXVerify-2             	   10000	     65000 ns/op
BenchmarkAWSJWTVerify/fresh-2    	1000000000	     90000 ns/op
BenchmarkAWSJWTVerify/repeated-2 	1000000000	     88000 ns/op
BenchmarkColdInit/revocations=0-2         	       3	  18198734 ns/op
BenchmarkColdInit/revocations=10000-2     	       3	 220988453 ns/op
BenchmarkColdInit/revocations=100000-2    	       1	 900000000 ns/op
BenchmarkDynamoCalls-2                    	       3	         3.000 ddb-calls/10k	         3.000 polls/10k
BenchmarkRevocationDelay-2                	       3	       663.0 delay-ms
BenchmarkDPoPCachedVsSignature-2   	    3000	    874526 ns/op	    102000 decision-ns/op	         1.200 ratio	     85000 sig-ns/op
BenchmarkDPoPFreshVsSignatures-2   	    3000	    964770 ns/op	    120000 decision-ns/op	         1.250 ratio	     96000 sig-ns/op
PASS
pkg: github.com/shortfuse/shortfuse/shared/revset
BenchmarkPollBurst-2   	       1	8393766831 ns/op	       480.0 appends/s	       108.8 bytes/entry	      939.0 rcu/partition@10k	         1.800 read/appended-bytes	         1.800 read/appended-items	       125.0 wcu/partition@1k/s	         0 widened-polls
PASS
pkg: github.com/shortfuse/shortfuse/tokensvc
BenchmarkExchange-2            	     500	   2100000 ns/op	       1800 p50-µs	      6000 p99-µs	       476.0 ops/s
BenchmarkExchangeVsPutItem-2   	     300	   4100000 ns/op	        84.00 exchange/put+get-%	        52.00 exchange/put-%	        66.00 put+get/put-%
BenchmarkRefresh-2             	     400	   2600000 ns/op	       2500 p50-µs	      9000 p99-µs	       385.0 ops/s
PASS
pkg: github.com/shortfuse/shortfuse/shared/dpop
BenchmarkDPoPVsSignature-2   	    2000	    154275 ns/op	     73000 dpop-ns/op	         1.100 ratio	     66000 sig-ns/op
PASS
pkg: github.com/shortfuse/shortfuse/triggers/customauth
BenchmarkTimingCreate-2   	       1	14482976073 ns/op	         0.4883 auc	         0.1000 diff-ms	        18.66 known-p50-ms	         1.005 ratio	       200.0 samples	        18.56 unknown-p50-ms
BenchmarkTimingVerify-2   	       1	 672445074 ns/op	         0.4940 auc	         0.009725 diff-ms	         0.9430 known-p50-ms	         1.010 ratio	       200.0 samples	         0.9333 unknown-p50-ms
PASS
`

func TestTable(t *testing.T) {
	var echo bytes.Buffer
	res, err := Parse(strings.NewReader(sample), &echo)
	if err != nil {
		t.Fatal(err)
	}
	if echo.String() != sample {
		t.Errorf("echo differs from the input:\n%s", echo.String())
	}
	tb := Build(res)
	if len(tb.Missing) > 0 {
		t.Fatalf("missing %v", tb.Missing)
	}
	var out bytes.Buffer
	tb.Print(&out)
	for _, want := range []string{
		"| fresh decision / bare RS256 check (interleaved, medians)",
		"1.20x (60.00 µs / 50.00 µs)",
		"<= 1.3x",
		"2.00 µs, 0 allocs/op",
		"1.50x",
		"44x",
		"18.2 ms",
		"221.0 ms",
		"900.0 ms",
		"1.80x items, 1.80x bytes",
		"939 RCU, 125 WCU",
		"3 (polls: 3)",
		"1.01x (18.66 ms / 18.56 ms, +0.10 ms), AUC 0.49, 200 each",
		"within 0.5 ms, AUC 0.4-0.6",
		"663 ms",
		"476 ops/s, p50 1.80 ms, p99 6.00 ms",
		"385 ops/s",
		"| 52%",
		"| 66%",
		"| 84%",
		"1.10x (73.00 µs / 66.00 µs)",
		"1.20x (102.00 µs / 85.00 µs)",
		"1.25x (120.00 µs / 96.00 µs)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if u := strings.Join(tb.Unmet(), "; "); u != "exchange / bare PutItem throughput (interleaved)" {
		t.Errorf("goals reported unmet: %v\n%s", u, out.String())
	}
	if tb := Build(Results{}); len(tb.Missing) == 0 || !tb.Empty() {
		t.Error("empty input: nothing reported missing, or rows built")
	}
}

func TestUnmet(t *testing.T) {
	res, err := Parse(strings.NewReader(strings.NewReplacer(
		"1.200 ratio", "1.400 ratio",
		"2000 ns/op", "6000 ns/op",
		"3.000 ddb-calls/10k", "10003 ddb-calls/10k",
		"0.4883 auc", "0.7947 auc",
	).Replace(sample)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(Build(res).Unmet(), "; ")
	for _, want := range []string{"fresh decision / bare RS256 check (interleaved, medians)", "repeated decision", "DynamoDB calls", "createauth known / unknown"} {
		if !strings.Contains(got, want) {
			t.Errorf("unmet %q lacks %q", got, want)
		}
	}
}

func TestParseTest2JSONFraming(t *testing.T) {
	res, err := Parse(strings.NewReader("\x16BenchmarkDecisionRepeated-2   \t 100\t  1500 ns/op\t 0 allocs/op\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res[DecisionRepeated]["ns/op"]; got != 1500 {
		t.Fatalf("ns/op = %v", got)
	}
}
