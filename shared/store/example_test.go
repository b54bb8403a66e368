package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shortfuse/shortfuse/shared/store"
)

// A refresh grant: read the session, tell reuse from garbage, then rotate
// with one conditional update that only one concurrent request can win.
func ExampleStore_RotateRefresh() {
	ctx := context.Background()
	var client *dynamodb.Client // from awsx.Load and dynamodb.NewFromConfig
	s := store.New(client, "shortfuse")

	sid, secret, newSecret := "sid", []byte("presented"), []byte("fresh")
	oldHash, newHash := sha256.Sum256(secret), sha256.Sum256(newSecret)
	now := time.Now()

	sess, err := s.GetSession(ctx, sid)
	if err != nil {
		return // ErrNotFound: invalid_grant; ErrUnavailable: 503
	}
	match := sess.MatchRefresh(oldHash[:])
	if match.WasRotated() {
		// A rotated token came back: assume theft, end the whole session.
		_, _, _ = s.RevokeSession(ctx, sid, "refresh token reuse", now, "")
		return
	}
	if match != store.RefreshCurrent || sess.Liveness(now, store.LoginState{}) != store.SessionLive {
		return // invalid_grant
	}
	idle := now.Add(24 * time.Hour)
	if idle.After(sess.AbsExpiresAt) {
		idle = sess.AbsExpiresAt
	}
	sess, err = s.RotateRefresh(ctx, sid, oldHash[:], newHash[:], now, idle, idle)
	if errors.Is(err, store.ErrConflict) {
		return // lost a race with another refresh or a revocation: invalid_grant
	}
	_ = sess // issue the new access and refresh tokens
}
