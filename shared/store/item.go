package store

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// item is one DynamoDB item.
type item = map[string]types.AttributeValue

// Times are stored as whole unix seconds, the resolution of every JWT claim.
// Rounding is chosen so that it can only shorten access, never extend it:
// limits on a grant (session expiry) round down, lifetimes of a denial
// (revocation entries, ttl) round up, and instants round down.

// unixFloor returns t as unix seconds, rounded down.
func unixFloor(t time.Time) int64 { return t.Unix() }

// unixCeil returns t as unix seconds, rounded up.
func unixCeil(t time.Time) int64 {
	u := t.Unix()
	if t.Nanosecond() > 0 {
		u++
	}
	return u
}

// key returns the primary key of an item.
func key(pk, sk string) item {
	return item{attrPK: attrS(pk), attrSK: attrS(sk)}
}

func attrS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func attrN(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func attrB(v []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }

// attrTime is t in unix seconds, rounded down.
func attrTime(t time.Time) types.AttributeValue { return attrN(unixFloor(t)) }

// attrStrings is a list of strings (a list rather than a string set, which
// cannot be empty and has no order).
func attrStrings(v []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(v))
	for i, s := range v {
		l[i] = attrS(s)
	}
	return &types.AttributeValueMemberL{Value: l}
}

// putS sets name to v unless v is empty: an absent attribute reads back as "".
func putS(it item, name, v string) {
	if v != "" {
		it[name] = attrS(v)
	}
}

// putTime sets name to t in unix seconds unless t is zero.
func putTime(it item, name string, t time.Time) {
	if !t.IsZero() {
		it[name] = attrTime(t)
	}
}

// A decoder reads attributes of one item and keeps the first error, so
// decoding code stays linear and a malformed item yields one clear error.
type decoder struct {
	it  item
	err error
}

func (d *decoder) fail(name, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("store: malformed item: attribute %s: %s", name, fmt.Sprintf(format, args...))
	}
}

// str returns a string attribute; "" when absent.
func (d *decoder) str(name string) string {
	av, ok := d.it[name]
	if !ok {
		return ""
	}
	v, ok := av.(*types.AttributeValueMemberS)
	if !ok || v == nil {
		d.fail(name, "want S, got %T", av)
		return ""
	}
	return v.Value
}

// reqStr returns a string attribute that must be present and not empty.
func (d *decoder) reqStr(name string) string {
	v := d.str(name)
	if v == "" {
		d.fail(name, "missing")
	}
	return v
}

// num returns an integer number attribute; 0 when absent.
func (d *decoder) num(name string) int64 {
	av, ok := d.it[name]
	if !ok {
		return 0
	}
	v, ok := av.(*types.AttributeValueMemberN)
	if !ok || v == nil {
		d.fail(name, "want N, got %T", av)
		return 0
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		d.fail(name, "not an integer: %q", v.Value)
		return 0
	}
	return n
}

// maxUnix bounds stored times (year 9999) so that conversions never overflow.
const maxUnix = 253402300799

// storableTime reports whether t can be stored: 1970 to 9999.
func storableTime(t time.Time) bool {
	u := t.Unix()
	return u >= 0 && u <= maxUnix
}

// time returns a unix-seconds attribute; the zero time when absent.
func (d *decoder) time(name string) time.Time {
	if _, ok := d.it[name]; !ok {
		return time.Time{}
	}
	n := d.num(name)
	if n < 0 || n > maxUnix {
		d.fail(name, "time out of range: %d", n)
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// reqTime returns a unix-seconds attribute that must be present.
func (d *decoder) reqTime(name string) time.Time {
	if _, ok := d.it[name]; !ok {
		d.fail(name, "missing")
		return time.Time{}
	}
	return d.time(name)
}

// bin returns a binary attribute; nil when absent.
func (d *decoder) bin(name string) []byte {
	av, ok := d.it[name]
	if !ok {
		return nil
	}
	v, ok := av.(*types.AttributeValueMemberB)
	if !ok || v == nil {
		d.fail(name, "want B, got %T", av)
		return nil
	}
	return v.Value
}

// list returns the elements of a list attribute; ok is false when it is
// absent or, with the error recorded, of another type.
func (d *decoder) list(name string) (l []types.AttributeValue, ok bool) {
	av, ok := d.it[name]
	if !ok {
		return nil, false
	}
	v, ok := av.(*types.AttributeValueMemberL)
	if !ok || v == nil {
		d.fail(name, "want L, got %T", av)
		return nil, false
	}
	return v.Value, true
}

// strings returns a list of strings; nil when absent.
func (d *decoder) strings(name string) []string {
	l, ok := d.list(name)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for i, e := range l {
		s, ok := e.(*types.AttributeValueMemberS)
		if !ok || s == nil {
			d.fail(name, "element %d: want S, got %T", i, e)
			return nil
		}
		out = append(out, s.Value)
	}
	return out
}

// expiredAt reports whether an item's ttl has passed at now. An item without
// a ttl never expires; a malformed ttl counts as expired (fail closed).
func expiredAt(it item, now time.Time) bool {
	av, ok := it[attrTTL]
	if !ok {
		return false
	}
	v, ok := av.(*types.AttributeValueMemberN)
	if !ok || v == nil {
		return true
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return true
	}
	// Expired once now reaches ttl: DynamoDB may delete the item from then on.
	return now.Unix() >= n
}

// addSeconds returns u + d in whole seconds, saturating instead of overflowing.
func addSeconds(u int64, d time.Duration) int64 {
	sec := int64(d / time.Second)
	if d%time.Second != 0 {
		sec++
	}
	if sec > 0 && u > math.MaxInt64-sec {
		return math.MaxInt64
	}
	return u + sec
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
