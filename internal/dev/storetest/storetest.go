// Package storetest gives tests tables of the shortfuse layout
// (store.CreateTable) on a test dynalite, so that each test or stack works
// on a table of its own.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dev/testenv"
	"github.com/shortfuse/shortfuse/shared/store"
)

// CreateTable creates the table name on d, failing tb when it cannot, and
// returns name.
func CreateTable(tb testing.TB, d *testenv.Dynamo, name string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := store.CreateTable(ctx, d.Client, name); err != nil {
		tb.Fatal(err)
	}
	return name
}

// NewTable creates a table with a fresh random name on d and returns the
// name.
func NewTable(tb testing.TB, d *testenv.Dynamo) string {
	tb.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return CreateTable(tb, d, "t"+hex.EncodeToString(b))
}
