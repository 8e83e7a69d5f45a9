package storetest

import (
	"context"
	"testing"

	"atrium/internal/store"
)

// Count runs a test's COUNT query (written with ? placeholders) and
// returns the number, failing the test on an error.
func Count(t testing.TB, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRowContext(context.Background(), db.Rebind(query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
