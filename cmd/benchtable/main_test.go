package main

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
BenchmarkDynamoCalls-2                    	       3	         3.000 ddb-calls/10k	         3.000 polls/10k
BenchmarkRevocationDelay-2                	       3	       663.0 delay-ms
PASS
`

func TestTable(t *testing.T) {
	res, err := parse(strings.NewReader(sample), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb := build(res)
	if len(tb.missing) > 0 {
		t.Fatalf("missing %v", tb.missing)
	}
	var out bytes.Buffer
	tb.print(&out)
	for _, want := range []string{
		"| fresh decision / bare RS256 check (interleaved, medians)",
		"1.20x (60.00 µs / 50.00 µs)",
		"1.20x (60.00 µs / 50.00 µs) | <= 1.3x",
		"2.00 µs, 0 allocs/op",
		"44x",
		"221.0 ms",
		"3 (polls: 3)",
		"663 ms",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "| no ") {
		t.Errorf("a goal is reported unmet:\n%s", out.String())
	}
	if tb := build(results{}); len(tb.missing) == 0 {
		t.Error("nothing reported missing for empty input")
	}
}
