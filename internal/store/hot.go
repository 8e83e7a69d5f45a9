package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// hotStmts holds the prepared statements of the hot queries that run on
// database/sql directly (database/sql prepares each again on every
// connection it meets, once).
type hotStmts struct {
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// queryHot runs the catalogued hot query name outside a transaction,
// without GORM: a page view runs three to five of these, and GORM's
// statement building and callbacks cost as much as SQLite's lookups
// themselves. It is counted like every other statement, and a lost
// connection is an EUNAVAILABLE error (a 503 page), as through GORM.
func (db *DB) queryHot(ctx context.Context, name string, args ...any) (*hotRows, error) {
	stmt, err := db.hotStmt(ctx, name)
	if err != nil {
		return nil, asUnavailable(err)
	}
	db.queries.Add(1)
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, asUnavailable(err)
	}
	return &hotRows{rows}, nil
}

// hotRows are the rows of a hot query; a connection lost while reading
// them is an EUNAVAILABLE error.
type hotRows struct{ *sql.Rows }

// Scan copies the current row into dest.
func (r *hotRows) Scan(dest ...any) error { return asUnavailable(r.Rows.Scan(dest...)) }

// Err returns the error that ended the iteration, if any.
func (r *hotRows) Err() error { return asUnavailable(r.Rows.Err()) }

// hotStmt returns the prepared statement of a hot query, preparing it on
// first use.
func (db *DB) hotStmt(ctx context.Context, name string) (*sql.Stmt, error) {
	db.hot.mu.RLock()
	stmt := db.hot.stmts[name]
	db.hot.mu.RUnlock()
	if stmt != nil {
		return stmt, nil
	}
	db.hot.mu.Lock()
	defer db.hot.mu.Unlock()
	if stmt := db.hot.stmts[name]; stmt != nil {
		return stmt, nil
	}
	q := sqlOf(name)
	if db.dialect == Postgres {
		q = numberPlaceholders(q)
	}
	stmt, err := db.sql.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", name, err)
	}
	if db.hot.stmts == nil {
		db.hot.stmts = make(map[string]*sql.Stmt)
	}
	db.hot.stmts[name] = stmt
	return stmt, nil
}

// numberPlaceholders rewrites "?" placeholders as Postgres's $1, $2, …
// (catalogued SQL has no "?" inside literals).
func numberPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for {
		i := strings.IndexByte(q, '?')
		if i < 0 {
			b.WriteString(q)
			return b.String()
		}
		n++
		b.WriteString(q[:i])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		q = q[i+1:]
	}
}

// closeHot closes the hot queries' statements.
func (db *DB) closeHot() {
	db.hot.mu.Lock()
	defer db.hot.mu.Unlock()
	for _, s := range db.hot.stmts {
		_ = s.Close()
	}
	db.hot.stmts = nil
}
