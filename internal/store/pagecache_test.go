package store_test

import (
	"context"
	"testing"

	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestOpen_SQLitePageCache checks that every pooled SQLite connection keeps
// a 1 MiB page cache, not SQLite's 2 MB default: the pool's connections
// together bound the server's resident memory.
func TestOpen_SQLitePageCache(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	// Hold several connections at once so the pool opens new ones.
	for range 3 {
		conn, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		var kib int
		if err := conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&kib); err != nil {
			t.Fatal(err)
		}
		if got, want := kib, -1024; got != want {
			t.Fatalf("cache_size=%d, want %d (KiB, negative)", got, want)
		}
	}
}
