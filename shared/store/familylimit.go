package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Family entry counter item: pk USER#<sub>, sk FAMLIMIT, with n (how many
// long-lived login family log entries were written for the user) and ttl
// (the Until of the longest-lived of them). The count only resets once
// every entry it counts has expired, so the user's live counted entries
// never exceed it: the bound is on what is in the log, not on a rate.
const familyLimitSK = "FAMLIMIT"

const aCount = "n"

// FamilyCount is a user's family entry counter as stored.
type FamilyCount struct {
	N     int
	Until time.Time // when the last counted entry expires; zero when none
}

// FamilyCount returns the user's family entry counter, read consistently;
// an expired or missing counter is zero.
func (s *Store) FamilyCount(ctx context.Context, sub string) (FamilyCount, error) {
	if !validKeyPart(sub) {
		return FamilyCount{}, errors.New("store: sub must be 1 to 512 bytes of UTF-8")
	}
	out, err := s.getItem(ctx, &dynamodb.GetItemInput{
		Key:            key(userPK(sub), familyLimitSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return FamilyCount{}, err
	}
	if len(out.Item) == 0 || expiredAt(out.Item, s.now()) {
		return FamilyCount{}, nil
	}
	d := decoder{it: out.Item}
	c := FamilyCount{N: int(d.num(aCount)), Until: d.reqTime(attrTTL)}
	if d.err != nil {
		return FamilyCount{}, d.err
	}
	return c, nil
}

// CountFamilyEntry counts one more long-lived family entry of sub, living
// until until, and reports whether it was counted. Unless force is set it
// counts only while the live count is below limit: of any number of
// concurrent calls at limit-1 exactly one is counted. A forced count (an
// entry written past the limit anyway) always counts, so the counter then
// reads above limit. The counter's ttl only moves forward.
func (s *Store) CountFamilyEntry(ctx context.Context, sub string, limit int, until time.Time, force bool) (FamilyCount, bool, error) {
	if !validKeyPart(sub) {
		return FamilyCount{}, false, errors.New("store: sub must be 1 to 512 bytes of UTF-8")
	}
	if limit < 1 || !storableTime(until) {
		return FamilyCount{}, false, errors.New("store: family entry count needs a limit and an expiry")
	}
	// Each round either writes or loses to a write that moved the counter
	// (a new window, or a later ttl); increments under the limit do not
	// conflict with one another.
	for range 8 {
		now := s.now()
		cur, err := s.FamilyCount(ctx, sub)
		if err != nil {
			return FamilyCount{}, false, err
		}
		if cur.N == 0 {
			// No live counter (or an expired one not yet deleted): start one.
			ttl := unixCeil(until)
			_, err = s.updateItem(ctx, &dynamodb.UpdateItemInput{
				Key:                       key(userPK(sub), familyLimitSK),
				UpdateExpression:          aws.String("SET n = :one, #ttl = :ttl, #sub = :sub"),
				ConditionExpression:       aws.String("attribute_not_exists(pk) OR #ttl <= :now"),
				ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL, "#sub": aSub},
				ExpressionAttributeValues: item{":one": attrN(1), ":ttl": attrN(ttl), ":sub": attrS(sub), ":now": attrN(unixFloor(now))},
			})
			if err == nil {
				return FamilyCount{N: 1, Until: time.Unix(ttl, 0)}, true, nil
			}
		} else {
			if !force && cur.N >= limit {
				return cur, false, nil
			}
			ttl := max(unixCeil(until), cur.Until.Unix())
			cond := "#ttl > :now AND #ttl <= :ttl"
			vals := item{":one": attrN(1), ":ttl": attrN(ttl), ":now": attrN(unixFloor(now))}
			if !force {
				cond += " AND n < :limit"
				vals[":limit"] = attrN(int64(limit))
			}
			out, uerr := s.updateItem(ctx, &dynamodb.UpdateItemInput{
				Key:                       key(userPK(sub), familyLimitSK),
				UpdateExpression:          aws.String("SET n = n + :one, #ttl = :ttl"),
				ConditionExpression:       aws.String(cond),
				ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
				ExpressionAttributeValues: vals,
				ReturnValues:              types.ReturnValueAllNew,
			})
			if uerr == nil {
				d := decoder{it: out.Attributes}
				c := FamilyCount{N: int(d.num(aCount)), Until: d.reqTime(attrTTL)}
				if d.err != nil {
					return FamilyCount{}, false, d.err
				}
				return c, true, nil
			}
			err = uerr
		}
		if !errors.Is(err, ErrConflict) {
			return FamilyCount{}, false, err
		}
	}
	return FamilyCount{}, false, errors.New("store: family entry counter kept changing; try again")
}
