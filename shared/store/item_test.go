package store

import (
	"context"
	"errors"
	"net"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func testSession(now time.Time) *Session {
	return &Session{
		ID:                "sid-1",
		Sub:               "sub-1",
		Username:          "alice@example.com",
		ClientID:          "client-1",
		Groups:            []string{"admin", "dev"},
		Scope:             "openid profile",
		OriginJTI:         "jti-1",
		AuthTime:          now.Add(-time.Minute),
		CreatedAt:         now,
		LastUsedAt:        now,
		IdleExpiresAt:     now.Add(time.Hour),
		AbsExpiresAt:      now.Add(24 * time.Hour),
		RefreshHash:       []byte("hash-0"),
		PrevRefreshHashes: [][]byte{[]byte("hash-p1"), []byte("hash-p2")},
		RefreshGen:        3,
		RevokedAt:         now.Add(time.Second),
		RevokeReason:      "logout",
		UserAgent:         "test/1.0",
		SourceIP:          "192.0.2.1",
	}
}

func TestSessionItemRoundTrip(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	full := testSession(now)
	minimal := &Session{
		ID: "s", Sub: "u", CreatedAt: now, IdleExpiresAt: now.Add(time.Minute),
		AbsExpiresAt: now.Add(time.Hour), RefreshHash: []byte{1},
	}
	for name, in := range map[string]*Session{"full": full, "minimal": minimal} {
		t.Run(name, func(t *testing.T) {
			got, err := decodeSession(sessionItem(in, 42))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, in) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, in)
			}
		})
	}
}

func TestSessionItemTimesRounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 900_000_000)
	in := testSession(now)
	got, err := decodeSession(sessionItem(in, 0))
	if err != nil {
		t.Fatal(err)
	}
	// Expiries round down: a stored session never lives longer than asked.
	if want := time.Unix(now.Add(24*time.Hour).Unix(), 0); !got.AbsExpiresAt.Equal(want) {
		t.Errorf("AbsExpiresAt = %v, want %v", got.AbsExpiresAt, want)
	}
	if got.AbsExpiresAt.After(in.AbsExpiresAt) || got.IdleExpiresAt.After(in.IdleExpiresAt) {
		t.Error("stored expiry later than requested")
	}
}

func TestPrevHashesPaddedAndCapped(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := testSession(now)
	it := sessionItem(s, 0)
	l := it[aPrevHashes].(*types.AttributeValueMemberL).Value
	if len(l) != MaxPrevRefreshHashes {
		t.Fatalf("prev_hashes has %d elements, want %d", len(l), MaxPrevRefreshHashes)
	}
	for i := 2; i < len(l); i++ {
		if _, ok := l[i].(*types.AttributeValueMemberNULL); !ok {
			t.Errorf("element %d = %T, want NULL padding", i, l[i])
		}
	}
	s.PrevRefreshHashes = nil
	for i := range 8 {
		s.PrevRefreshHashes = append(s.PrevRefreshHashes, []byte{byte(i)})
	}
	got, err := decodeSession(sessionItem(s, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.PrevRefreshHashes) != MaxPrevRefreshHashes || got.PrevRefreshHashes[0][0] != 0 {
		t.Errorf("PrevRefreshHashes = %v, want the first %d", got.PrevRefreshHashes, MaxPrevRefreshHashes)
	}
}

func TestDecodeSessionErrors(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	good := func() item { return sessionItem(testSession(now), 0) }
	tests := []struct {
		name   string
		mutate func(item)
		want   string
	}{
		{"no sid", func(it item) { delete(it, aSID) }, "sid"},
		{"sid wrong type", func(it item) { it[aSID] = attrN(1) }, "sid"},
		{"pk mismatch", func(it item) { it[attrPK] = attrS("SESSION#other") }, "pk"},
		{"no abs_exp", func(it item) { delete(it, aAbsExp) }, "abs_exp"},
		{"bad number", func(it item) { it[aIdleExp] = &types.AttributeValueMemberN{Value: "1e3"} }, "idle_exp"},
		{"negative time", func(it item) { it[aCreatedAt] = attrN(-5) }, "created_at"},
		{"huge time", func(it item) { it[aCreatedAt] = attrN(1 << 62) }, "created_at"},
		{"no refresh hash", func(it item) { delete(it, aRefreshHash) }, "refresh_hash"},
		{"hash as string", func(it item) { it[aRefreshHash] = attrS("x") }, "refresh_hash"},
		{"groups not list", func(it item) { it[aGroups] = attrS("admin") }, "groups"},
		{"groups element", func(it item) {
			it[aGroups] = &types.AttributeValueMemberL{Value: []types.AttributeValue{attrN(1)}}
		}, "groups"},
		{"prev element", func(it item) {
			it[aPrevHashes] = &types.AttributeValueMemberL{Value: []types.AttributeValue{attrS("x")}}
		}, "prev_hashes"},
		{"nil value", func(it item) { it[aSub] = nil }, "sub"},
		{"typed nil", func(it item) { it[aRefreshHash] = (*types.AttributeValueMemberB)(nil) }, "refresh_hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := good()
			tt.mutate(it)
			_, err := decodeSession(it)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestRevocationItemRoundTrip(t *testing.T) {
	at := time.Unix(1_700_000_000, 250_000_000)
	id, err := newRevocationID(at)
	if err != nil {
		t.Fatal(err)
	}
	in := Revocation{ID: id, Kind: RevokeUser, Value: "sub-1", At: at, Until: at.Add(90*time.Second + time.Millisecond)}
	got, layout, err := decodeRevocation(revocationItem(revocationPK(3, 1), in, "4x2"))
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.At = time.Unix(1_700_000_000, 0)    // instants round down
	want.Until = time.Unix(1_700_000_091, 0) // a denial's lifetime rounds up
	if got != want || layout != "4x2" {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	it := revocationItem(revlogPK, in, "1x1")
	if it[attrTTL].(*types.AttributeValueMemberN).Value != "1700000091" {
		t.Errorf("ttl = %v, want until", it[attrTTL])
	}
}

func TestRevocationIDs(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	var ids []string
	for i := range 50 {
		id, err := newRevocationID(base.Add(time.Duration(i) * time.Microsecond))
		if err != nil {
			t.Fatal(err)
		}
		if !validRevocationID(id) {
			t.Fatalf("invalid id %q", id)
		}
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Error("ids not ordered by time")
	}
	for _, bad := range []string{"", "x", strings.Repeat("0", 20) + "#" + strings.Repeat("g", 16),
		strings.Repeat("0", 20) + "-" + strings.Repeat("a", 16), strings.Repeat("0", 21) + "#" + strings.Repeat("a", 15)} {
		if validRevocationID(bad) {
			t.Errorf("validRevocationID(%q) = true", bad)
		}
	}
	// Out-of-range times still encode to 20 digits, in order.
	keys := []string{revTimeKey(time.Time{}), revTimeKey(time.Unix(-1, 0)), revTimeKey(time.Unix(0, 1)),
		revTimeKey(base), revTimeKey(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))}
	for _, k := range keys {
		if len(k) != revIDDigits {
			t.Errorf("revTimeKey = %q, want %d digits", k, revIDDigits)
		}
	}
	if !sort.StringsAreSorted(keys) {
		t.Errorf("revTimeKey out of order: %v", keys)
	}
}

func TestUnixRounding(t *testing.T) {
	tests := []struct {
		t           time.Time
		floor, ceil int64
	}{
		{time.Unix(10, 0), 10, 10},
		{time.Unix(10, 1), 10, 11},
		{time.Unix(10, 999_999_999), 10, 11},
	}
	for _, tt := range tests {
		if got := unixFloor(tt.t); got != tt.floor {
			t.Errorf("unixFloor(%v) = %d, want %d", tt.t, got, tt.floor)
		}
		if got := unixCeil(tt.t); got != tt.ceil {
			t.Errorf("unixCeil(%v) = %d, want %d", tt.t, got, tt.ceil)
		}
	}
	if got := addSeconds(1<<63-10, time.Hour); got != 1<<63-1 {
		t.Errorf("addSeconds saturates: got %d", got)
	}
	if got := addSeconds(100, 1500*time.Millisecond); got != 102 {
		t.Errorf("addSeconds rounds up: got %d", got)
	}
}

func TestExpiredAt(t *testing.T) {
	now := time.Unix(1000, 500)
	tests := []struct {
		name string
		it   item
		want bool
	}{
		{"no ttl", item{}, false},
		{"future", item{attrTTL: attrN(1001)}, false},
		{"now", item{attrTTL: attrN(1000)}, true},
		{"past", item{attrTTL: attrN(999)}, true},
		{"malformed", item{attrTTL: attrS("soon")}, true},
		{"not integer", item{attrTTL: &types.AttributeValueMemberN{Value: "1e9"}}, true},
	}
	for _, tt := range tests {
		if got := expiredAt(tt.it, now); got != tt.want {
			t.Errorf("%s: expiredAt = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRotateExpr(t *testing.T) {
	want := "SET refresh_hash = :new, refresh_gen = refresh_gen + :one, last_used_at = :now, idle_exp = :idle, at_exp = :atexp, " +
		"prev_hashes[0] = :old, prev_hashes[1] = if_not_exists(prev_hashes[0], :nul), " +
		"prev_hashes[2] = if_not_exists(prev_hashes[1], :nul), prev_hashes[3] = if_not_exists(prev_hashes[2], :nul), " +
		"prev_hashes[4] = if_not_exists(prev_hashes[3], :nul)"
	if rotateExpr != want {
		t.Errorf("rotateExpr =\n%s\nwant\n%s", rotateExpr, want)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestMapErr(t *testing.T) {
	respErr := func(status int) error {
		return &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: "Whatever", Message: "m"},
		}
	}
	opErr := func(err error) error {
		return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem", Err: err}
	}
	tests := []struct {
		name string
		err  error
		want error // ErrConflict, ErrUnavailable or nil for "neither"
	}{
		{"condition", opErr(&types.ConditionalCheckFailedException{Message: aws.String("no")}), ErrConflict},
		{"throughput", opErr(&types.ProvisionedThroughputExceededException{}), ErrUnavailable},
		{"request limit", opErr(&types.RequestLimitExceeded{}), ErrUnavailable},
		{"throttling", opErr(&smithy.GenericAPIError{Code: "ThrottlingException"}), ErrUnavailable},
		{"internal", opErr(&types.InternalServerError{}), ErrUnavailable},
		{"server fault", opErr(&smithy.GenericAPIError{Code: "X", Fault: smithy.FaultServer}), ErrUnavailable},
		{"503", opErr(respErr(503)), ErrUnavailable},
		{"request timeout", opErr(&smithy.GenericAPIError{Code: "RequestTimeout"}), ErrUnavailable},
		{"deadline", opErr(context.DeadlineExceeded), ErrUnavailable},
		{"canceled", opErr(context.Canceled), ErrUnavailable},
		{"refused", opErr(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), ErrUnavailable},
		{"net timeout", opErr(timeoutErr{}), ErrUnavailable},
		{"garbled", opErr(errors.New("failed to decode response body")), ErrUnavailable},
		{"validation", opErr(&smithy.GenericAPIError{Code: "ValidationException", Fault: smithy.FaultClient}), nil},
		{"no table", opErr(&types.ResourceNotFoundException{}), nil},
		{"400", opErr(respErr(400)), nil},
		{"param", opErr(smithy.NewErrParamRequired("Key")), nil},
		{"params", opErr(func() error {
			e := smithy.InvalidParamsError{Context: "GetItemInput"}
			e.Add(smithy.NewErrParamRequired("Key"))
			return e
		}()), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapErr("Op", tt.err)
			isC, isU := errors.Is(got, ErrConflict), errors.Is(got, ErrUnavailable)
			switch tt.want {
			case ErrConflict:
				if !isC || isU {
					t.Errorf("mapErr = %v, want ErrConflict", got)
				}
			case ErrUnavailable:
				if !isU || isC {
					t.Errorf("mapErr = %v, want ErrUnavailable", got)
				}
				if !errors.Is(got, tt.err) {
					t.Errorf("mapErr = %v, does not wrap the cause", got)
				}
			default:
				if isC || isU || !errors.Is(got, tt.err) {
					t.Errorf("mapErr = %v, want the cause wrapped as is", got)
				}
			}
		})
	}
}

// Input validation never reaches DynamoDB: a nil client would panic.
func TestValidationBeforeCall(t *testing.T) {
	s := newStore(nil, "t")
	ctx := context.Background()
	now := time.Now()
	long := strings.Repeat("x", maxKeyPart+1)
	if _, err := s.GetSession(ctx, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSession(\"\") = %v, want ErrNotFound", err)
	}
	if _, err := s.GetSession(ctx, long); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSession(long) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetSession(ctx, "\xff"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetSession(invalid utf-8) = %v, want ErrNotFound", err)
	}
	if _, _, err := s.RevokeSession(ctx, "", "", now, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("RevokeSession(\"\") = %v, want ErrNotFound", err)
	}
	if _, err := s.RotateRefresh(ctx, "", []byte{1}, []byte{2}, now, now.Add(time.Hour), now.Add(time.Hour)); !errors.Is(err, ErrConflict) {
		t.Errorf("RotateRefresh(\"\") = %v, want ErrConflict", err)
	}
	for name, err := range map[string]error{
		"rotate no hash":     second(s.RotateRefresh(ctx, "s", nil, []byte{2}, now, now.Add(time.Hour), now.Add(time.Hour))),
		"rotate same hash":   second(s.RotateRefresh(ctx, "s", []byte{1}, []byte{1}, now, now.Add(time.Hour), now.Add(time.Hour))),
		"rotate idle past":   second(s.RotateRefresh(ctx, "s", []byte{1}, []byte{2}, now, now, now)),
		"create nil":         s.CreateSession(ctx, nil),
		"create no id":       s.CreateSession(ctx, &Session{Sub: "u"}),
		"create no hash":     s.CreateSession(ctx, &Session{ID: "s", Sub: "u", AbsExpiresAt: now.Add(time.Hour), IdleExpiresAt: now.Add(time.Hour)}),
		"create no expiry":   s.CreateSession(ctx, &Session{ID: "s", Sub: "u", RefreshHash: []byte{1}}),
		"create expired":     s.CreateSession(ctx, &Session{ID: "s", Sub: "u", RefreshHash: []byte{1}, CreatedAt: now, AbsExpiresAt: now, IdleExpiresAt: now}),
		"list no sub":        second(s.ListUserSessions(ctx, "")),
		"set user no sub":    second(s.SetUserRevokedAt(ctx, "", now)),
		"set user zero time": second(s.SetUserRevokedAt(ctx, "u", time.Time{})),
		"get user no sub":    second(s.UserRevokedAt(ctx, long)),
		"append bad kind":    second(s.AppendRevocation(ctx, Revocation{Kind: "x", Value: "v", Until: now.Add(time.Hour)})),
		"append no value":    second(s.AppendRevocation(ctx, Revocation{Kind: RevokeJTI, Until: now.Add(time.Hour)})),
		"append no until":    second(s.AppendRevocation(ctx, Revocation{Kind: RevokeJTI, Value: "v"})),
		"append until<=at":   second(s.AppendRevocation(ctx, Revocation{Kind: RevokeJTI, Value: "v", At: now, Until: now})),
		"append with id":     second(s.AppendRevocation(ctx, Revocation{ID: "1#2", Kind: RevokeJTI, Value: "v", Until: now.Add(time.Hour)})),
	} {
		if err == nil || errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: err = %v, want a validation error", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestRevokedLogin(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name                string
		revokedAt, authTime time.Time
		want                bool
	}{
		{"never revoked", time.Time{}, at, false},
		{"login before the revocation", at, at.Add(-time.Second), true},
		{"login at the revocation", at, at, true},
		{"login after the revocation", at, at.Add(time.Second), false},
		{"no auth_time: covered", at, time.Time{}, true},
	}
	for _, tt := range tests {
		if got := RevokedLogin(tt.revokedAt, tt.authTime); got != tt.want {
			t.Errorf("%s: RevokedLogin = %v, want %v", tt.name, got, tt.want)
		}
	}
}
