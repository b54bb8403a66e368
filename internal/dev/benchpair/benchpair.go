// Package benchpair times two operations against each other inside one
// benchmark loop, alternating which runs first, so that both see the same
// machine load and their ratio is measured in one run. Medians, not sums:
// a preemption or a GC cycle landing in one sample must not decide the
// ratio.
package benchpair

import (
	"slices"
	"time"
)

// Pair holds the durations of two operations timed together, one sample of
// each per call to Time.
type Pair struct {
	A, B []time.Duration
}

// Time runs a and b once each, a first on even calls and b first on odd
// ones, and records how long each took.
func (p *Pair) Time(a, b func()) {
	aFirst := len(p.A)%2 == 0
	first, second := a, b
	if !aFirst {
		first, second = b, a
	}
	t0 := time.Now()
	first()
	t1 := time.Now()
	second()
	t2 := time.Now()
	if aFirst {
		p.A, p.B = append(p.A, t1.Sub(t0)), append(p.B, t2.Sub(t1))
	} else {
		p.B, p.A = append(p.B, t1.Sub(t0)), append(p.A, t2.Sub(t1))
	}
}

// Medians returns the median duration of a and of b.
func (p *Pair) Medians() (a, b time.Duration) { return Median(p.A), Median(p.B) }

// Median returns the median of d (the upper one of an even count), 0 for
// no samples.
func Median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
