package ops_test

import (
	"context"
	"slices"
	"testing"

	"atrium/internal/store"
	"atrium/internal/store/ops"
	"atrium/internal/store/storetest"
)

// TestCopyTables_Complete checks that migrate-data's list of tables names
// every table the migrations create, so a new table is never left behind.
func TestCopyTables_Complete(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		tables, err := ops.Tables(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			if !slices.Contains(ops.CopyTables, tb) {
				t.Errorf("table %s is not in ops.CopyTables", tb)
			}
		}
		for _, tb := range ops.CopyTables {
			if !slices.Contains(tables, tb) {
				t.Errorf("ops.CopyTables names %s, which the migrations do not create", tb)
			}
		}
	})
}
