package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Session item: pk SESSION#<sid>, sk SESSION; listed per user through gsi1
// (gsi1pk USER#<sub>, gsi1sk SESSION#<created unix nanos, 20 digits>#<sid>),
// so a Query in reverse key order returns the newest first.
const (
	sessionPrefix = "SESSION#"
	sessionSK     = "SESSION"
	userPrefix    = "USER#"

	aSID          = "sid"
	aSub          = "sub"
	aUsername     = "username"
	aClientID     = "client_id"
	aGroups       = "groups"
	aScope        = "scope"
	aOriginJTI    = "origin_jti"
	aAuthTime     = "auth_time"
	aACR          = "acr"
	aAMR          = "amr"
	aJKT          = "jkt"
	aCreatedAt    = "created_at"
	aLastUsedAt   = "last_used_at"
	aIdleExp      = "idle_exp"
	aAbsExp       = "abs_exp"
	aRefreshHash  = "refresh_hash"
	aPrevHashes   = "prev_hashes"
	aRefreshGen   = "refresh_gen"
	aAccessExp    = "at_exp"
	aRevokedAt    = "revoked_at"
	aRevokeReason = "revoke_reason"
	aRevLog       = "rev_log"
	aUserAgent    = "user_agent"
	aSourceIP     = "source_ip"
)

// MaxPrevRefreshHashes is how many rotated refresh token hashes a session
// remembers for reuse detection.
const MaxPrevRefreshHashes = 5

// maxKeyPart bounds ids and subs used in keys, well inside DynamoDB's key
// size limits, so oversized input fails here rather than as an API error.
const maxKeyPart = 512

func validKeyPart(s string) bool {
	return s != "" && len(s) <= maxKeyPart && utf8.ValidString(s)
}

func sessionPK(id string) string { return sessionPrefix + id }

func userPK(sub string) string { return userPrefix + sub }

func sessionGSI1SK(created time.Time, id string) string {
	n := created.UnixNano()
	if n < 0 {
		n = 0
	}
	return fmt.Sprintf("%s%020d#%s", sessionPrefix, n, id)
}

// sessionItem encodes sess. The rotated-hash list always holds exactly
// MaxPrevRefreshHashes elements, padded with NULL, so that rotation can
// shift it in place with one update expression.
func sessionItem(sess *Session, ttl int64) item {
	it := item{
		attrPK:       attrS(sessionPK(sess.ID)),
		attrSK:       attrS(sessionSK),
		attrGSI1PK:   attrS(userPK(sess.Sub)),
		attrGSI1SK:   attrS(sessionGSI1SK(sess.CreatedAt, sess.ID)),
		attrTTL:      attrN(ttl),
		aSID:         attrS(sess.ID),
		aSub:         attrS(sess.Sub),
		aCreatedAt:   attrTime(sess.CreatedAt),
		aIdleExp:     attrTime(sess.IdleExpiresAt),
		aAbsExp:      attrTime(sess.AbsExpiresAt),
		aRefreshHash: attrB(sess.RefreshHash),
		aPrevHashes:  attrPrevHashes(sess.PrevRefreshHashes),
		aRefreshGen:  attrN(sess.RefreshGen),
	}
	putS(it, aUsername, sess.Username)
	putS(it, aClientID, sess.ClientID)
	if len(sess.Groups) > 0 {
		it[aGroups] = attrStrings(sess.Groups)
	}
	putS(it, aScope, sess.Scope)
	putS(it, aOriginJTI, sess.OriginJTI)
	putTime(it, aLastUsedAt, sess.LastUsedAt)
	putTime(it, aAuthTime, sess.AuthTime)
	putTime(it, aAccessExp, sess.AccessExpiresAt)
	putS(it, aACR, sess.ACR)
	if len(sess.AMR) > 0 {
		it[aAMR] = attrStrings(sess.AMR)
	}
	putS(it, aJKT, sess.JKT)
	putTime(it, aRevokedAt, sess.RevokedAt)
	putS(it, aRevokeReason, sess.RevokeReason)
	putS(it, aRevLog, sess.RevocationLog)
	putS(it, aUserAgent, sess.UserAgent)
	putS(it, aSourceIP, sess.SourceIP)
	return it
}

func attrPrevHashes(prev [][]byte) types.AttributeValue {
	l := make([]types.AttributeValue, MaxPrevRefreshHashes)
	for i := range l {
		if i < len(prev) && len(prev[i]) > 0 {
			l[i] = attrB(prev[i])
		} else {
			l[i] = &types.AttributeValueMemberNULL{Value: true}
		}
	}
	return &types.AttributeValueMemberL{Value: l}
}

// decodeSession decodes a session item. It never panics: anything malformed
// is an error.
func decodeSession(it item) (*Session, error) {
	d := decoder{it: it}
	s := &Session{
		ID:              d.reqStr(aSID),
		Sub:             d.reqStr(aSub),
		Username:        d.str(aUsername),
		ClientID:        d.str(aClientID),
		Groups:          d.strings(aGroups),
		Scope:           d.str(aScope),
		OriginJTI:       d.str(aOriginJTI),
		AuthTime:        d.time(aAuthTime),
		ACR:             d.str(aACR),
		AMR:             d.strings(aAMR),
		JKT:             d.str(aJKT),
		CreatedAt:       d.reqTime(aCreatedAt),
		LastUsedAt:      d.time(aLastUsedAt),
		IdleExpiresAt:   d.reqTime(aIdleExp),
		AbsExpiresAt:    d.reqTime(aAbsExp),
		RefreshHash:     d.bin(aRefreshHash),
		RefreshGen:      d.num(aRefreshGen),
		AccessExpiresAt: d.time(aAccessExp),
		GraceAt:         d.time(aGraceAt),
		GraceNonce:      d.bin(aGraceNonce),
		GraceUses:       d.num(aGraceUses),
		RevokedAt:       d.time(aRevokedAt),
		RevokeReason:    d.str(aRevokeReason),
		RevocationLog:   d.str(aRevLog),
		UserAgent:       d.str(aUserAgent),
		SourceIP:        d.str(aSourceIP),
	}
	s.PrevRefreshHashes = d.prevHashes(aPrevHashes)
	if d.err == nil && len(s.RefreshHash) == 0 {
		d.fail(aRefreshHash, "missing")
	}
	if d.err == nil && d.str(attrPK) != sessionPK(s.ID) {
		d.fail(attrPK, "does not match sid %q", s.ID)
	}
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

// prevHashes reads the rotated-hash list: binary elements, newest first,
// NULL padding skipped, at most MaxPrevRefreshHashes kept.
func (d *decoder) prevHashes(name string) [][]byte {
	l, _ := d.list(name)
	var out [][]byte
	for i, e := range l {
		switch v := e.(type) {
		case *types.AttributeValueMemberNULL:
		case *types.AttributeValueMemberB:
			if v != nil && len(v.Value) > 0 && len(out) < MaxPrevRefreshHashes {
				out = append(out, v.Value)
			}
		default:
			d.fail(name, "element %d: want B or NULL, got %T", i, e)
			return nil
		}
	}
	return out
}

// CreateSession stores a new session. It returns ErrConflict if a session
// with the same id exists. A zero CreatedAt is set to now and a zero
// LastUsedAt to CreatedAt, in sess as well. The item's ttl is AbsExpiresAt
// plus the session retention.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	if sess == nil {
		return errors.New("store: nil session")
	}
	switch {
	case !validKeyPart(sess.ID):
		return errors.New("store: session id must be 1 to 512 bytes of UTF-8")
	case !validKeyPart(sess.Sub):
		return errors.New("store: session sub must be 1 to 512 bytes of UTF-8")
	case len(sess.RefreshHash) == 0:
		return errors.New("store: session needs a refresh hash")
	case sess.AbsExpiresAt.IsZero() || sess.IdleExpiresAt.IsZero():
		return errors.New("store: session needs idle and absolute expiry")
	case sess.RefreshGen < 0:
		return errors.New("store: negative refresh generation")
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = s.now()
	}
	if sess.LastUsedAt.IsZero() {
		sess.LastUsedAt = sess.CreatedAt
	}
	for _, t := range []time.Time{sess.CreatedAt, sess.LastUsedAt, sess.IdleExpiresAt, sess.AbsExpiresAt, sess.AuthTime, sess.RevokedAt, sess.AccessExpiresAt} {
		if !t.IsZero() && !storableTime(t) {
			return errors.New("store: session time out of range")
		}
	}
	if !sess.AbsExpiresAt.After(sess.CreatedAt) {
		return errors.New("store: session expires before it is created")
	}
	ttl := addSeconds(unixCeil(sess.AbsExpiresAt), s.sessionRetention)
	_, err := s.putItem(ctx, &dynamodb.PutItemInput{
		Item:                sessionItem(sess, ttl),
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	return err
}

// GetSession returns the session with id, revoked or not. It returns
// ErrNotFound when there is none or its ttl has passed.
func (s *Store) GetSession(ctx context.Context, id string) (*Session, error) {
	if !validKeyPart(id) {
		return nil, ErrNotFound
	}
	out, err := s.getItem(ctx, &dynamodb.GetItemInput{
		Key:            key(sessionPK(id), sessionSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	if len(out.Item) == 0 || expiredAt(out.Item, s.now()) {
		return nil, ErrNotFound
	}
	return decodeSession(out.Item)
}

// rotateExpr shifts the rotated-hash list by one in place: every operand is
// read from the item as it was before the update, so prev[i] = prev[i-1]
// moves each hash down and prev[0] takes the one just rotated out. The
// oldest falls off the end, so the item never grows.
var rotateExpr = func() string {
	var b strings.Builder
	b.WriteString("SET refresh_hash = :new, refresh_gen = refresh_gen + :one, last_used_at = :now, idle_exp = :idle, at_exp = :atexp, prev_hashes[0] = :old")
	for i := 1; i < MaxPrevRefreshHashes; i++ {
		fmt.Fprintf(&b, ", prev_hashes[%d] = if_not_exists(prev_hashes[%d], :nul)", i, i-1)
	}
	return b.String()
}()

// RotateRefresh replaces the session's refresh hash oldHash with newHash in
// one conditional update: it succeeds only while oldHash is current, the
// session is not revoked and now is before both expiries. It pushes oldHash
// onto PrevRefreshHashes (keeping MaxPrevRefreshHashes), increments
// RefreshGen, sets LastUsedAt to now, IdleExpiresAt to idleExpiresAt and
// AccessExpiresAt to accessExpiresAt (the exp of the access token about to
// be issued; callers pass the later of it and the stored one), and returns
// the updated session. It also starts the grace state of the new token
// (WithGraceNonce; see UseRefreshGrace) or clears the old one. Of any
// number of concurrent rotations of the same hash exactly one succeeds; the
// others, and every rotation whose condition fails for another reason
// (reuse, revoked, expired, no such session), get ErrConflict. Callers that
// need to know why read the session.
func (s *Store) RotateRefresh(ctx context.Context, id string, oldHash, newHash []byte, now, idleExpiresAt, accessExpiresAt time.Time, opts ...RotateOption) (*Session, error) {
	var ro rotateOptions
	for _, o := range opts {
		o(&ro)
	}
	switch {
	case !validKeyPart(id):
		return nil, ErrConflict
	case len(oldHash) == 0 || len(newHash) == 0:
		return nil, errors.New("store: rotate needs both hashes")
	case bytes.Equal(oldHash, newHash):
		return nil, errors.New("store: rotate to the same hash")
	case !storableTime(now) || !storableTime(idleExpiresAt) || !storableTime(accessExpiresAt):
		return nil, errors.New("store: rotate time out of range")
	case !idleExpiresAt.After(now):
		return nil, errors.New("store: idle expiry not after now")
	}
	vals := item{
		":old":  attrB(oldHash),
		":new":  attrB(newHash),
		":one":  attrN(1),
		":now":  attrTime(now),
		":idle": attrTime(idleExpiresAt),
		":nul":  &types.AttributeValueMemberNULL{Value: true},
		// Rounded up: the recorded expiry may only outlast the token.
		":atexp": attrN(unixCeil(accessExpiresAt)),
	}
	expr := graceExpr(rotateExpr, ro, vals)
	out, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
		Key:              key(sessionPK(id), sessionSK),
		UpdateExpression: aws.String(expr),
		// Stored expiries are whole seconds rounded down, so comparing them
		// with now rounded down never extends a session.
		ConditionExpression:       aws.String("refresh_hash = :old AND attribute_not_exists(revoked_at) AND abs_exp > :now AND idle_exp > :now"),
		ExpressionAttributeValues: vals,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		return nil, err
	}
	return decodeSession(out.Attributes)
}

// LogCovered is the RevocationLog of a session whose access tokens another
// log entry refuses (its user's), so it needs none of its own.
const LogCovered = "covered"

// RevokeSession marks a live session revoked, at (zero: now), for reason,
// and reports whether this call changed it. A session already revoked is
// left exactly as it was (its first RevokedAt and RevokeReason stay) and
// returned with changed false: a repeat writes nothing. logged sets the
// session's RevocationLog in the same write ("" leaves it unset: the caller
// logs the revocation and then calls MarkRevocationLogged). It returns
// ErrNotFound when there is no such session or its ttl has passed.
func (s *Store) RevokeSession(ctx context.Context, id, reason string, at time.Time, logged string) (sess *Session, changed bool, err error) {
	if !validKeyPart(id) {
		return nil, false, ErrNotFound
	}
	now := s.now()
	if at.IsZero() {
		at = now
	}
	if !storableTime(at) {
		return nil, false, errors.New("store: revocation time out of range")
	}
	expr := "SET revoked_at = :at"
	vals := item{":at": attrTime(at), ":now": attrN(unixFloor(now))}
	if reason != "" {
		expr += ", revoke_reason = :reason"
		vals[":reason"] = attrS(reason)
	}
	if logged != "" {
		expr += ", rev_log = :log"
		vals[":log"] = attrS(logged)
	}
	out, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
		Key:                       key(sessionPK(id), sessionSK),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(pk) AND #ttl > :now AND attribute_not_exists(revoked_at)"),
		ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: vals,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if errors.Is(err, ErrConflict) {
		// Already revoked, or gone: the read tells which.
		sess, err := s.GetSession(ctx, id)
		if err != nil {
			return nil, false, err
		}
		if sess.RevokedAt.IsZero() {
			// Revocation is final, so a session that reads live here
			// failed the condition on its ttl, read a moment apart.
			return nil, false, ErrNotFound
		}
		return sess, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	sess, err = decodeSession(out.Attributes)
	if err != nil {
		return nil, false, err
	}
	return sess, true, nil
}

// MarkRevocationLogged records on a revoked session how authorizers learnt
// of its revocation (a log entry ID, or LogCovered), so that a repeat of the
// revocation knows nothing is left to do.
func (s *Store) MarkRevocationLogged(ctx context.Context, id, logged string) error {
	if !validKeyPart(id) || logged == "" {
		return errors.New("store: mark logged needs a session id and a value")
	}
	_, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
		Key:                       key(sessionPK(id), sessionSK),
		UpdateExpression:          aws.String("SET rev_log = :log"),
		ConditionExpression:       aws.String("attribute_exists(revoked_at)"),
		ExpressionAttributeValues: item{":log": attrS(logged)},
	})
	if errors.Is(err, ErrConflict) {
		return ErrNotFound
	}
	return err
}

// ListUserSessions returns the user's sessions, newest first, revoked and
// expired-but-retained ones included; items whose ttl has passed are left
// out. It reads gsi1, which is eventually consistent: a session created a
// moment ago may be missing.
func (s *Store) ListUserSessions(ctx context.Context, sub string) ([]Session, error) {
	list, _, err := s.userSessions(ctx, sub, 0)
	return list, err
}

// RecentUserSessions returns at most limit of the user's sessions, newest
// first, like ListUserSessions, and whether there are more: a listing meant
// for a response stays bounded however many sessions a user has opened.
func (s *Store) RecentUserSessions(ctx context.Context, sub string, limit int) (list []Session, more bool, err error) {
	if limit < 1 {
		return nil, false, errors.New("store: limit must be at least 1")
	}
	return s.userSessions(ctx, sub, limit)
}

// errEnough stops a query once a bounded listing is full.
var errEnough = errors.New("store: enough items")

// userSessions lists the user's live sessions, newest first: all of them
// when limit is 0, else at most limit and whether more exist.
func (s *Store) userSessions(ctx context.Context, sub string, limit int) ([]Session, bool, error) {
	if !validKeyPart(sub) {
		return nil, false, errors.New("store: sub must be 1 to 512 bytes of UTF-8")
	}
	now := s.now()
	var list []Session
	more := false
	in := &dynamodb.QueryInput{
		IndexName:              aws.String(IndexGSI1),
		KeyConditionExpression: aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)"),
		ExpressionAttributeValues: item{
			":pk":     attrS(userPK(sub)),
			":prefix": attrS(sessionPrefix),
		},
		ScanIndexForward: aws.Bool(false),
	}
	if limit > 0 {
		// One more than asked tells whether there are more; expired items
		// may cost further pages.
		in.Limit = aws.Int32(int32(min(limit+1, 1000)))
	}
	err := s.queryAll(ctx, in, func(items []item) error {
		for _, it := range items {
			if expiredAt(it, now) {
				continue
			}
			if limit > 0 && len(list) == limit {
				more = true
				return errEnough
			}
			sess, err := decodeSession(it)
			if err != nil {
				return err
			}
			list = append(list, *sess)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, false, err
	}
	return list, more, nil
}
