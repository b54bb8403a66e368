package benchpair

import (
	"testing"
	"time"
)

func TestTimeAlternatesOrder(t *testing.T) {
	var p Pair
	var order []string
	for range 4 {
		p.Time(func() { order = append(order, "a") }, func() { order = append(order, "b") })
	}
	want := []string{"a", "b", "b", "a", "a", "b", "b", "a"}
	if len(order) != len(want) {
		t.Fatalf("order %v", order)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	if len(p.A) != 4 || len(p.B) != 4 {
		t.Fatalf("%d and %d samples, want 4 each", len(p.A), len(p.B))
	}
}

func TestTimeRecordsEachOperation(t *testing.T) {
	var p Pair
	slow := func() { time.Sleep(2 * time.Millisecond) }
	for range 4 {
		p.Time(slow, func() {})
	}
	// Whichever ran first, the sleep is charged to A. (Only the lower
	// bound, which time.Sleep guarantees, is checked: no timed assertion.)
	for i := range p.A {
		if p.A[i] < 2*time.Millisecond {
			t.Fatalf("sample %d: a took %v, less than its sleep", i, p.A[i])
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{3, 1, 2}, 2},
		{[]time.Duration{4, 1, 3, 2}, 3},
	} {
		in := append([]time.Duration(nil), tt.in...)
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", in, got, tt.want)
		}
		for i := range in {
			if in[i] != tt.in[i] {
				t.Fatalf("Median reordered its input: %v", tt.in)
			}
		}
	}
}
