package store_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestDB_Secret(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Instances starting together agree on one key.
		keys := make([][]byte, 6)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				k, err := db.Secret(ctx, "flash_key")
				if err != nil {
					t.Error(err)
				}
				keys[i] = k
			})
		}
		wg.Wait()
		for i, k := range keys {
			if len(k) != 32 || !bytes.Equal(k, keys[0]) {
				t.Fatalf("key %d=%x, want the same 32 bytes as key 0 (%x)", i, k, keys[0])
			}
		}
		// A later start reads the same key; another name gets its own.
		again, err := db.Secret(ctx, "flash_key")
		if err != nil || !bytes.Equal(again, keys[0]) {
			t.Fatalf("second start: %x, %v", again, err)
		}
		other, err := db.Secret(ctx, "other_key")
		if err != nil || bytes.Equal(other, keys[0]) {
			t.Fatalf("other key: %x, %v", other, err)
		}
	})
}
