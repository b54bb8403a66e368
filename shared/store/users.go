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

// RevokedLogin reports whether a user revocation at revokedAt covers a
// login at authTime: every login at or before it. The zero revokedAt means
// the user was never revoked. The token service and the authorizers apply
// this one rule, so a login refused by one is refused by all.
func RevokedLogin(revokedAt, authTime time.Time) bool {
	return !revokedAt.IsZero() && !authTime.After(revokedAt)
}

// UserRevokedAt returns the time recorded by RevokeUser, or the zero
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

// UserState is a user's revocation record.
type UserState struct {
	RevokedAt time.Time // zero: never revoked (or forgotten)
	// RevocationLog is the ID of the log entry for RevokedAt, "" while
	// none has been confirmed written.
	RevocationLog string
}

// RevokeUser moves the user's revocation time forward to at (it stores
// max(existing, at), in whole seconds rounded down) and reports whether this call changed it. A change
// clears RevocationLog: the new time is not logged yet (MarkUserLogged).
// Without a change the stored state is returned as it is.
func (s *Store) RevokeUser(ctx context.Context, sub string, at time.Time) (UserState, bool, error) {
	if !validKeyPart(sub) {
		return UserState{}, false, errors.New("store: sub must be 1 to 512 bytes of UTF-8")
	}
	if at.IsZero() || !storableTime(at) {
		return UserState{}, false, errors.New("store: revocation time zero or out of range")
	}
	atSec := unixFloor(at)
	// Concurrent writers race here; each round either wins the conditional
	// update or reads back a value at least as new. Only an expired record
	// being replaced in between can send a writer round again.
	for range 3 {
		now := s.now()
		expr := "SET revoked_at = :at, #sub = :sub REMOVE #ttl, rev_log"
		vals := item{":at": attrN(atSec), ":sub": attrS(sub), ":now": attrN(unixFloor(now))}
		if s.userRetention > 0 {
			expr = "SET revoked_at = :at, #sub = :sub, #ttl = :ttl REMOVE rev_log"
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
			return UserState{RevokedAt: time.Unix(atSec, 0)}, true, nil
		}
		if !errors.Is(err, ErrConflict) {
			return UserState{}, false, err
		}
		st, err := s.User(ctx, sub)
		if err != nil {
			return UserState{}, false, err
		}
		if st.RevokedAt.Unix() >= atSec {
			return st, false, nil
		}
	}
	return UserState{}, false, errors.New("store: user revocation kept changing; try again")
}

// User returns the user's revocation record, read consistently.
func (s *Store) User(ctx context.Context, sub string) (UserState, error) {
	if !validKeyPart(sub) {
		return UserState{}, errors.New("store: sub must be 1 to 512 bytes of UTF-8")
	}
	out, err := s.getItem(ctx, &dynamodb.GetItemInput{
		Key:            key(userPK(sub), userStateSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return UserState{}, err
	}
	if len(out.Item) == 0 || expiredAt(out.Item, s.now()) {
		return UserState{}, nil
	}
	d := decoder{it: out.Item}
	st := UserState{RevokedAt: d.time(aRevokedAt), RevocationLog: d.str(aRevLog)}
	if d.err != nil {
		return UserState{}, d.err
	}
	return st, nil
}

// MarkUserLogged records the log entry of the user's revocation at at; a
// revocation time moved on since is left alone (its own call logs it).
func (s *Store) MarkUserLogged(ctx context.Context, sub string, at time.Time, logged string) error {
	if !validKeyPart(sub) || logged == "" {
		return errors.New("store: mark logged needs a sub and a value")
	}
	_, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
		Key:                       key(userPK(sub), userStateSK),
		UpdateExpression:          aws.String("SET rev_log = :log"),
		ConditionExpression:       aws.String("revoked_at = :at"),
		ExpressionAttributeValues: item{":log": attrS(logged), ":at": attrN(unixFloor(at))},
	})
	if errors.Is(err, ErrConflict) {
		return nil
	}
	return err
}
