package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
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
//
// The item also carries the user's attempt ceiling: window_start and
// window_attempts count code attempts across every challenge issued within
// one window. Once the ceiling is reached, new challenges are paced at the
// slower SlowInterval for the rest of the window, so re-issuing codes buys
// few extra guesses; answers are never refused because of it, so a stranger
// who spends the count cannot stop the owner from using a live code. Issuing
// keeps the counters within the window and starts a new window once it has
// passed; dropping an unsent challenge keeps them too, unless nothing was
// counted.

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

	// The user's attempt window, kept across challenges; read only.
	WindowStart    time.Time // when the current window began
	WindowAttempts int       // code attempts counted in it, across challenges
}

// Live reports whether c can still be answered at now.
func (c *Challenge) Live(now time.Time) bool {
	return c.UsedAt.IsZero() && now.Before(c.ExpiresAt)
}

// AttemptBudget is the ceiling on the code attempts of one user over a
// window, across every challenge issued to them in it: past Attempts, new
// challenges are issued at most once per SlowInterval.
type AttemptBudget struct {
	Attempts     int           // code attempts per window before new codes slow down, at least 1
	Window       time.Duration // one second to ChallengeRetention
	SlowInterval time.Duration // least time between two challenges once the ceiling is reached, 0 to Window
}

func (b AttemptBudget) check() error {
	if b.Attempts < 1 || b.Window < time.Second || b.Window > ChallengeRetention || b.SlowInterval < 0 || b.SlowInterval > b.Window {
		return fmt.Errorf("store: attempt budget needs at least one attempt, a window of one second to %s and a slow interval within it", ChallengeRetention)
	}
	return nil
}

// windowCutoff is the latest window start that has passed at now: a window
// that began at second w is over from w + Window on.
func (b AttemptBudget) windowCutoff(now time.Time) int64 {
	return unixFloor(now.Add(-b.Window))
}

// ErrSlowed is IssueChallenge's answer while the user's attempt ceiling is
// reached and the last challenge was sent less than SlowInterval ago.
var ErrSlowed = errors.New("store: attempt ceiling reached, new codes slowed")

// ChallengeRetention is how long a challenge item outlives its expiry, and
// the longest attempt window: a window begins no later than the expiry of
// the challenge that carries it, so its counters outlive it.
const ChallengeRetention = 24 * time.Hour

const (
	challengePrefix    = "CHALLENGE#"
	challengeSK        = "CHALLENGE"
	attrChallengeID    = "cid"
	attrCodeMAC        = "code_mac"
	attrAttempts       = "attempts"
	attrMaxAttempts    = "max_attempts"
	attrSentAt         = "sent_at"
	attrUsedAt         = "used_at"
	attrWindowStart    = "window_start"
	attrWindowAttempts = "window_attempts"
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

// Conditions of IssueChallenge. A challenge may replace the current one
// when there is none, or it was sent at least minInterval ago, expired or
// was used (issueFree); the attempt window then either has passed or never
// began (issueNewWindow: the counters restart at c.SentAt), or it is running
// below the ceiling (issueSameWindow: the counters stay). At the ceiling
// only the slow interval counts (issueSlowed): an expired or used code does
// not let the next one out earlier.
const (
	issueFree       = "(attribute_not_exists(cid) OR sent_at <= :cutoff OR expires_at <= :now OR attribute_exists(used_at))"
	issueNewWindow  = issueFree + " AND (attribute_not_exists(window_start) OR window_start <= :wcut)"
	issueSameWindow = issueFree + " AND window_start > :wcut AND window_attempts < :budget"
	issueSlowed     = "window_start > :wcut AND window_attempts >= :budget" +
		" AND (attribute_not_exists(sent_at) OR (sent_at <= :cutoff AND sent_at <= :slowcut))"
)

// IssueChallenge stores c as the user's challenge, replacing the previous
// one, unless the previous one is still live, unused and was sent less than
// minInterval before c.SentAt: then nothing changes and the current
// challenge is returned with issued false, so the caller sends no new mail.
//
// While the user's attempt window (started by the first challenge after
// the previous window passed) is running, the new challenge inherits its
// counters; once budget.Attempts code attempts were counted in it, a new
// challenge is issued only when the previous one was sent at least
// budget.SlowInterval ago (and minInterval); before that the answer is
// ErrSlowed with the current challenge, nil when there is none. Each write
// is one conditional update, so concurrent calls never reset or skip a
// window.
func (s *Store) IssueChallenge(ctx context.Context, c *Challenge, minInterval time.Duration, budget AttemptBudget) (cur *Challenge, issued bool, err error) {
	if err := checkChallengeKey(c.Key, c.ID); err != nil {
		return nil, false, err
	}
	if c.ID == "" || len(c.CodeMAC) == 0 || c.MaxAttempts < 1 || !c.ExpiresAt.After(c.SentAt) {
		return nil, false, errors.New("store: challenge needs an id, a code MAC, attempts and an expiry after SentAt")
	}
	if err := budget.check(); err != nil {
		return nil, false, err
	}
	now := c.SentAt
	// The pacing compares whole seconds: a challenge sent at second t blocks
	// new ones until t + minInterval.
	values := map[string]types.AttributeValue{
		":cid":     attrS(c.ID),
		":mac":     attrB(c.CodeMAC),
		":zero":    attrN(0),
		":max":     attrN(int64(c.MaxAttempts)),
		":now":     attrTime(now),
		":exp":     attrTime(c.ExpiresAt),
		":ttl":     attrN(addSeconds(unixCeil(c.ExpiresAt), ChallengeRetention)),
		":cutoff":  attrN(unixFloor(now.Add(-minInterval))),
		":wcut":    attrN(budget.windowCutoff(now)),
		":budget":  attrN(int64(budget.Attempts)),
		":slowcut": attrN(unixFloor(now.Add(-budget.SlowInterval))),
	}
	const set = "SET cid = :cid, code_mac = :mac, attempts = :zero, max_attempts = :max," +
		" sent_at = :now, expires_at = :exp, #ttl = :ttl"
	newWindowValues := maps.Clone(values)
	delete(newWindowValues, ":budget")
	delete(newWindowValues, ":slowcut")
	sameWindowValues := maps.Clone(values)
	delete(sameWindowValues, ":slowcut")

	writes := []struct {
		update, cond string
		values       map[string]types.AttributeValue
	}{
		// A new window first: the usual case for a user who signs in now
		// and then, and for a new one.
		{set + ", window_start = :now, window_attempts = :zero REMOVE used_at", issueNewWindow, newWindowValues},
		{set + " REMOVE used_at", issueSameWindow, sameWindowValues},
		{set + " REMOVE used_at", issueSlowed, values},
	}
	for range 3 {
		for _, w := range writes {
			out, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
				Key:                       key(challengePrefix+c.Key, challengeSK),
				UpdateExpression:          aws.String(w.update),
				ConditionExpression:       aws.String(w.cond),
				ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
				ExpressionAttributeValues: w.values,
				ReturnValues:              types.ReturnValueAllNew,
			})
			if err == nil {
				cur, err := decodeChallenge(c.Key, out.Attributes)
				if err != nil {
					return nil, false, err
				}
				return cur, true, nil
			}
			if !errors.Is(err, ErrConflict) {
				return nil, false, err
			}
		}
		// Neither write applies: tell the budget from the pacing, or try
		// again if the item changed in between.
		it, err := s.challengeItem(ctx, c.Key)
		if err != nil {
			return nil, false, err
		}
		if it == nil {
			continue
		}
		d := decoder{it: it}
		ws, wa := d.num(attrWindowStart), d.num(attrWindowAttempts)
		if d.err != nil {
			return nil, false, d.err
		}
		var cur *Challenge
		if _, ok := it[attrChallengeID]; ok {
			if cur, err = decodeChallenge(c.Key, it); err != nil {
				return nil, false, err
			}
		}
		if _, ok := it[attrWindowStart]; ok && ws > budget.windowCutoff(now) && wa >= int64(budget.Attempts) {
			return cur, false, ErrSlowed
		}
		if cur != nil && cur.Live(now) && unixFloor(cur.SentAt) > unixFloor(now.Add(-minInterval)) {
			return cur, false, nil
		}
	}
	return nil, false, fmt.Errorf("%w: challenge changed during one issue", ErrUnavailable)
}

// challengeItem reads the user's challenge item; nil when there is none.
func (s *Store) challengeItem(ctx context.Context, k string) (item, error) {
	out, err := s.getItem(ctx, &dynamodb.GetItemInput{
		Key:            key(challengePrefix+k, challengeSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// GetChallenge returns the user's current challenge, live or not;
// ErrNotFound if there is none.
func (s *Store) GetChallenge(ctx context.Context, k string) (*Challenge, error) {
	if err := checkChallengeKey(k, ""); err != nil {
		return nil, err
	}
	it, err := s.challengeItem(ctx, k)
	if err != nil {
		return nil, err
	}
	if it == nil || expiredAt(it, s.now()) {
		return nil, ErrNotFound
	}
	if _, ok := it[attrChallengeID]; !ok {
		return nil, ErrNotFound // dropped; only the attempt window is left
	}
	return decodeChallenge(k, it)
}

// AttemptChallenge counts one code attempt against challenge id and in the
// user's attempt window, and returns the challenge after the count, for the
// caller to compare the code. It is one conditional update: the challenge
// must still be id, unused, unexpired at now and below its own attempt
// limit; otherwise ErrConflict (or ErrNotFound) and nothing is counted. The
// window's count never refuses an attempt (it slows new challenges, see
// IssueChallenge): a code keeps its full attempts for its owner. budget is
// checked for validity only.
func (s *Store) AttemptChallenge(ctx context.Context, k, id string, now time.Time, budget AttemptBudget) (*Challenge, error) {
	if err := checkChallengeKey(k, id); err != nil {
		return nil, err
	}
	if err := budget.check(); err != nil {
		return nil, err
	}
	out, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
		Key: key(challengePrefix+k, challengeSK),
		// Challenges issued before the window existed start one here.
		UpdateExpression: aws.String("SET attempts = attempts + :one," +
			" window_attempts = if_not_exists(window_attempts, :zero) + :one," +
			" window_start = if_not_exists(window_start, :now)"),
		ConditionExpression: aws.String("attribute_exists(pk) AND cid = :id AND attempts < max_attempts" +
			" AND expires_at > :now AND attribute_not_exists(used_at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": attrN(1), ":zero": attrN(0), ":id": attrS(id), ":now": attrTime(now),
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

// DeleteChallenge drops challenge id if it is still the user's current
// one, so that a challenge whose mail could not be sent does not hold back
// the next one. The code and link go; an attempt window with attempts
// counted stays, so a failed mail never gives spent attempts back: the item
// is deleted only when nothing was counted, else its challenge is removed.
// Dropping a replaced or missing challenge is not an error.
func (s *Store) DeleteChallenge(ctx context.Context, k, id string) error {
	if err := checkChallengeKey(k, id); err != nil {
		return err
	}
	_, err := s.deleteItem(ctx, &dynamodb.DeleteItemInput{
		Key:                       key(challengePrefix+k, challengeSK),
		ConditionExpression:       aws.String("cid = :id AND (attribute_not_exists(window_attempts) OR window_attempts = :zero)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": attrS(id), ":zero": attrN(0)},
	})
	if !errors.Is(err, ErrConflict) {
		return err
	}
	_, err = s.updateItem(ctx, &dynamodb.UpdateItemInput{
		Key:                       key(challengePrefix+k, challengeSK),
		UpdateExpression:          aws.String("REMOVE cid, code_mac, attempts, max_attempts, sent_at, expires_at, used_at"),
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

		WindowStart:    d.time(attrWindowStart),
		WindowAttempts: int(d.num(attrWindowAttempts)),
	}
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}
