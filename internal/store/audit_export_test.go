package store_test

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// countingWriter counts the bytes and lines written and keeps nothing.
type countingWriter struct{ bytes, lines int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.bytes += int64(len(p))
	w.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// TestExportAudit_ConstantMemory: exporting 200,000 entries (CSV and
// JSONL, on SQLite and Postgres) writes every row while the heap stays
// under a fixed ceiling and the live heap does not grow with the rows
// written: rows are written as they are read, never collected. (200,000
// rather than the 1,000,000 of the large volume keeps the test near a
// minute on two cores. Under the race detector, which makes every row
// several times dearer, it exports 20,000: the growth per row, measured
// after a forced collection early and at the end of the export, is what
// tells a leak, whatever the count.)
func TestExportAudit_ConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 200,000 entries")
	}
	rows := int64(200_000)
	if raceEnabled {
		rows = 20_000
	}
	const ceiling = 24 << 20 // bytes of heap in use at any sample
	// perRow is the most the live heap may grow by for each row written
	// past the first flushes; keeping every row (at least a struct and its
	// strings, a few hundred bytes) would exceed it several times over.
	const perRow = 64
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s := storetest.Bulk(t, db, storetest.Volume{Users: 10, Members: 10, AuditRows: int(rows)})
		svc := store.NewOperatorAuditService(db)
		for _, format := range []string{app.ExportCSV, app.ExportJSONL} {
			t.Run(format, func(t *testing.T) {
				runtime.GC()
				var peak, early, late uint64
				var earlyAt int64
				var ms runtime.MemStats
				w := &countingWriter{}
				flushes := 0
				live := func() uint64 {
					runtime.GC()
					runtime.ReadMemStats(&ms)
					return ms.HeapAlloc
				}
				n, err := app.ExportAudit(context.Background(), svc, app.AuditFilter{Scope: app.Scope{WorkspaceID: s.WorkspaceID}}, format, w, func() {
					flushes++
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
					if flushes == 2 {
						early, earlyAt = live(), w.lines
					}
				})
				late = live()
				if err != nil {
					t.Fatalf("ExportAudit: %v", err)
				}
				if n != rows {
					t.Errorf("rows exported = %d, want %d", n, rows)
				}
				wantLines := rows
				if format == app.ExportCSV {
					wantLines++ // the header
				}
				if w.lines != wantLines {
					t.Errorf("lines written = %d, want %d", w.lines, wantLines)
				}
				if peak == 0 || peak > ceiling {
					t.Errorf("peak heap in use = %d MB, want under %d MB", peak>>20, ceiling>>20)
				}
				growth := (int64(late) - int64(early)) / max(w.lines-earlyAt, 1)
				if early == 0 || growth > perRow {
					t.Errorf("live heap grew from %d KB to %d KB over %d rows (%d bytes a row), want at most %d bytes a row",
						early>>10, late>>10, w.lines-earlyAt, growth, perRow)
				}
				t.Logf("%s: %d rows, %d MB written, peak heap %d MB, live heap %d KB -> %d KB",
					format, n, w.bytes>>20, peak>>20, early>>10, late>>10)
			})
		}
	})
}

// TestExportAudit_Format: CSV cells that a spreadsheet would read as a
// formula are prefixed; JSONL carries one object per entry.
func TestExportAudit_Format(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		owner := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, owner, "=HYPERLINK(\"http://evil\")")
		svc := store.NewOperatorAuditService(db)
		var b bytes.Buffer
		n, err := app.ExportAudit(context.Background(), svc, app.AuditFilter{Scope: app.Scope{WorkspaceID: ws.ID}}, app.ExportCSV, &b, nil)
		if err != nil || n != 1 {
			t.Fatalf("ExportAudit = %d, %v; want 1 row", n, err)
		}
		if strings.Contains(b.String(), ",=HYPERLINK") || strings.Contains(b.String(), ",\"=HYPERLINK") {
			t.Errorf("a cell starts with a formula:\n%s", b.String())
		}
		b.Reset()
		if _, err := app.ExportAudit(context.Background(), svc, app.AuditFilter{Scope: app.Scope{WorkspaceID: ws.ID}}, app.ExportJSONL, &b, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.String(), `{"id":`) || strings.Count(b.String(), "\n") != 1 {
			t.Errorf("JSONL = %q, want one object", b.String())
		}
	})
}
