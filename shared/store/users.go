package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// User state item: pk USER#<sub>, sk STATE, with revoked_at (unix seconds):
// every login with auth_time at or before it is revoked.
const userStateSK = "STATE"

// SetUserRevokedAt records that every login of sub authenticated at or before
// at is revoked. The stored time only moves forward: it stores
// max(existing, at) and returns the stored value. Times have whole-second
// resolution (rounded down), which with the "auth_time <= revoked_at" rule
// revokes every login up to at and, at worst, one made in the same second.
func (s *Store) SetUserRevokedAt(ctx context.Context, sub string, at time.Time) (time.Time, error) {
	if !validKeyPart(sub) {
		return time.Time{}, errors.New("store: sub must be 1 to 512 bytes of UTF-8")
	}
	if at.IsZero() || !storableTime(at) {
		return time.Time{}, errors.New("store: revocation time zero or out of range")
	}
	atSec := unixFloor(at)
	// Concurrent writers race here; each round either wins the conditional
	// update or reads back a value at least as new. Only an expired record
	// being replaced in between can send a writer round again.
	for range 3 {
		now := s.now()
		expr := "SET revoked_at = :at, #sub = :sub REMOVE #ttl"
		vals := item{":at": attrN(atSec), ":sub": attrS(sub), ":now": attrN(unixFloor(now))}
		if s.userRetention > 0 {
			expr = "SET revoked_at = :at, #sub = :sub, #ttl = :ttl"
			vals[":ttl"] = attrN(addSeconds(atSec, s.userRetention))
		}
		_, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
			Key:              key(userPK(sub), userStateSK),
			UpdateExpression: aws.String(expr),
			// An expired record counts as absent even if DynamoDB has not
			// deleted it yet.
			ConditionExpression:       aws.String("attribute_not_exists(revoked_at) OR revoked_at < :at OR #ttl <= :now"),
			ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL, "#sub": aSub},
			ExpressionAttributeValues: vals,
		})
		if err == nil {
			return time.Unix(atSec, 0), nil
		}
		if !errors.Is(err, ErrConflict) {
			return time.Time{}, err
		}
		stored, err := s.UserRevokedAt(ctx, sub)
		if err != nil {
			return time.Time{}, err
		}
		if stored.Unix() >= atSec {
			return stored, nil
		}
	}
	return time.Time{}, errors.New("store: user revocation kept changing; try again")
}

// RevokedLogin reports whether a user revocation at revokedAt covers a
// login at authTime: every login at or before it. The zero revokedAt means
// the user was never revoked. The token service and the authorizers apply
// this one rule, so a login refused by one is refused by all.
func RevokedLogin(revokedAt, authTime time.Time) bool {
	return !revokedAt.IsZero() && !authTime.After(revokedAt)
}

// UserRevokedAt returns the time recorded by SetUserRevokedAt, or the zero
// time when sub was never revoked (or the record has expired). It reads
// consistently, so a revocation is seen at once.
func (s *Store) UserRevokedAt(ctx context.Context, sub string) (time.Time, error) {
	if !validKeyPart(sub) {
		return time.Time{}, errors.New("store: sub must be 1 to 512 bytes of UTF-8")
	}
	out, err := s.getItem(ctx, &dynamodb.GetItemInput{
		Key:            key(userPK(sub), userStateSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return time.Time{}, err
	}
	if len(out.Item) == 0 || expiredAt(out.Item, s.now()) {
		return time.Time{}, nil
	}
	d := decoder{it: out.Item}
	t := d.time(aRevokedAt)
	if d.err != nil {
		return time.Time{}, d.err
	}
	return t, nil
}
