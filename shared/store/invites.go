package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Invite codes for sign-up. Only a hash of the code is stored: the item's ID
// is the hex SHA-256 of the normalised code, so a leaked table does not
// leak usable codes.
//
// Item: pk INVITE#<id>, sk INVITE, listed through gsi1 (INVITES,
// <created unix>#<id>). A use is consumed with one conditional update that
// checks uses left, expiry, revocation and the bound address together.

// Invite is one invite code.
type Invite struct {
	ID        string // hex SHA-256 of the normalised code
	MaxUses   int
	UsesLeft  int
	Email     string // the address the invite is bound to (lower case); "" for any
	Note      string // free text for operators
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time // zero while not revoked
	UsedBy    []string  // who consumed a use, oldest first
}

// Limits on invites.
const (
	// MaxInviteUses bounds MaxUses so that UsedBy keeps the item well under
	// DynamoDB's 400 KB.
	MaxInviteUses = 1000
	// InviteRetention is how long an invite item outlives its expiry, so
	// that operators still see it in listings.
	InviteRetention = 30 * 24 * time.Hour
)

// Reasons ConsumeInvite refuses a use. Each wraps ErrConflict.
var (
	ErrInviteUsedUp  = fmt.Errorf("store: invite has no uses left: %w", ErrConflict)
	ErrInviteExpired = fmt.Errorf("store: invite expired: %w", ErrConflict)
	ErrInviteRevoked = fmt.Errorf("store: invite revoked: %w", ErrConflict)
	ErrInviteEmail   = fmt.Errorf("store: invite is bound to another address: %w", ErrConflict)
)

const (
	invitePrefix   = "INVITE#"
	inviteSK       = "INVITE"
	invitesGSI1PK  = "INVITES"
	attrMaxUses    = "max_uses"
	attrUsesLeft   = "uses_left"
	attrEmail      = "email"
	attrNote       = "note"
	attrCreatedAt  = "created_at"
	attrExpiresAt  = "expires_at"
	attrRevokedAt  = "revoked_at"
	attrUsedBy     = "used_by"
	maxInviteNote  = 256
	maxInviteWho   = 320
	maxInviteEmail = 254
)

var inviteIDRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func checkInviteID(id string) error {
	if !inviteIDRE.MatchString(id) {
		return fmt.Errorf("store: invite id must be 64 lower-case hex characters")
	}
	return nil
}

// CreateInvite stores a new invite; UsesLeft is set to MaxUses and CreatedAt
// to now when zero. ErrConflict if the ID exists.
func (s *Store) CreateInvite(ctx context.Context, inv *Invite) error {
	if err := checkInviteID(inv.ID); err != nil {
		return err
	}
	now := s.now()
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = now
	}
	switch {
	case inv.MaxUses < 1 || inv.MaxUses > MaxInviteUses:
		return fmt.Errorf("store: invite max uses %d outside [1, %d]", inv.MaxUses, MaxInviteUses)
	case !inv.ExpiresAt.After(now):
		return errors.New("store: invite expiry is not in the future")
	case len(inv.Email) > maxInviteEmail || len(inv.Note) > maxInviteNote:
		return errors.New("store: invite email or note too long")
	}
	inv.UsesLeft = inv.MaxUses
	it := key(invitePrefix+inv.ID, inviteSK)
	it[attrGSI1PK] = attrS(invitesGSI1PK)
	it[attrGSI1SK] = attrS(fmt.Sprintf("%020d#%s", unixFloor(inv.CreatedAt), inv.ID))
	it[attrMaxUses] = attrN(int64(inv.MaxUses))
	it[attrUsesLeft] = attrN(int64(inv.UsesLeft))
	putS(it, attrEmail, inv.Email)
	putS(it, attrNote, inv.Note)
	it[attrCreatedAt] = attrTime(inv.CreatedAt)
	it[attrExpiresAt] = attrTime(inv.ExpiresAt)
	it[attrUsedBy] = attrStrings(nil)
	it[attrTTL] = attrN(addSeconds(unixCeil(inv.ExpiresAt), InviteRetention))
	_, err := s.putItem(ctx, &dynamodb.PutItemInput{
		Item:                it,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	return err
}

// GetInvite returns the invite with id; ErrNotFound if missing or past its retention.
func (s *Store) GetInvite(ctx context.Context, id string) (*Invite, error) {
	if err := checkInviteID(id); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	out, err := s.getItem(ctx, &dynamodb.GetItemInput{
		Key:            key(invitePrefix+id, inviteSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	if out.Item == nil || expiredAt(out.Item, s.now()) {
		return nil, ErrNotFound
	}
	return decodeInvite(out.Item)
}

// InviteUse is who takes a use of an invite.
type InviteUse struct {
	// Identity is the account the use creates, e.g. a hash of the user
	// pool, the user name and the address. A repeat by the same Identity
	// takes no second use: Cognito retries a trigger, and a user may sign
	// up again after Cognito refused the first try for another reason.
	Identity string
	// Seat, when set, is a second key that holds at most one use of the
	// invite, e.g. the canonical email address: another identity with the
	// same Seat is refused even while uses are left.
	Seat string
	// Email is the address compared with a bound invite ("" for none).
	Email string
}

// ConsumeInvite takes one use of invite id for u. It is one conditional
// update: uses left, not expired, not revoked, the bound address (if any)
// equal to u.Email, and neither u.Identity nor u.Seat among the invite's
// users; u.Identity and u.Seat are then appended to UsedBy, in this order.
// A call whose Identity already holds a use returns the invite without
// taking another one.
//
// Errors: ErrNotFound, ErrInviteUsedUp (also when the Seat holds a use of
// another identity), ErrInviteExpired, ErrInviteRevoked, ErrInviteEmail
// (all but the first wrap ErrConflict), ErrUnavailable.
func (s *Store) ConsumeInvite(ctx context.Context, id string, u InviteUse) (*Invite, error) {
	if err := checkInviteID(id); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if u.Identity == "" || len(u.Identity) > maxInviteWho || len(u.Seat) > maxInviteWho || u.Seat == u.Identity {
		return nil, errors.New("store: invite use needs an identity, distinct from its seat, each at most 320 bytes")
	}
	entries := []string{u.Identity}
	if u.Seat != "" {
		entries = append(entries, u.Seat)
	}
	// Two rounds at most: when the update loses to a concurrent one but the
	// invite still looks consumable, try once more.
	for range 2 {
		now := s.now()
		cond := "attribute_exists(pk) AND #ttl > :now AND uses_left > :zero AND expires_at > :now" +
			" AND attribute_not_exists(revoked_at) AND NOT contains(used_by, :who)"
		vals := map[string]types.AttributeValue{
			":now":  attrN(unixFloor(now)),
			":zero": attrN(0),
			":one":  attrN(1),
			":who":  attrS(u.Identity),
			":whoL": attrStrings(entries),
		}
		if u.Seat != "" {
			cond += " AND NOT contains(used_by, :seat)"
			vals[":seat"] = attrS(u.Seat)
		}
		if u.Email == "" {
			cond += " AND attribute_not_exists(email)"
		} else {
			cond += " AND (attribute_not_exists(email) OR email = :email)"
			vals[":email"] = attrS(u.Email)
		}
		out, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
			Key:                       key(invitePrefix+id, inviteSK),
			UpdateExpression:          aws.String("SET uses_left = uses_left - :one, used_by = list_append(used_by, :whoL)"),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
			ExpressionAttributeValues: vals,
			ReturnValues:              types.ReturnValueAllNew,
		})
		if err == nil {
			return decodeInvite(out.Attributes)
		}
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
		inv, err := s.GetInvite(ctx, id)
		if err != nil {
			return nil, err
		}
		now = s.now()
		switch {
		case !inv.RevokedAt.IsZero():
			return nil, ErrInviteRevoked
		case !inv.ExpiresAt.After(now):
			return nil, ErrInviteExpired
		case inv.Email != "" && inv.Email != u.Email:
			return nil, ErrInviteEmail
		case slices.Contains(inv.UsedBy, u.Identity):
			return inv, nil
		case u.Seat != "" && slices.Contains(inv.UsedBy, u.Seat), inv.UsesLeft <= 0:
			return nil, ErrInviteUsedUp
		}
	}
	return nil, fmt.Errorf("%w: invite changed twice during one use", ErrUnavailable)
}

// RevokeInvite marks invite id revoked at at (the first revocation time is
// kept) and returns it. ErrNotFound if missing.
func (s *Store) RevokeInvite(ctx context.Context, id string, at time.Time) (*Invite, error) {
	if err := checkInviteID(id); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	out, err := s.updateItem(ctx, &dynamodb.UpdateItemInput{
		Key:                       key(invitePrefix+id, inviteSK),
		UpdateExpression:          aws.String("SET revoked_at = if_not_exists(revoked_at, :at)"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": attrTime(at)},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if errors.Is(err, ErrConflict) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decodeInvite(out.Attributes)
}

// ListInvites returns every invite still within its retention, newest first.
// It reads gsi1, which is eventually consistent.
func (s *Store) ListInvites(ctx context.Context) ([]Invite, error) {
	var invs []Invite
	now := s.now()
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(IndexGSI1),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": attrS(invitesGSI1PK)},
		ScanIndexForward:          aws.Bool(false),
	}, func(items []map[string]types.AttributeValue) error {
		for _, it := range items {
			if expiredAt(it, now) {
				continue
			}
			inv, err := decodeInvite(it)
			if err != nil {
				return err
			}
			invs = append(invs, *inv)
		}
		return nil
	})
	return invs, err
}

func decodeInvite(it item) (*Invite, error) {
	d := decoder{it: it}
	pk := d.reqStr(attrPK)
	inv := &Invite{
		MaxUses:   int(d.num(attrMaxUses)),
		UsesLeft:  int(d.num(attrUsesLeft)),
		Email:     d.str(attrEmail),
		Note:      d.str(attrNote),
		CreatedAt: d.time(attrCreatedAt),
		ExpiresAt: d.reqTime(attrExpiresAt),
		RevokedAt: d.time(attrRevokedAt),
		UsedBy:    d.strings(attrUsedBy),
	}
	if d.err != nil {
		return nil, d.err
	}
	id, ok := strings.CutPrefix(pk, invitePrefix)
	if !ok || checkInviteID(id) != nil {
		return nil, fmt.Errorf("store: malformed item: attribute pk: %q is not an invite key", pk)
	}
	inv.ID = id
	return inv, nil
}
