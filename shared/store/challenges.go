package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// One-time sign-in challenges of the passwordless custom auth flow.
//
// Item: pk CHALLENGE#<key>, sk CHALLENGE; key is an opaque hash of the user
// chosen by the caller. A user has at most one challenge: issuing a new one
// replaces the old, so at most one code and one magic link are live. The
// code itself is never stored, only a MAC of it.

// Challenge is one issued sign-in code and magic link.
type Challenge struct {
	Key         string // opaque user key (hex)
	ID          string // random id of this issue; the magic link's jti
	CodeMAC     []byte // MAC of the code, computed by the caller
	Attempts    int    // code attempts counted so far
	MaxAttempts int
	SentAt      time.Time // when the mail went out; paces new challenges
	ExpiresAt   time.Time
	UsedAt      time.Time // zero until the code or the link succeeded
}

// Live reports whether c can still be answered at now.
func (c *Challenge) Live(now time.Time) bool {
	return c.UsedAt.IsZero() && now.Before(c.ExpiresAt)
}

// ChallengeRetention is how long a challenge item outlives its expiry.
const ChallengeRetention = 24 * time.Hour

const (
	challengePrefix = "CHALLENGE#"
	challengeSK     = "CHALLENGE"
	attrChallengeID = "cid"
	attrCodeMAC     = "code_mac"
	attrAttempts    = "attempts"
	attrMaxAttempts = "max_attempts"
	attrSentAt      = "sent_at"
	attrUsedAt      = "used_at"
)

var challengeTokenRE = regexp.MustCompile(`^[0-9A-Za-z_-]{8,128}$`)

func checkChallengeKey(k, id string) error {
	if !challengeTokenRE.MatchString(k) {
		return errors.New("store: challenge key must be 8 to 128 characters of [0-9A-Za-z_-]")
	}
	if id != "" && !challengeTokenRE.MatchString(id) {
		return errors.New("store: challenge id must be 8 to 128 characters of [0-9A-Za-z_-]")
	}
	return nil
}

// IssueChallenge stores c as the user's challenge, replacing the previous
// one, unless the previous one is still live, unused and was sent less than
// minInterval before c.SentAt. In that case nothing changes and the current
// challenge is returned with issued false: the caller sends no new mail.
func (s *Store) IssueChallenge(ctx context.Context, c *Challenge, minInterval time.Duration) (cur *Challenge, issued bool, err error) {
	if err := checkChallengeKey(c.Key, c.ID); err != nil {
		return nil, false, err
	}
	if c.ID == "" || len(c.CodeMAC) == 0 || c.MaxAttempts < 1 || !c.ExpiresAt.After(c.SentAt) {
		return nil, false, errors.New("store: challenge needs an id, a code MAC, attempts and an expiry after SentAt")
	}
	c.Attempts = 0
	c.UsedAt = time.Time{}
	it := key(challengePrefix+c.Key, challengeSK)
	it[attrChallengeID] = attrS(c.ID)
	it[attrCodeMAC] = attrB(c.CodeMAC)
	it[attrAttempts] = attrN(0)
	it[attrMaxAttempts] = attrN(int64(c.MaxAttempts))
	it[attrSentAt] = attrTime(c.SentAt)
	it[attrExpiresAt] = attrTime(c.ExpiresAt)
	it[attrTTL] = attrN(addSeconds(unixCeil(c.ExpiresAt), ChallengeRetention))
	// The pacing compares whole seconds: a challenge sent at second t blocks
	// new ones until t + minInterval.
	cutoff := unixFloor(c.SentAt.Add(-minInterval))
	for range 2 {
		_, err := s.putItem(ctx, &dynamodb.PutItemInput{
			Item: it,
			ConditionExpression: aws.String("attribute_not_exists(pk) OR sent_at <= :cutoff" +
				" OR expires_at <= :now OR attribute_exists(used_at)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":cutoff": attrN(cutoff),
				":now":    attrTime(c.SentAt),
			},
		})
		if err == nil {
			return c, true, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, false, err
		}
		cur, err := s.GetChallenge(ctx, c.Key)
		if errors.Is(err, ErrNotFound) {
			continue // deleted in between: try again
		}
		if err != nil {
			return nil, false, err
		}
		return cur, false, nil
	}
	return nil, false, fmt.Errorf("%w: challenge changed twice during one issue", ErrUnavailable)
}

// GetChallenge returns the user's current challenge, live or not;
// ErrNotFound if there is none.
func (s *Store) GetChallenge(ctx context.Context, k string) (*Challenge, error) {
	if err := checkChallengeKey(k, ""); err != nil {
		return nil, err
	}
	out, err := s.getItem(ctx, &dynamodb.GetItemInput{
		Key:            key(challengePrefix+k, challengeSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	if out.Item == nil || expiredAt(out.Item, s.now()) {
		return nil, ErrNotFound
	}
	return decodeChallenge(k, out.Item)
}

// AttemptChallenge counts one code attempt against challenge id and returns
// the challenge after the count, for the caller to compare the code. It is
// one conditional update: the challenge must still be id, unused, unexpired
// at now and below its attempt limit; otherwise ErrConflict (or ErrNotFound)
// and nothing is counted.
func (s *Store) AttemptChallenge(ctx context.Context, k, id string, now time.Time) (*Challenge, error) {
	if err := checkChallengeKey(k, id); err != nil {
		return nil, err
	}
	out, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
		Key:              key(challengePrefix+k, challengeSK),
		UpdateExpression: aws.String("SET attempts = attempts + :one"),
		ConditionExpression: aws.String("attribute_exists(pk) AND cid = :id AND attempts < max_attempts" +
			" AND expires_at > :now AND attribute_not_exists(used_at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": attrN(1), ":id": attrS(id), ":now": attrTime(now),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return nil, err
	}
	return decodeChallenge(k, out.Attributes)
}

// UseChallenge marks challenge id used at now. Exactly one of any number of
// concurrent calls succeeds; the others, and calls for a replaced, expired
// or used challenge, get ErrConflict.
func (s *Store) UseChallenge(ctx context.Context, k, id string, now time.Time) error {
	if err := checkChallengeKey(k, id); err != nil {
		return err
	}
	_, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
		Key:                 key(challengePrefix+k, challengeSK),
		UpdateExpression:    aws.String("SET used_at = :now"),
		ConditionExpression: aws.String("attribute_exists(pk) AND cid = :id AND expires_at > :now AND attribute_not_exists(used_at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": attrS(id), ":now": attrTime(now),
		},
	})
	return err
}

// DeleteChallenge removes challenge id if it is still the user's current
// one, so that a challenge whose mail could not be sent does not hold back
// the next one. Deleting a replaced or missing challenge is not an error.
func (s *Store) DeleteChallenge(ctx context.Context, k, id string) error {
	if err := checkChallengeKey(k, id); err != nil {
		return err
	}
	_, err := s.deleteItem(ctx, &dynamodb.DeleteItemInput{
		Key:                       key(challengePrefix+k, challengeSK),
		ConditionExpression:       aws.String("cid = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": attrS(id)},
	})
	if errors.Is(err, ErrConflict) {
		return nil
	}
	return err
}

func decodeChallenge(k string, it item) (*Challenge, error) {
	d := decoder{it: it}
	c := &Challenge{
		Key:         k,
		ID:          d.reqStr(attrChallengeID),
		CodeMAC:     d.bin(attrCodeMAC),
		Attempts:    int(d.num(attrAttempts)),
		MaxAttempts: int(d.num(attrMaxAttempts)),
		SentAt:      d.reqTime(attrSentAt),
		ExpiresAt:   d.reqTime(attrExpiresAt),
		UsedAt:      d.time(attrUsedAt),
	}
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}
