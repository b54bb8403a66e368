package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Revocation log: pk REVLOG, sk = ID = <append time in unix nanos, 20
// digits>#<16 hex digits of randomness>, so the sort key orders entries by
// the time they were appended and never collides. Attributes kind, value,
// at, until (unix seconds) and ttl (= until).
//
// All entries share one partition. That is deliberate: pollers read the
// whole live window with one Query, and the log only holds entries whose
// tokens can still be accepted, so it stays small and is written rarely.
const (
	revlogPK = "REVLOG"

	aKind  = "kind"
	aValue = "value"
	aAt    = "at"
	aUntil = "until"

	revIDDigits = 20
	revIDRand   = 8 // bytes, 16 hex digits
	revIDLen    = revIDDigits + 1 + 2*revIDRand
)

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

func revocationItem(r Revocation) item {
	until := unixCeil(r.Until)
	return item{
		attrPK:  attrS(revlogPK),
		attrSK:  attrS(r.ID),
		aKind:   attrS(r.Kind),
		aValue:  attrS(r.Value),
		aAt:     attrTime(r.At),
		aUntil:  attrN(until),
		attrTTL: attrN(until),
	}
}

// decodeRevocation decodes a log entry. It never panics.
func decodeRevocation(it item) (Revocation, error) {
	d := decoder{it: it}
	r := Revocation{
		ID:    d.reqStr(attrSK),
		Kind:  d.reqStr(aKind),
		Value: d.reqStr(aValue),
		At:    d.reqTime(aAt),
		Until: d.reqTime(aUntil),
	}
	if d.err == nil && !validRevocationID(r.ID) {
		d.fail(attrSK, "not a revocation id: %q", r.ID)
	}
	if d.err != nil {
		return Revocation{}, d.err
	}
	return r, nil
}

// AppendRevocation adds r to the revocation log and returns it as stored.
// Kind must be one of the Revoke* kinds, Value non-empty and Until after At.
// An empty ID is filled with a new time-ordered one based on the store's
// clock now (the append time, not At), and a zero At with now. A caller that
// retries with the ID it got back is idempotent: the second write gets
// ErrConflict. Times are stored in whole seconds: At rounded down, Until
// rounded up.
func (s *Store) AppendRevocation(ctx context.Context, r Revocation) (Revocation, error) {
	now := s.now()
	if r.At.IsZero() {
		r.At = now
	}
	switch {
	case !validRevocationKind(r.Kind):
		return Revocation{}, fmt.Errorf("store: unknown revocation kind %q", r.Kind)
	case r.Value == "" || len(r.Value) > 2048:
		return Revocation{}, errors.New("store: revocation value must be 1 to 2048 bytes")
	case r.Until.IsZero():
		return Revocation{}, errors.New("store: revocation needs Until")
	case !storableTime(r.At) || !storableTime(r.Until):
		return Revocation{}, errors.New("store: revocation time out of range")
	case !r.Until.After(r.At):
		return Revocation{}, errors.New("store: revocation Until not after At")
	}
	if r.ID == "" {
		id, err := newRevocationID(now)
		if err != nil {
			return Revocation{}, err
		}
		r.ID = id
	} else if !validRevocationID(r.ID) {
		return Revocation{}, fmt.Errorf("store: malformed revocation id %q", r.ID)
	}
	_, err := s.putItem(ctx, &dynamodb.PutItemInput{
		Item:                revocationItem(r),
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		return Revocation{}, err
	}
	r.At = time.Unix(unixFloor(r.At), 0)
	r.Until = time.Unix(unixCeil(r.Until), 0)
	return r, nil
}

// RevocationsSince returns the log entries appended at or after since whose
// Until is after now, oldest first, reading every page consistently.
//
// "Appended" is the time in the entry's ID, taken from the writer's clock
// before its write lands; it equals At unless the writer set At itself. A
// poller must therefore ask again from a little before its previous read
// (clock skew plus the store timeout is enough) and skip IDs it has seen;
// the live window is small, so the overlap costs little.
func (s *Store) RevocationsSince(ctx context.Context, since time.Time, now time.Time) ([]Revocation, error) {
	var list []Revocation
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("pk = :pk AND sk >= :since"),
		ExpressionAttributeValues: item{
			":pk":    attrS(revlogPK),
			":since": attrS(revTimeKey(since)),
		},
		ConsistentRead: aws.Bool(true),
	}, func(items []item) error {
		for _, it := range items {
			r, err := decodeRevocation(it)
			if err != nil {
				return err
			}
			if !r.Until.After(now) {
				continue
			}
			list = append(list, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}
