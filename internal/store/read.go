package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// The read path. Every SELECT a service runs is a named entry of the
// query catalog (queries.go), run by query or queryRow through one
// prepared statement per catalog entry (database/sql prepares it once on
// each connection it meets) and scanned by the one scan function of its
// row shape. GORM is the write path, inside db.transact; a read inside a
// transaction passes its tx and runs on the transaction's connection,
// through the same statement. Reads skip GORM because its statement
// building and callbacks cost as much as SQLite's lookups themselves.

// stmtCache holds the prepared statements of the catalog.
type stmtCache struct {
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
	// background counts the prepares and closes running outside a
	// request; Close waits for them, so that none opens a connection
	// after it (on SQLite that recreates the files beside the database).
	background sync.WaitGroup
}

// query runs the catalogued statement name with args, on tx's connection
// when tx is a transaction and on the pool when it is nil. It is counted
// like every other statement, and a lost connection is an EUNAVAILABLE
// error (a 503 page).
func (db *DB) query(ctx context.Context, tx *gorm.DB, name string, args ...any) (*rows, error) {
	stmt, err := db.stmt(ctx, tx, name)
	if err != nil {
		return nil, asUnavailable(err)
	}
	db.queries.Add(1)
	rs, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, asUnavailable(err)
	}
	return &rows{rs}, nil
}

// queryRow runs a catalogued statement that returns at most one row; its
// Scan returns sql.ErrNoRows when there is none.
func (db *DB) queryRow(ctx context.Context, tx *gorm.DB, name string, args ...any) *row {
	stmt, err := db.stmt(ctx, tx, name)
	if err != nil {
		return &row{err: asUnavailable(err)}
	}
	db.queries.Add(1)
	return &row{row: stmt.QueryRowContext(ctx, args...)}
}

// rows are the rows of a catalogued query; a connection lost while reading
// them is an EUNAVAILABLE error.
type rows struct{ *sql.Rows }

// Scan copies the current row into dest.
func (r *rows) Scan(dest ...any) error { return asUnavailable(r.Rows.Scan(dest...)) }

// Err returns the error that ended the iteration, if any.
func (r *rows) Err() error { return asUnavailable(r.Rows.Err()) }

// row is the one row of queryRow.
type row struct {
	row *sql.Row
	err error
}

// Scan copies the row into dest; sql.ErrNoRows when there was none.
func (r *row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	err := r.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return asUnavailable(err)
}

// stmt returns the statement of a catalog entry, bound to tx's
// connection when tx is a transaction. A transaction never waits for a
// second connection: when the pool's statement is not prepared yet, the
// transaction prepares its own on its connection (closed when it ends),
// and the pool's is prepared in the background for the reads after it.
// Preparing it from the pool there could wait for a connection that
// transactions waiting on it hold.
func (db *DB) stmt(ctx context.Context, tx *gorm.DB, name string) (*sql.Stmt, error) {
	if tx == nil {
		return db.prepared(ctx, name)
	}
	sqlTx, err := txOf(tx)
	if err != nil {
		return nil, err
	}
	if stmt := db.cached(name); stmt != nil {
		return sqlTx.StmtContext(ctx, stmt), nil
	}
	db.stmts.background.Go(func() { _, _ = db.prepared(context.WithoutCancel(ctx), name) })
	return sqlTx.PrepareContext(ctx, db.text(name))
}

// txOf returns the database/sql transaction under a GORM transaction.
func txOf(tx *gorm.DB) (*sql.Tx, error) {
	switch p := tx.Statement.ConnPool.(type) {
	case *sql.Tx:
		return p, nil
	case *gorm.PreparedStmtTX:
		if t, ok := p.Tx.(*sql.Tx); ok {
			return t, nil
		}
	}
	return nil, fmt.Errorf("store: %T is not a transaction", tx.Statement.ConnPool)
}

// cached returns the pool's prepared statement of a catalog entry, or nil.
func (db *DB) cached(name string) *sql.Stmt {
	db.stmts.mu.RLock()
	defer db.stmts.mu.RUnlock()
	return db.stmts.stmts[name]
}

// text returns a catalog entry's SQL as the database takes it.
func (db *DB) text(name string) string {
	entry, ok := hotQueries[name]
	if !ok {
		panic("store: no hot query " + name)
	}
	q := entry.text(db.dialect)
	if db.dialect == Postgres {
		q = numberPlaceholders(q)
	}
	return q
}

// prepared returns the pool's prepared statement of a catalog entry,
// preparing it on first use. The cache is locked only to look up and
// store: preparing waits for a connection, and closing a statement waits
// for every connection it was prepared on, one of which may be inside a
// transaction that is itself waiting for this lock (a read) while another
// transaction waits on the database for it. Of two preparing at once, the
// first stored wins and the other is closed in the background.
func (db *DB) prepared(ctx context.Context, name string) (*sql.Stmt, error) {
	if stmt := db.cached(name); stmt != nil {
		return stmt, nil
	}
	stmt, err := db.sql.PrepareContext(ctx, db.text(name))
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", name, err)
	}
	if first := db.store(name, stmt); first != stmt {
		db.stmts.background.Go(func() { _ = stmt.Close() })
		return first, nil
	}
	return stmt, nil
}

// store keeps stmt as the pool's statement of a catalog entry unless one
// is kept already, and returns the one kept.
func (db *DB) store(name string, stmt *sql.Stmt) *sql.Stmt {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	if first := db.stmts.stmts[name]; first != nil {
		return first
	}
	if db.stmts.stmts == nil {
		db.stmts.stmts = make(map[string]*sql.Stmt)
	}
	db.stmts.stmts[name] = stmt
	return stmt
}

// Rebind returns query, written with ? placeholders, as the database
// takes it: unchanged on SQLite, with $1, $2, … on PostgreSQL. For SQL
// outside the catalog: operator tools and tests.
func (db *DB) Rebind(query string) string {
	if db.dialect == Postgres {
		return numberPlaceholders(query)
	}
	return query
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

// scanRow scans the current row of sc, a *rows or a *row, into dest.
// Calling their Scan through the concrete type keeps dest off the heap:
// a scan function that builds its destinations in a local array then
// costs no allocation per row (through the interface it costs two).
func scanRow(sc scanner, dest ...any) error {
	switch s := sc.(type) {
	case *rows:
		return s.Scan(dest...)
	case *row:
		return s.Scan(dest...)
	}
	return fmt.Errorf("store: cannot scan a %T", sc)
}

// scanner is a row to scan: a *row, or the current row of *rows.
type scanner interface{ Scan(dest ...any) error }

// closeStmts closes the catalog's statements, once those being prepared
// or closed in the background are done.
func (db *DB) closeStmts() {
	db.stmts.background.Wait()
	db.stmts.mu.Lock()
	stmts := db.stmts.stmts
	db.stmts.stmts = nil
	db.stmts.mu.Unlock()
	for _, s := range stmts {
		_ = s.Close()
	}
}

// idList runs a catalogued statement that reads one column of ids, in tx
// when tx is not nil, and returns them.
func (db *DB) idList(ctx context.Context, tx *gorm.DB, name string, args ...any) ([]int64, error) {
	rows, err := db.query(ctx, tx, name, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
