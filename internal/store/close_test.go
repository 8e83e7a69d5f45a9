package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"atrium/internal/store"
)

// TestClose_WaitsForBackground: a read inside a transaction prepares the
// pool's statement in the background; Close waits for it. Otherwise the
// background prepare opens a connection after Close, and on SQLite that
// connection recreates the -wal and -shm files in a folder the caller is
// removing (a backup restore, a test's temporary folder).
func TestClose_WaitsForBackground(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for i := range 20 {
		dir, err := os.MkdirTemp("", "atrium-close")
		if err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(ctx, store.SQLite, filepath.Join(dir, "atrium.db"), store.Options{MaxOpenConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		if inside, _, _ := db.ReadInsideTransaction(ctx, "close"); inside == "" {
			t.Fatal("the read inside the transaction found nothing")
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatalf("round %d: remove the folder after Close: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			entries, _ := os.ReadDir(dir)
			_ = os.RemoveAll(dir)
			t.Fatalf("round %d: the folder came back after Close with %d files (stat: %v)", i, len(entries), err)
		}
	}
}
