package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Refresh grace state on the session item, reset by every rotation:
// grace_at is when the current refresh token replaced the previous one,
// grace_nonce the random value the current token was derived with (from
// the previous token, so only a holder of that token can derive it again),
// grace_uses how many grace answers the rotation has given.
const (
	aGraceAt    = "grace_at"
	aGraceNonce = "grace_nonce"
	aGraceUses  = "grace_uses"
)

// RotateOption adds to a rotation.
type RotateOption func(*rotateOptions)

type rotateOptions struct {
	graceNonce []byte
}

// WithGraceNonce starts the grace state of the new token: GraceAt the
// rotation's time, GraceNonce nonce, no uses. Without it the rotation
// clears the grace state, so no grace answer can follow it.
func WithGraceNonce(nonce []byte) RotateOption {
	return func(o *rotateOptions) { o.graceNonce = nonce }
}

// graceExpr extends a rotation's SET expression (whose values are in vals,
// :now among them) with the grace state.
func graceExpr(set string, o rotateOptions, vals item) string {
	if len(o.graceNonce) == 0 {
		return set + " REMOVE grace_at, grace_nonce, grace_uses"
	}
	vals[":gn"] = attrB(o.graceNonce)
	vals[":zero"] = attrN(0)
	return set + ", grace_at = :now, grace_nonce = :gn, grace_uses = :zero"
}

// UseRefreshGrace records one grace answer: a presentation, at now, of the
// session's previous refresh token (prevHash) while curHash is still the
// current one, the rotation happened at or after since, fewer than maxUses
// grace answers were given, and the session is neither revoked nor expired.
// All of it is one conditional update, so it holds against concurrent
// rotations and revocations; it sets LastUsedAt, and AccessExpiresAt to
// accessExpiresAt (the exp of the access token the answer carries; callers
// pass the later of it and the stored one), and returns the session. Any
// failed condition is ErrConflict.
func (s *Store) UseRefreshGrace(ctx context.Context, id string, prevHash, curHash []byte, since, now, accessExpiresAt time.Time, maxUses int) (*Session, error) {
	switch {
	case !validKeyPart(id):
		return nil, ErrConflict
	case len(prevHash) == 0 || len(curHash) == 0:
		return nil, errors.New("store: grace needs both hashes")
	case !storableTime(since) || !storableTime(now) || !storableTime(accessExpiresAt):
		return nil, errors.New("store: grace time out of range")
	case maxUses < 1:
		return nil, errors.New("store: grace needs maxUses >= 1")
	}
	out, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
		Key:              key(sessionPK(id), sessionSK),
		UpdateExpression: aws.String("SET last_used_at = :now, at_exp = :atexp ADD grace_uses :one"),
		// grace_at is stored rounded down, and since is compared rounded
		// down too: the window may end up to a second early, never late.
		ConditionExpression: aws.String("refresh_hash = :cur AND prev_hashes[0] = :prev AND grace_at >= :since AND grace_uses < :max " +
			"AND attribute_not_exists(revoked_at) AND abs_exp > :now AND idle_exp > :now"),
		ExpressionAttributeValues: item{
			":cur":   attrB(curHash),
			":prev":  attrB(prevHash),
			":since": attrN(unixCeil(since)),
			":max":   attrN(int64(maxUses)),
			":now":   attrTime(now),
			":one":   attrN(1),
			":atexp": attrN(unixCeil(accessExpiresAt)),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return nil, err
	}
	return decodeSession(out.Attributes)
}
