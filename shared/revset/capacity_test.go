package revset

import (
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/store"
)

// The capacity model of docs/scale.md. DynamoDB's published limits and
// on-demand prices (us-east-1, since November 2024) are its inputs; the item
// size and the read amplification come from the simulation below.
const (
	partitionReadLimit  = 3000  // read units per second per partition
	partitionWriteLimit = 1000  // write units per second per partition
	readPrice           = 0.125 // USD per million read request units
	writePrice          = 0.625 // USD per million write request units
	secondsPerMonth     = 30 * 24 * 3600
	// decisionsPerAuthorizer is the request rate assumed per warm
	// authorizer for the cost per million decisions.
	decisionsPerAuthorizer = 10
)

// capModel is one configuration of the log and its readers.
type capModel struct {
	layout        store.RevocationLayout
	poll, overlap time.Duration
	consistent    bool
	itemBytes     float64 // one entry as DynamoDB sizes it
	amplification float64 // entries read per poll / entries appended per poll; (poll+overlap)/poll when zero
}

// capLoad is a fleet and a revocation rate.
type capLoad struct {
	authorizers int
	revocations float64 // per second
}

type capFigures struct {
	readUnitsPerPartition  float64 // per second, the busiest partition
	writeUnitsPerPartition float64
	readUnits, writeUnits  float64 // per second, whole table
	perQuery               float64 // read units per Query
	monthlyUSD             float64
	perMillionDecisionsUSD float64
}

func (m capModel) figures(l capLoad) capFigures {
	amp := m.amplification
	if amp == 0 {
		amp = float64(m.poll+m.overlap) / float64(m.poll)
	}
	k, w := float64(m.layout.Replicas), float64(m.layout.Shards)
	polls := 1 / m.poll.Seconds() // per authorizer per second
	// One Query reads what its shard gained during Poll, amplified by the
	// overlap, rounded up to 4 KB; an empty Query still costs one unit.
	bytesPerQuery := l.revocations / w * m.poll.Seconds() * amp * m.itemBytes
	units := math.Max(1, math.Ceil(bytesPerQuery/4096))
	if !m.consistent {
		units /= 2
	}
	var f capFigures
	f.perQuery = units
	readers := math.Ceil(float64(l.authorizers) / k) // on the busiest replica (random choice evens out)
	f.readUnitsPerPartition = readers * polls * units
	writeUnitsPerItem := math.Ceil(m.itemBytes / 1024)
	f.writeUnitsPerPartition = l.revocations / w * writeUnitsPerItem
	f.readUnits = float64(l.authorizers) * polls * w * units
	f.writeUnits = l.revocations * k * writeUnitsPerItem
	perSecond := (f.readUnits*readPrice + f.writeUnits*writePrice) / 1e6
	f.monthlyUSD = perSecond * secondsPerMonth
	f.perMillionDecisionsUSD = perSecond / float64(l.authorizers*decisionsPerAuthorizer) * 1e6
	return f
}

// measuredItemBytes is an entry's size as the store writes it (a session
// id of 43 characters, the token service's).
func measuredItemBytes() float64 { return 104 }

var capTable = flag.Bool("capacity", false, "print the capacity tables of docs/scale.md")

// TestCapacityModel checks the model's arithmetic on known cases and, with
// -capacity, prints the tables of docs/scale.md.
func TestCapacityModel(t *testing.T) {
	def := capModel{layout: store.DefaultRevocationLayout(), poll: DefaultPoll, overlap: DefaultOverlap, itemBytes: measuredItemBytes()}
	idle := def.figures(capLoad{authorizers: 1000, revocations: 0})
	// 1,000 authorizers over 8 replicas: 125 queries/s per partition at
	// the 0.5-unit minimum.
	if idle.readUnitsPerPartition != 62.5 || idle.writeUnitsPerPartition != 0 {
		t.Errorf("idle: %+v", idle)
	}
	big := def
	big.layout = recommendedLayout
	f := big.figures(designLoad)
	if f.readUnitsPerPartition > partitionReadLimit/2 || f.writeUnitsPerPartition > partitionWriteLimit/2 {
		t.Errorf("design load on %s: %+v; want well under the partition limits", big.layout, f)
	}
	if !*capTable {
		return
	}
	var b strings.Builder
	for _, m := range []capModel{def, big} {
		fmt.Fprintf(&b, "\nLayout %s (poll %s, overlap %s, eventually consistent, %.0f-byte entries):\n\n", m.layout, m.poll, m.overlap, m.itemBytes)
		fmt.Fprintln(&b, "| warm authorizers | revocations/s | RCU/s per partition | WCU/s per partition | RCU/s table | WCU/s table | USD/month | USD per 1M decisions |")
		fmt.Fprintln(&b, "|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, n := range []int{100, 1000, 10000} {
			for _, r := range []float64{1, 100, 1000} {
				f := m.figures(capLoad{n, r})
				flag := ""
				if f.readUnitsPerPartition > partitionReadLimit || f.writeUnitsPerPartition >= partitionWriteLimit {
					flag = " **over**"
				}
				fmt.Fprintf(&b, "| %d | %.0f | %.0f%s | %.0f | %.0f | %.0f | %.0f | %.4f |\n", n, r, f.readUnitsPerPartition, flag,
					f.writeUnitsPerPartition, f.readUnits, f.writeUnits, f.monthlyUSD, f.perMillionDecisionsUSD)
			}
		}
	}
	fmt.Fprint(os.Stdout, b.String())
}

// The fleet the design must hold, and the layout docs/scale.md recommends
// for it.
var (
	designLoad        = capLoad{authorizers: 10000, revocations: 1000}
	recommendedLayout = store.RevocationLayout{Replicas: 32, Shards: 8}
)
