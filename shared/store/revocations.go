package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shortfuse/shortfuse/shared/config"
)

// Revocation log: every entry is written to each of Replicas copies of the
// log, and within a copy to one of Shards partitions, so that pollers spread
// over the copies and a burst of appends over the shards (docs/scale.md has
// the arithmetic). Replica r, shard s lives in partition
// REVLOG#<r>#<s>, except replica 0 shard 0, which keeps the single-partition
// log's key REVLOG. The sort key is the ID: <append time in unix nanos, 20
// digits>#<16 hex digits of randomness>, so a partition orders its entries by
// the time they were appended and IDs never collide. Attributes kind, value,
// at, until (unix seconds), ttl (= until) and layout (the writer's
// RevocationLayout, so that a reader can tell when writers disagree with it).
const (
	revlogPK = "REVLOG"

	aKind   = "kind"
	aValue  = "value"
	aAt     = "at"
	aUntil  = "until"
	aLayout = "layout"

	revIDDigits = 20
	revIDRand   = 8 // bytes, 16 hex digits
	revIDLen    = revIDDigits + 1 + 2*revIDRand
)

// Layout bounds and defaults.
const (
	DefaultRevocationReplicas = 8
	DefaultRevocationShards   = 2
	MaxRevocationReplicas     = 500
	MaxRevocationShards       = 64

	// EnvRevocationReplicas and EnvRevocationShards name the variables every
	// writer and reader of the log takes its layout from.
	EnvRevocationReplicas = "SHORTFUSE_REVOCATION_REPLICAS"
	EnvRevocationShards   = "SHORTFUSE_REVOCATION_SHARDS"

	// RevocationAttemptTimeout bounds one attempt to write an entry. An
	// attempt that does not finish in time is repeated under a new ID (a
	// new append time), so that an entry is committed at most this long
	// after the time in its ID: readers size their overlap from it.
	RevocationAttemptTimeout = 250 * time.Millisecond
)

// RevocationLayout is where the revocation log lives: Replicas identical
// copies, each split into Shards partitions. Every writer writes each entry
// to all replicas; a reader reads every shard of one replica. Writers and
// readers must use the same layout (see docs/scale.md for changing it).
type RevocationLayout struct {
	Replicas int
	Shards   int
}

// DefaultRevocationLayout is the layout used when none is configured.
func DefaultRevocationLayout() RevocationLayout {
	return RevocationLayout{Replicas: DefaultRevocationReplicas, Shards: DefaultRevocationShards}
}

// Validate reports a layout out of bounds.
func (l RevocationLayout) Validate() error {
	if l.Replicas < 1 || l.Replicas > MaxRevocationReplicas {
		return fmt.Errorf("store: revocation replicas %d not in 1..%d", l.Replicas, MaxRevocationReplicas)
	}
	if l.Shards < 1 || l.Shards > MaxRevocationShards {
		return fmt.Errorf("store: revocation shards %d not in 1..%d", l.Shards, MaxRevocationShards)
	}
	return nil
}

// String is the layout as entries record it: "<replicas>x<shards>".
func (l RevocationLayout) String() string {
	return strconv.Itoa(l.Replicas) + "x" + strconv.Itoa(l.Shards)
}

// RevocationLayoutFromEnv reads SHORTFUSE_REVOCATION_REPLICAS and
// SHORTFUSE_REVOCATION_SHARDS. Every component that writes or reads the log
// calls it, so that all of them agree as long as they get the same
// environment.
func RevocationLayoutFromEnv(env *config.Env) RevocationLayout {
	return RevocationLayout{
		Replicas: env.Int(EnvRevocationReplicas, DefaultRevocationReplicas, 1, MaxRevocationReplicas),
		Shards:   env.Int(EnvRevocationShards, DefaultRevocationShards, 1, MaxRevocationShards),
	}
}

// WithRevocationLayout sets the layout of the revocation log (default
// DefaultRevocationLayout). An invalid layout is ignored; validate it first.
func WithRevocationLayout(l RevocationLayout) Option {
	return func(s *Store) {
		if l.Validate() == nil {
			s.layout = l
		}
	}
}

// RevocationLayout returns the store's layout of the revocation log.
func (s *Store) RevocationLayout() RevocationLayout { return s.layout }

// revocationPK is the partition key of replica r, shard sh.
func revocationPK(r, sh int) string {
	if r == 0 && sh == 0 {
		return revlogPK
	}
	return revlogPK + "#" + strconv.Itoa(r) + "#" + strconv.Itoa(sh)
}

// newRevocationID returns an ID for an entry appended at t.
func newRevocationID(t time.Time) (string, error) {
	var r [revIDRand]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("store: random: %w", err)
	}
	return fmt.Sprintf("%s#%s", revTimeKey(t), hex.EncodeToString(r[:])), nil
}

// revTimeKey encodes t as the time part of a revocation ID. Times before
// 1970 map to zero and times past 2262 (the int64 nanosecond range) to the
// maximum, so the encoding is always 20 digits and orders like t.
func revTimeKey(t time.Time) string {
	var n int64
	switch {
	case t.Before(time.Unix(0, 0)):
		n = 0
	case t.After(time.Unix(0, 1<<63-1)):
		n = 1<<63 - 1
	default:
		n = t.UnixNano()
	}
	return fmt.Sprintf("%0*d", revIDDigits, n)
}

// validRevocationID reports whether id has the form newRevocationID makes.
func validRevocationID(id string) bool {
	if len(id) != revIDLen || id[revIDDigits] != '#' {
		return false
	}
	for i := 0; i < revIDDigits; i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	for i := revIDDigits + 1; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func validRevocationKind(k string) bool {
	return k == RevokeSession || k == RevokeUser || k == RevokeJTI
}

func revocationItem(pk string, r Revocation, layout string) item {
	until := unixCeil(r.Until)
	return item{
		attrPK:  attrS(pk),
		attrSK:  attrS(r.ID),
		aKind:   attrS(r.Kind),
		aValue:  attrS(r.Value),
		aAt:     attrTime(r.At),
		aUntil:  attrN(until),
		attrTTL: attrN(until),
		aLayout: attrS(layout),
	}
}

// decodeRevocation decodes a log entry and the layout its writer used ("" for
// entries written before layouts existed). It never panics.
func decodeRevocation(it item) (Revocation, string, error) {
	d := decoder{it: it}
	r := Revocation{
		ID:    d.reqStr(attrSK),
		Kind:  d.reqStr(aKind),
		Value: d.reqStr(aValue),
		At:    d.reqTime(aAt),
		Until: d.reqTime(aUntil),
	}
	layout := d.str(aLayout)
	if d.err == nil && !validRevocationID(r.ID) {
		d.fail(attrSK, "not a revocation id: %q", r.ID)
	}
	if d.err != nil {
		return Revocation{}, "", d.err
	}
	return r, layout, nil
}

// AppendRevocation adds r to every replica of the revocation log and returns
// it as stored. Kind must be one of the Revoke* kinds, Value non-empty and
// Until after At; the ID is assigned here (a caller-set ID is refused). A
// zero At is filled with the store's clock now. Times are stored in whole
// seconds: At rounded down, Until rounded up.
//
// The ID carries the append time, and pollers re-read only a short overlap
// before their previous read, so a copy must land soon after the time in its
// ID. A copy whose write completes more than RevocationAttemptTimeout after
// that time is moved to a fresh ID (put under the new one, deleted under the
// old one, in one batch), at most three times; a copy that could not be
// written at all within the store's timeout fails the call with
// ErrUnavailable (the copies already written stay; a retry by the caller
// adds the missing ones under new IDs, which readers match by kind and value
// like any other).
func (s *Store) AppendRevocation(ctx context.Context, r Revocation) (Revocation, error) {
	out, err := s.AppendRevocations(ctx, []Revocation{r})
	if err != nil {
		return Revocation{}, err
	}
	return out[0], nil
}

// AppendRevocations appends several entries as AppendRevocation does, their
// copies 25 to a BatchWriteItem call, four calls at a time.
func (s *Store) AppendRevocations(ctx context.Context, rs []Revocation) ([]Revocation, error) {
	now := s.now()
	out := make([]Revocation, len(rs))
	var copies []*revCopy
	for i, r := range rs {
		if r.At.IsZero() {
			r.At = now
		}
		switch {
		case r.ID != "":
			return nil, errors.New("store: revocation ID is assigned by the store")
		case !validRevocationKind(r.Kind):
			return nil, fmt.Errorf("store: unknown revocation kind %q", r.Kind)
		case r.Value == "" || len(r.Value) > 2048:
			return nil, errors.New("store: revocation value must be 1 to 2048 bytes")
		case r.Until.IsZero():
			return nil, errors.New("store: revocation needs Until")
		case !storableTime(r.At) || !storableTime(r.Until):
			return nil, errors.New("store: revocation time out of range")
		case !r.Until.After(r.At):
			return nil, errors.New("store: revocation Until not after At")
		}
		id, err := newRevocationID(now)
		if err != nil {
			return nil, err
		}
		r.ID = id
		// The shard comes from the ID's random part: a burst spreads evenly.
		b, _ := hex.DecodeString(id[revIDDigits+1 : revIDDigits+3])
		shard := int(b[0]) % s.layout.Shards
		for rep := range s.layout.Replicas {
			copies = append(copies, &revCopy{r: r, pk: revocationPK(rep, shard), stamp: now})
		}
		out[i] = r
		out[i].At = time.Unix(unixFloor(r.At), 0)
		out[i].Until = time.Unix(unixCeil(r.Until), 0)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.writeCopies(ctx, copies); err != nil {
		return nil, err
	}
	return out, nil
}

// revCopy is one copy of one entry on its way to the table.
type revCopy struct {
	r       Revocation // r.ID is the ID being written
	pk      string
	stamp   time.Time // when r.ID's time was taken
	stale   []string  // earlier IDs of this copy, to delete
	written bool      // some write of it succeeded
	moves   int
	done    bool
}

const maxRevocationMoves = 3

// writeCopies writes the copies, moving late ones to fresh IDs, until every
// copy has landed in time (or was moved maxRevocationMoves times) or ctx
// ends.
func (s *Store) writeCopies(ctx context.Context, copies []*revCopy) error {
	const batch, parallel = 25, 4 // BatchWriteItem's limit; calls in flight
	layout := s.layout.String()
	var firstErr error
	for attempt := 0; ; attempt++ {
		var pending []*revCopy
		for _, c := range copies {
			if !c.done {
				pending = append(pending, c)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		if ctx.Err() != nil {
			unwritten := 0
			for _, c := range pending {
				if !c.written {
					unwritten++
				}
			}
			if unwritten == 0 {
				// Every copy landed, some late: nothing better can be done.
				return nil
			}
			return fmt.Errorf("%w: AppendRevocation: %d of %d copies not written: %v",
				ErrUnavailable, unwritten, len(copies), errors.Join(firstErr, ctx.Err()))
		}
		if attempt > 0 {
			select {
			case <-ctx.Done():
				continue
			case <-time.After(time.Duration(10*attempt) * time.Millisecond):
			}
		}
		// Group into calls of at most 25 requests: a copy is one put plus
		// the deletes of its earlier IDs.
		var calls [][]*revCopy
		var cur []*revCopy
		n := 0
		for _, c := range pending {
			k := 1 + len(c.stale)
			if n+k > batch && len(cur) > 0 {
				calls = append(calls, cur)
				cur, n = nil, 0
			}
			cur = append(cur, c)
			n += k
		}
		if len(cur) > 0 {
			calls = append(calls, cur)
		}
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		sem := make(chan struct{}, parallel)
		for _, call := range calls {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				err := s.writeBatch(ctx, call, layout)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if firstErr != nil && !errors.Is(firstErr, ErrUnavailable) {
			return firstErr
		}
		// Late or unwritten copies move to a fresh ID.
		for _, c := range pending {
			if c.done {
				continue
			}
			if c.written && c.moves >= maxRevocationMoves {
				c.done = true
				continue
			}
			if c.written {
				c.moves++
			}
			now := s.now()
			id, err := newRevocationID(now)
			if err != nil {
				return err
			}
			c.stale = append(c.stale, c.r.ID)
			c.r.ID, c.stamp = id, now
		}
	}
}

// writeBatch sends one BatchWriteItem for the copies and marks those that
// landed; a copy that landed within RevocationAttemptTimeout of its stamp is
// done, and its stale IDs are gone.
func (s *Store) writeBatch(ctx context.Context, copies []*revCopy, layout string) error {
	reqs := make([]types.WriteRequest, 0, len(copies))
	for _, c := range copies {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: revocationItem(c.pk, c.r, layout)}})
		for _, id := range c.stale {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{
				Key: item{attrPK: attrS(c.pk), attrSK: attrS(id)}}})
		}
	}
	out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs}})
	if err != nil {
		return mapErr("BatchWriteItem", err)
	}
	landed := s.now()
	// Requests left unprocessed (throttling) are sent again.
	unputs := map[string]bool{}
	undeletes := map[string]bool{}
	for _, w := range out.UnprocessedItems[s.table] {
		switch {
		case w.PutRequest != nil:
			unputs[keyOf(w.PutRequest.Item)] = true
		case w.DeleteRequest != nil:
			undeletes[keyOf(w.DeleteRequest.Key)] = true
		}
	}
	for _, c := range copies {
		var left []string
		for _, id := range c.stale {
			if undeletes[c.pk+"\x00"+id] {
				left = append(left, id)
			}
		}
		c.stale = left
		if unputs[c.pk+"\x00"+c.r.ID] {
			continue
		}
		c.written = true
		// A stale copy whose delete was left unprocessed stays: a duplicate
		// is harmless.
		c.done = landed.Sub(c.stamp) <= RevocationAttemptTimeout
	}
	return nil
}

func keyOf(it item) string {
	pk, _ := it[attrPK].(*types.AttributeValueMemberS)
	sk, _ := it[attrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return ""
	}
	return pk.Value + "\x00" + sk.Value
}

// RevocationQuery asks for one page of one shard of one replica.
type RevocationQuery struct {
	Replica, Shard int
	// Since: entries appended at or after it.
	Since time.Time
	// Now: entries whose Until is not after it are read but left out.
	Now time.Time
	// After resumes after this sort key (RevocationPage.Next); "" starts at
	// Since.
	After string
	// Consistent asks for a strongly consistent read (twice the read units).
	Consistent bool
}

// RevocationPage is one page of a shard.
type RevocationPage struct {
	Entries []Revocation
	// Next is the sort key to resume after; "" when the shard was read to
	// its end.
	Next string
	// Items and Bytes are what DynamoDB read (expired entries included),
	// Bytes as DynamoDB sizes items; ReadUnits are the units it reported
	// consumed (0 when it reports none).
	Items     int
	Bytes     int
	ReadUnits float64
	// ForeignLayout counts entries written under another layout than the
	// store's: writers and readers disagree.
	ForeignLayout int
}

// ReadRevocations reads one page (at most 1 MB, DynamoDB's page size) of a
// shard, under the store's timeout: a long read is many short calls, and a
// caller can resume where a failed page stopped.
func (s *Store) ReadRevocations(ctx context.Context, q RevocationQuery) (RevocationPage, error) {
	if q.Replica < 0 || q.Replica >= s.layout.Replicas || q.Shard < 0 || q.Shard >= s.layout.Shards {
		return RevocationPage{}, fmt.Errorf("store: revocation replica %d shard %d outside layout %s", q.Replica, q.Shard, s.layout)
	}
	pk := revocationPK(q.Replica, q.Shard)
	in := &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("pk = :pk AND sk >= :since"),
		ExpressionAttributeValues: item{
			":pk":    attrS(pk),
			":since": attrS(revTimeKey(q.Since)),
		},
		ConsistentRead:         aws.Bool(q.Consistent),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if q.After != "" {
		if !validRevocationID(q.After) {
			return RevocationPage{}, fmt.Errorf("store: malformed revocation cursor %q", q.After)
		}
		in.ExclusiveStartKey = item{attrPK: attrS(pk), attrSK: attrS(q.After)}
	}
	out, err := s.query(ctx, in)
	if err != nil {
		return RevocationPage{}, err
	}
	p := RevocationPage{Items: len(out.Items)}
	if out.ConsumedCapacity != nil && out.ConsumedCapacity.CapacityUnits != nil {
		p.ReadUnits = *out.ConsumedCapacity.CapacityUnits
	}
	layout := s.layout.String()
	for _, it := range out.Items {
		p.Bytes += itemSize(it)
		r, l, err := decodeRevocation(it)
		if err != nil {
			return RevocationPage{}, err
		}
		if l != "" && l != layout {
			p.ForeignLayout++
		}
		if r.Until.After(q.Now) {
			p.Entries = append(p.Entries, r)
		}
	}
	if len(out.LastEvaluatedKey) > 0 {
		if v, ok := out.LastEvaluatedKey[attrSK].(*types.AttributeValueMemberS); ok {
			p.Next = v.Value
		} else {
			return RevocationPage{}, errors.New("store: revocation page without a sort key to resume after")
		}
	}
	return p, nil
}

// RevocationsSince returns the log entries appended at or after since whose
// Until is after now, oldest first, reading every page of every shard of
// replica 0 consistently. It is for tools and tests; authorizers poll with
// ReadRevocations.
func (s *Store) RevocationsSince(ctx context.Context, since time.Time, now time.Time) ([]Revocation, error) {
	var list []Revocation
	for sh := range s.layout.Shards {
		q := RevocationQuery{Shard: sh, Since: since, Now: now, Consistent: true}
		for {
			p, err := s.ReadRevocations(ctx, q)
			if err != nil {
				return nil, err
			}
			list = append(list, p.Entries...)
			if p.Next == "" {
				break
			}
			q.After = p.Next
		}
	}
	slices.SortFunc(list, func(a, b Revocation) int { return cmpString(a.ID, b.ID) })
	return list, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// itemSize is an item's size as DynamoDB counts it for capacity: the
// lengths of attribute names plus their values (strings and binaries by
// length, numbers by about one byte per two significant digits plus one).
func itemSize(it item) int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		digits := 0
		for _, c := range v.Value {
			if c >= '0' && c <= '9' {
				digits++
			}
		}
		return (digits+1)/2 + 1
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, e := range v.Value {
			n += len(e)
		}
		return n
	}
	return 0
}
