package revset

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/store"
)

// simResult is what a simulation measured.
type simResult struct {
	appended   int     // entries appended while the pollers ran
	polls      int64   // polls made by all pollers
	items      int64   // items those polls read
	bytes      int64   // their bytes, as DynamoDB sizes them
	readUnits  float64 // units dynalite reported for those polls
	itemBytes  float64 // mean size of an entry
	ampItems   float64 // items read per poller / entries appended
	ampBytes   float64 // bytes read per poller / bytes appended
	perPoll    float64 // items read per poll
	appendRate float64 // entries per second achieved
	widened    int64   // polls that widened their overlap
}

// simulate runs pollers Sets against dynalite, each reading the replica
// i mod Replicas, while a writer appends rate entries per second for dur.
// It checks that every poller ends up holding every entry.
func simulate(tb testing.TB, pollers int, rate float64, dur time.Duration, layout store.RevocationLayout) simResult {
	tb.Helper()
	d := testenv.Dynalite(tb)
	ctx := context.Background()
	if err := store.CreateTable(ctx, d.Client, "sim"); err != nil {
		tb.Fatal(err)
	}
	st := store.New(d.Client, "sim", store.WithRevocationLayout(layout), store.WithTimeout(10*time.Second))
	sets := make([]*Set, pollers)
	for i := range sets {
		sets[i] = New(st, Options{Replica: func(n int) int { return i % n }, Timeout: 10 * time.Second})
		defer sets[i].Close()
		if err := sets[i].Start(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	base := make([]Stats, pollers)
	for i, s := range sets {
		base[i] = s.Stats()
	}
	// The writer appends in batches every 50 ms.
	var appended int
	start := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	until := start.Add(time.Hour)
	for time.Since(start) < dur {
		<-tick.C
		want := int(rate*time.Since(start).Seconds()) - appended
		if want <= 0 {
			continue
		}
		rs := make([]store.Revocation, want)
		for j := range rs {
			rs[j] = store.Revocation{Kind: store.RevokeSession, Value: "sim-" + strconv.Itoa(appended+j), Until: until}
		}
		if _, err := st.AppendRevocations(ctx, rs); err != nil {
			tb.Fatal(err)
		}
		appended += want
	}
	tick.Stop()
	elapsed := time.Since(start)
	// What the polls read while entries were being appended: the tail
	// after the last append re-reads an overlap with nothing new, which a
	// real burst, followed by more traffic, would not end with.
	window := make([]Stats, pollers)
	for i, s := range sets {
		window[i] = s.Stats()
	}
	// Let every poller pass the last append, then stop them.
	time.Sleep(DefaultPoll + DefaultOverlap + 500*time.Millisecond)
	var r simResult
	r.appended = appended
	r.appendRate = float64(appended) / elapsed.Seconds()
	var mu sync.Mutex
	for i, s := range sets {
		// A poller still behind a slow emulator catches up here; an entry
		// that landed too late for the overlap would still be missing.
		if err := s.Refresh(ctx); err != nil {
			tb.Fatal(err)
		}
		s.Close()
		now := s.Stats()
		r.widened += now.Widened
		mu.Lock()
		r.polls += window[i].Polls - base[i].Polls
		r.items += window[i].Items - base[i].Items
		r.bytes += window[i].Bytes - base[i].Bytes
		r.readUnits += window[i].ReadUnits - base[i].ReadUnits
		mu.Unlock()
		// Every appended entry is matched (a copy moved to a fresh ID may
		// be held twice, which is harmless).
		st := s.state.Load()
		for j := range appended {
			if st.match(&Token{SessionID: "sim-" + strconv.Itoa(j)}) == nil {
				tb.Errorf("poller %d (replica %d) missed entry %d of %d", i, now.Replica, j, appended)
				break
			}
		}
	}
	if r.items > 0 {
		r.itemBytes = float64(r.bytes) / float64(r.items)
	}
	if appended > 0 {
		r.ampItems = float64(r.items) / float64(pollers) / float64(appended)
		r.ampBytes = float64(r.bytes) / float64(pollers) / (float64(appended) * r.itemBytes)
	}
	if r.polls > 0 {
		r.perPoll = float64(r.items) / float64(r.polls)
	}
	return r
}

// TestScaleSimulation: many pollers, a steady stream of revocations; every
// poller sees every entry, and a poll reads about (poll + overlap) / poll
// times what was appended during it, not the log.
func TestScaleSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pollers against dynalite for seconds")
	}
	r := simulate(t, 12, 40, 4*time.Second, store.RevocationLayout{Replicas: 3, Shards: 2})
	t.Logf("%d entries appended (%.0f/s), %d polls read %d items (%d KB, %.1f read units): %.2f items per poll, amplification %.2f (items) %.2f (bytes), %.0f bytes per entry",
		r.appended, r.appendRate, r.polls, r.items, r.bytes>>10, r.readUnits, r.perPoll, r.ampItems, r.ampBytes, r.itemBytes)
	want := float64(DefaultPoll+DefaultOverlap) / float64(DefaultPoll)
	// The edges of the run (the last polls re-read the overlap with nothing
	// new) add a little; a poll re-reading more than twice what is new would
	// mean the cursor does not skip what was seen.
	if r.ampItems > 2*want || r.ampItems < 1 {
		t.Errorf("amplification %.2f, want about %.2f", r.ampItems, want)
	}
}

// BenchmarkPollBurst runs pollers during a 500/s revocation burst against
// dynalite and reports what a poll reads against what was appended, and
// the read units per partition the capacity model derives from that for
// 10,000 warm authorizers and a 1,000/s burst on the recommended layout.
// (Shards 2, one replica: dynalite is one process and the burst's writes
// are what it can take; replicas do not change what a poller reads.)
func BenchmarkPollBurst(b *testing.B) {
	var r simResult
	for b.Loop() {
		r = simulate(b, 4, 500, 5*time.Second, store.RevocationLayout{Replicas: 1, Shards: 2})
	}
	m := capModel{layout: recommendedLayout, poll: DefaultPoll, overlap: DefaultOverlap, itemBytes: r.itemBytes, amplification: r.ampBytes}
	f := m.figures(designLoad)
	b.ReportMetric(r.ampItems, "read/appended-items")
	b.ReportMetric(r.ampBytes, "read/appended-bytes")
	b.ReportMetric(r.itemBytes, "bytes/entry")
	b.ReportMetric(r.appendRate, "appends/s")
	b.ReportMetric(float64(r.widened), "widened-polls")
	b.ReportMetric(f.readUnitsPerPartition, "rcu/partition@10k")
	b.ReportMetric(f.writeUnitsPerPartition, "wcu/partition@1k/s")
}
