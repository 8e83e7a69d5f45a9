package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLiteKeptStatements checks the connection that keeps its compiled
// statements on a real SQLite file: a kept statement runs again with other
// arguments, after an error, and inside a read of the same text still
// open; the oldest is dropped past stmtCacheSize, even while being read.
func TestSQLiteKeptStatements(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, SQLite, filepath.Join(t.TempDir(), "kept.db"), Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	kept := func() (n int, texts map[string]bool) {
		t.Helper()
		texts = map[string]bool{}
		if err := conn.Raw(func(dc any) error {
			c, ok := dc.(*cachingConn)
			if !ok {
				return fmt.Errorf("the connection is a %T, not one that keeps statements", dc)
			}
			for text := range c.byText {
				texts[text] = true
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return len(texts), texts
	}
	exec := func(q string, args ...any) error {
		_, err := conn.ExecContext(ctx, q, args...)
		return err
	}
	if err := exec("CREATE TABLE kept (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"); err != nil {
		t.Fatal(err)
	}
	const insert = "INSERT INTO kept (id, name) VALUES (?, ?)"
	for i := 1; i <= 5; i++ {
		if err := exec(insert, i, fmt.Sprintf("n%d", i)); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	// The same text after a constraint error: the statement was reset.
	if err := exec(insert, 6, "n1"); err == nil {
		t.Fatal("a duplicate name was inserted")
	}
	if err := exec(insert, 6, "n6"); err != nil {
		t.Fatalf("the insert after the failed one: %v", err)
	}
	if _, texts := kept(); !texts[insert] {
		t.Fatal("the insert's statement was not kept")
	}
	// A bulk write's long text runs, and is not kept.
	long := "INSERT INTO kept (id, name) VALUES (100, 'bulk')" + strings.Repeat(" ", stmtCacheMaxText)
	if err := exec(long); err != nil {
		t.Fatal(err)
	}
	if _, texts := kept(); texts[long] {
		t.Error("a text longer than stmtCacheMaxText was kept")
	}

	// A read of a text, and inside it a read of the same text: both see
	// every row, with their own arguments.
	const sel = "SELECT id FROM kept WHERE id >= ? ORDER BY id"
	ids := func(rows *sql.Rows) []int {
		var out []int
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	outer, err := conn.QueryContext(ctx, sel, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !outer.Next() {
		t.Fatal("the outer read is empty")
	}
	inner, err := conn.QueryContext(ctx, sel, 5)
	if err != nil {
		t.Fatalf("the same text while the first read is open: %v", err)
	}
	if got := ids(inner); fmt.Sprint(got) != "[5 6 100]" {
		t.Errorf("the inner read: %v, want [5 6 100]", got)
	}
	_ = inner.Close()
	if got := ids(outer); fmt.Sprint(got) != "[3 4 5 6 100]" {
		t.Errorf("the rest of the outer read: %v, want [3 4 5 6 100]", got)
	}
	_ = outer.Close()

	// Past the cache's size the least recently used go, one being read
	// among them; its rows still read, and its text runs again.
	held, err := conn.QueryContext(ctx, sel, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range stmtCacheSize + 10 {
		var n int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*) + %d FROM kept", i)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 7+i {
			t.Fatalf("query %d: %d, want %d", i, n, 7+i)
		}
	}
	n, texts := kept()
	if n != stmtCacheSize {
		t.Errorf("%d statements kept, want %d", n, stmtCacheSize)
	}
	if texts[sel] || texts[insert] {
		t.Error("the least recently used statements were kept")
	}
	if got := ids(held); fmt.Sprint(got) != "[1 2 3 4 5 6 100]" {
		t.Errorf("the read of a dropped statement: %v", got)
	}
	_ = held.Close()
	rows, err := conn.QueryContext(ctx, sel, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rows); fmt.Sprint(got) != "[4 5 6 100]" {
		t.Errorf("the dropped text run again: %v", got)
	}
	_ = rows.Close()
}
