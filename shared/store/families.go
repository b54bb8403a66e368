package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Login family item: pk FAMILY#<id>, sk STATE, with revoked_at, an optional
// rev_log (the log entry that told authorizers, when one is needed) and ttl.
// A family is the origin_jti shared by every token Cognito mints from one
// refresh token, or the jti of an ID token from a pool without token
// revocation. The item lives as long as Cognito can mint a token of the
// family, which the caller bounds.
//
// Used ID token item: pk IDTOKEN#<jti>, sk USED, with ttl: the token has
// bought a session, until it expires.
const (
	familyPrefix  = "FAMILY#"
	familySK      = "STATE"
	idTokenPrefix = "IDTOKEN#"
	idTokenSK     = "USED"
)

// FamilyState is a revoked login family as stored.
type FamilyState struct {
	Family    string
	RevokedAt time.Time
	Until     time.Time // the item's ttl
	// RevocationLog is the ID of the log entry for authorizers, "" while
	// none has been confirmed written.
	RevocationLog string
}

// RevokeFamily records that the login family is revoked from at until until
// and reports whether this call changed anything: a family already revoked
// (and not yet expired) is left as it was and returned with changed false.
// needsLog marks the record as waiting for a log entry (see
// MarkFamilyLogged); a caller that logs nothing passes false.
func (s *Store) RevokeFamily(ctx context.Context, family string, at, until time.Time, needsLog bool) (FamilyState, bool, error) {
	if !validKeyPart(family) {
		return FamilyState{}, false, errors.New("store: family must be 1 to 512 bytes of UTF-8")
	}
	now := s.now()
	if at.IsZero() {
		at = now
	}
	if !storableTime(at) || !storableTime(until) || !until.After(at) {
		return FamilyState{}, false, errors.New("store: family revocation times out of range")
	}
	it := item{
		attrPK:     attrS(familyPrefix + family),
		attrSK:     attrS(familySK),
		aRevokedAt: attrTime(at),
		attrTTL:    attrN(unixCeil(until)),
	}
	if !needsLog {
		it[aRevLog] = attrS(LogCovered)
	}
	_, err := s.putItem(ctx, &dynamodb.PutItemInput{
		Item: it,
		// An expired record counts as absent even if DynamoDB has not
		// deleted it yet.
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #ttl <= :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: item{":now": attrN(unixFloor(now))},
	})
	if err == nil {
		st := FamilyState{Family: family, RevokedAt: time.Unix(unixFloor(at), 0), Until: time.Unix(unixCeil(until), 0)}
		if !needsLog {
			st.RevocationLog = LogCovered
		}
		return st, true, nil
	}
	if !errors.Is(err, ErrConflict) {
		return FamilyState{}, false, err
	}
	st, ok, err := s.Family(ctx, family)
	if err != nil {
		return FamilyState{}, false, err
	}
	if !ok {
		// Expired between the write and the read: the next call writes.
		return FamilyState{}, false, errors.New("store: family revocation expired meanwhile; try again")
	}
	return st, false, nil
}

// Family returns the family's revocation record and whether there is a live
// one. It reads consistently.
func (s *Store) Family(ctx context.Context, family string) (FamilyState, bool, error) {
	if !validKeyPart(family) {
		return FamilyState{}, false, nil
	}
	out, err := s.getItem(ctx, &dynamodb.GetItemInput{
		Key:            key(familyPrefix+family, familySK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return FamilyState{}, false, err
	}
	if len(out.Item) == 0 || expiredAt(out.Item, s.now()) {
		return FamilyState{}, false, nil
	}
	d := decoder{it: out.Item}
	st := FamilyState{
		Family:        family,
		RevokedAt:     d.reqTime(aRevokedAt),
		Until:         d.reqTime(attrTTL),
		RevocationLog: d.str(aRevLog),
	}
	if d.err != nil {
		return FamilyState{}, false, d.err
	}
	return st, true, nil
}

// FamilyRevoked reports whether the login family has a live revocation.
func (s *Store) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	_, ok, err := s.Family(ctx, family)
	return ok, err
}

// MarkFamilyLogged records the log entry that told authorizers of the
// family's revocation.
func (s *Store) MarkFamilyLogged(ctx context.Context, family, logged string) error {
	if !validKeyPart(family) || logged == "" {
		return errors.New("store: mark logged needs a family and a value")
	}
	_, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
		Key:                       key(familyPrefix+family, familySK),
		UpdateExpression:          aws.String("SET rev_log = :log"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: item{":log": attrS(logged)},
	})
	if errors.Is(err, ErrConflict) {
		return ErrNotFound
	}
	return err
}

// ClaimIDToken records that the ID token jti has bought a session, until
// until (its expiry plus leeway, after which no verifier accepts it). Of
// any number of claims of one jti exactly one succeeds; the others get
// ErrConflict, and none of them stores anything more.
func (s *Store) ClaimIDToken(ctx context.Context, jti string, until time.Time) error {
	if !validKeyPart(jti) {
		return errors.New("store: jti must be 1 to 512 bytes of UTF-8")
	}
	if !storableTime(until) {
		return errors.New("store: ID token expiry out of range")
	}
	now := s.now()
	_, err := s.putItem(ctx, &dynamodb.PutItemInput{
		Item: item{
			attrPK:  attrS(idTokenPrefix + jti),
			attrSK:  attrS(idTokenSK),
			attrTTL: attrN(unixCeil(until)),
		},
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #ttl <= :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: item{":now": attrN(unixFloor(now))},
	})
	return err
}
