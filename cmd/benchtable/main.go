// Command benchtable reads `go test -bench` output on standard input and
// prints the authorizer's figures, each next to its goal, as one table.
// Every ratio is computed from figures of the same run.
//
//	go test -run '^$' -bench . -benchmem ./authorizer ./e2e | go run ./cmd/benchtable
//
// The benchmark output is echoed to standard error. The exit status is 1
// when a benchmark the table needs is missing.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// results maps a benchmark name (without the -GOMAXPROCS suffix) to its
// metrics by unit.
type results map[string]map[string]float64

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader, echo io.Writer) (results, error) {
	res := results{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		text := sc.Text()
		if echo != nil {
			fmt.Fprintln(echo, text)
		}
		m := line.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		metrics := map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			metrics[f[i+1]] = v
		}
		res[m[1]] = metrics
	}
	return res, sc.Err()
}

// row is one line of the table.
type row struct {
	figure, measured, goal, verdict string
}

type table struct {
	res     results
	rows    []row
	missing []string
}

// get returns a metric, recording it as missing when absent.
func (t *table) get(bench, unit string) (float64, bool) {
	m, ok := t.res[bench]
	if !ok {
		t.missing = append(t.missing, bench)
		return 0, false
	}
	v, ok := m[unit]
	if !ok {
		t.missing = append(t.missing, bench+" "+unit)
	}
	return v, ok
}

func (t *table) add(figure, measured, goal string, ok *bool) {
	v := ""
	if ok != nil {
		v = "no"
		if *ok {
			v = "yes"
		}
	}
	t.rows = append(t.rows, row{figure, measured, goal, v})
}

func yes(b bool) *bool { return &b }

func us(ns float64) string { return fmt.Sprintf("%.2f µs", ns/1e3) }
func ms(ns float64) string { return fmt.Sprintf("%.1f ms", ns/1e6) }

func build(res results) *table {
	t := &table{res: res}
	const (
		sig      = "BenchmarkSignatureRS256"
		fresh    = "BenchmarkDecisionFresh"
		repeated = "BenchmarkDecisionRepeated"
	)
	sigNS, okSig := t.get(sig, "ns/op")
	if r, ok := t.get("BenchmarkFreshVsSignature", "ratio"); ok {
		d, _ := t.get("BenchmarkFreshVsSignature", "decision-ns/op")
		s, _ := t.get("BenchmarkFreshVsSignature", "sig-ns/op")
		t.add("fresh decision / bare RS256 check (interleaved, medians)", fmt.Sprintf("%.2fx (%s / %s)", r, us(d), us(s)), "<= 1.3x", yes(r <= 1.3))
		if v, ok := t.get("BenchmarkFreshVsSignature", "jwtverify-ratio"); ok {
			t.add("  of which jwtverify.Verify / bare RS256 check", fmt.Sprintf("%.2fx", v), "<= 1.2x (jwtverify's design)", yes(v <= 1.2))
		}
	}
	freshNS, okFresh := t.get(fresh, "ns/op")
	if okSig && okFresh {
		r := freshNS / sigNS
		t.add("fresh decision / bare RS256 check (separate runs, means)", fmt.Sprintf("%.2fx (%s / %s)", r, us(freshNS), us(sigNS)), "load-sensitive, for reference", nil)
	}
	for _, ref := range []struct{ bench, what, goal string }{
		{"BenchmarkJWTVerify", "jwtverify.Verify / bare RS256 check (separate runs)", "reference"},
		{"BenchmarkJWXParse", "jwx jwt.Parse / bare RS256 check", "reference (~2.2x)"},
		{"BenchmarkJWXVerify", "jwx jws.Verify / bare RS256 check", "reference (~1.3x)"},
	} {
		if v, ok := t.get(ref.bench, "ns/op"); ok && okSig {
			t.add(ref.what, fmt.Sprintf("%.2fx (%s)", v/sigNS, us(v)), ref.goal, nil)
		}
	}
	repNS, okRep := t.get(repeated, "ns/op")
	if okRep {
		allocs := res[repeated]["allocs/op"]
		t.add("repeated decision (cache hit)", fmt.Sprintf("%s, %.0f allocs/op", us(repNS), allocs), "<= 5 µs, few allocs", yes(repNS <= 5000 && allocs <= 4))
	}
	if v, ok := t.get("BenchmarkAWSJWTVerify/fresh", "ns/op"); ok && okFresh {
		t.add("aws-jwt-verify (Node), fresh tokens", us(v), "reference", nil)
		t.add("  aws-jwt-verify / ours, fresh", fmt.Sprintf("%.2fx", v/freshNS), "> 1x (we are faster)", yes(v > freshNS))
	}
	if v, ok := t.get("BenchmarkAWSJWTVerify/repeated", "ns/op"); ok && okRep {
		t.add("aws-jwt-verify (Node), repeated token", us(v), "reference", nil)
		t.add("  aws-jwt-verify / ours, repeated", fmt.Sprintf("%.0fx", v/repNS), "> 1x (we are faster)", yes(v > repNS))
	}
	for _, n := range []string{"0", "10000"} {
		if v, ok := t.get("BenchmarkColdInit/revocations="+n, "ns/op"); ok {
			t.add("cold init, exec to first decision, "+n+" live revocations", ms(v), "reported", nil)
		}
	}
	calls, ok1 := t.get("BenchmarkDynamoCalls", "ddb-calls/10k")
	polls, ok2 := t.get("BenchmarkDynamoCalls", "polls/10k")
	if ok1 && ok2 {
		t.add("DynamoDB calls per 10,000 decisions", fmt.Sprintf("%.0f (polls: %.0f)", calls, polls), "only the polls", yes(calls == polls))
	}
	if v, ok := t.get("BenchmarkRevocationDelay", "delay-ms"); ok {
		t.add("revocation to first refusal at the gateway (poll 1 s)", fmt.Sprintf("%.0f ms", v), "<= poll + 1 s margin", yes(v <= 2000))
	}
	return t
}

func (t *table) print(w io.Writer) {
	head := row{"figure", "measured", "goal", "met"}
	widths := [4]int{}
	all := append([]row{head}, t.rows...)
	for _, r := range all {
		for i, c := range []string{r.figure, r.measured, r.goal, r.verdict} {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	pad := func(s string, n int) string { return s + strings.Repeat(" ", n-len([]rune(s))) }
	for i, r := range all {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", pad(r.figure, widths[0]), pad(r.measured, widths[1]), pad(r.goal, widths[2]), pad(r.verdict, widths[3]))
		if i == 0 {
			fmt.Fprintf(w, "|-%s-|-%s-|-%s-|-%s-|\n", strings.Repeat("-", widths[0]), strings.Repeat("-", widths[1]),
				strings.Repeat("-", widths[2]), strings.Repeat("-", widths[3]))
		}
	}
}

func main() {
	res, err := parse(os.Stdin, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	t := build(res)
	fmt.Println()
	t.print(os.Stdout)
	if len(t.missing) > 0 {
		fmt.Fprintln(os.Stderr, "benchtable: missing:", strings.Join(t.missing, ", "))
		os.Exit(1)
	}
}
