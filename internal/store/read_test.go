package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestRead_InsideTransaction: a catalogued read inside a transaction runs
// on the transaction's connection (it sees the transaction's own write;
// on SQLite, whose writer holds the only write connection, a read from the
// pool would see nothing or wait), and the rollback leaves nothing behind.
func TestRead_InsideTransaction(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		inside, after, err := db.ReadInsideTransaction(context.Background(), "read-inside-tx")
		if inside != "inside@example.com" {
			t.Fatalf("read inside the transaction found %q, want its own write", inside)
		}
		if !errors.Is(err, sql.ErrNoRows) || after != "" {
			t.Fatalf("read after the rollback: %q, %v; want sql.ErrNoRows", after, err)
		}
	})
}
