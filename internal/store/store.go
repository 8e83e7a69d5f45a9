// Package store implements Atrium's app services on GORM, over SQLite (the
// default, one file) or PostgreSQL. Record structs stay unexported; every
// method speaks in app types and app.Error codes.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"atrium/internal/app"
	"atrium/internal/jobs"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options tune the connection pool.
type Options struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
}

// DB is an open database with the clock its services use.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect string
	queries atomic.Int64
	catalog catalogLog
	stmts   stmtCache
	people  auditPeopleCache
	pages   auditPagesCache
	// identities keeps who is asking between requests (identity.go).
	identities identityCache
	// jobs inserts jobs in the store's transactions (jobs.go).
	jobs *jobs.Client
	// fanOut queues the webhook fan-out after a change (jobs.go).
	fanOut fanOutKicker

	versionsOnce sync.Once
	versions     []int64
	versionsErr  error
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// Open connects to the database of driver ("sqlite" or "postgres") and dsn
// (a file path for SQLite, a URL for Postgres). For SQLite the file's folder
// is created and the connection set up for concurrent web requests: WAL
// journal, a busy timeout, foreign keys on and IMMEDIATE write transactions,
// so that writers queue instead of failing with "database is locked".
func Open(ctx context.Context, driver, dsn string, opts Options) (*DB, error) {
	var dialector gorm.Dialector
	switch driver {
	case SQLite:
		if dsn != ":memory:" {
			if dir := filepath.Dir(dsn); dir != "." {
				if err := os.MkdirAll(dir, 0o750); err != nil {
					return nil, fmt.Errorf("create database folder: %w", err)
				}
			}
		}
		base, err := sqlitedriver.NewConnector(sqliteDSN(dsn))
		if err != nil {
			return nil, fmt.Errorf("open sqlite database: %w", err)
		}
		dialector = sqlite.New(sqlite.Config{Conn: sql.OpenDB(cachingConnector{base})})
	case Postgres:
		dialector = postgres.New(postgres.Config{DSN: dsn})
	default:
		return nil, fmt.Errorf("unknown database driver %q", driver)
	}
	gdb, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		// No GORM statement cache: reads run through the catalog's prepared
		// statements (read.go), the one cache. GORM's would not help the
		// writes, which run in transactions (database/sql prepares a
		// cached statement again on a transaction's connection), and it
		// waits for a statement being prepared on the pool while holding
		// its lock, which a full pool of transactions can turn into a
		// deadlock.
		NowFunc: func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", driver, err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", driver, err)
	}
	if opts.MaxOpenConns > 0 {
		sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
	}
	sqlDB.SetMaxIdleConns(opts.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(opts.ConnMaxLifetime)
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", driver, err)
	}
	db := &DB{gorm: gdb, sql: sqlDB, dialect: driver, Now: func() time.Time { return time.Now().UTC() }}
	if driver == SQLite {
		// Only the connection of the ping is open: every later one loads
		// statistics without the samples.
		if err := db.dropSamples(ctx, sqlDB); err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
	}
	if err := db.countStatements(); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	if err := db.markUnavailable(); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	if db.jobs, err = jobs.NewInserter(db.JobDriver()); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// execer runs a statement on a pool or one connection.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// dropSamples deletes the STAT4 samples an ANALYZE left in a SQLite file
// and reloads the statistics of the connection it runs on. SQLite is built
// with STAT4 here: with samples present it plans every statement whose
// bound value could change the plan (most WHERE clauses) again on each
// execution, which cost a tenth of a page view; sqlite_stat1 alone picks
// the same plans for Atrium's queries (TestHotQueryPlans checks them).
func (db *DB) dropSamples(ctx context.Context, conn execer) error {
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'").Scan(&n); err != nil {
		return fmt.Errorf("look for planner samples: %w", err)
	}
	if n == 0 {
		return nil
	}
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_stat4").Scan(&n); err != nil || n == 0 {
		return err
	}
	for _, q := range []string{"DELETE FROM sqlite_stat4", "ANALYZE sqlite_schema"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("drop planner samples: %w", err)
		}
	}
	return nil
}

// Analyze refreshes the query planner's statistics, as after a bulk load.
// On SQLite it keeps no STAT4 samples (see dropSamples) and the new
// statistics reach the connections opened after it. On PostgreSQL it
// vacuums too, as autovacuum soon would on a real database: a bulk load
// leaves dead row versions (every member added rewrites its workspace's
// members_count), and reading the big workspace's row through them cost
// 43 buffers instead of 6. Only the tables of the connection's schema are
// touched, so databases that hold other schemas (tests) are left alone.
func (db *DB) Analyze(ctx context.Context) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	defer func() { _ = conn.Close() }()
	if db.dialect == SQLite {
		if _, err := conn.ExecContext(ctx, "ANALYZE"); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		return db.dropSamples(ctx, conn)
	}
	rows, err := conn.QueryContext(ctx, "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
	if err != nil {
		return fmt.Errorf("analyze: list tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			_ = rows.Close()
			return fmt.Errorf("analyze: list tables: %w", err)
		}
		tables = append(tables, t)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("analyze: list tables: %w", err)
	}
	if len(tables) == 0 {
		return nil
	}
	if _, err := conn.ExecContext(ctx, "VACUUM (ANALYZE) "+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("vacuum and analyze: %w", err)
	}
	return nil
}

// countStatements registers GORM callbacks that count every statement the
// services run, so tests and benchmarks can hold request paths to a query
// budget. The cost is one atomic add per statement.
func (db *DB) countStatements() error {
	count := func(tx *gorm.DB) {
		db.queries.Add(1)
		if db.catalog.on.Load() {
			db.catalog.note(tx.Statement.SQL.String())
		}
	}
	cb := db.gorm.Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register("atrium:count_query", count),
		cb.Row().After("gorm:row").Register("atrium:count_row", count),
		cb.Raw().After("gorm:raw").Register("atrium:count_raw", count),
		cb.Create().After("gorm:create").Register("atrium:count_create", count),
		cb.Update().After("gorm:update").Register("atrium:count_update", count),
		cb.Delete().After("gorm:delete").Register("atrium:count_delete", count),
	} {
		if err != nil {
			return fmt.Errorf("register statement counter: %w", err)
		}
	}
	return nil
}

// Statements returns how many statements the services have run.
func (db *DB) Statements() int64 { return db.queries.Load() }

// sqliteCacheKiB is the page cache of each SQLite connection, in KiB.
const sqliteCacheKiB = 1024

// sqliteDSN turns a file path into a modernc.org/sqlite DSN with the
// settings Atrium relies on.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Each connection keeps its own page cache (2 MB by default); the pool
	// holds up to DB_MAX_OPEN_CONNS of them, so a query that walks many
	// pages grew the resident set by 2 MB per connection. The operating
	// system's file cache keeps the pages that drop out.
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", sqliteCacheKiB))
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	return "file:" + path + "?" + q.Encode()
}

// Close closes the connection pool.
func (db *DB) Close() error {
	db.fanOut.stop()
	db.closeStmts()
	return db.sql.Close()
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// SQL returns the underlying connection pool (for migrations and backups).
func (db *DB) SQL() *sql.DB { return db.sql }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// now returns the store's clock truncated to what both databases keep.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// transact runs fn in a transaction on ctx.
func (db *DB) transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var after commitHooks
	err := asUnavailable(db.gorm.WithContext(context.WithValue(ctx, commitHooksKey{}, &after)).Transaction(fn))
	if err == nil {
		for _, f := range after {
			f()
		}
	}
	return err
}

// commitHooks are what a transaction runs once it has committed.
type commitHooks []func()

type commitHooksKey struct{}

// afterCommit has f run once tx, a transaction of transact, commits; never
// when it rolls back.
func afterCommit(tx *gorm.DB, f func()) {
	hooks, ok := tx.Statement.Context.Value(commitHooksKey{}).(*commitHooks)
	if !ok {
		panic("store: afterCommit outside transact")
	}
	*hooks = append(*hooks, f)
}

// isUniqueViolation reports whether err is a unique-constraint failure.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlitedriver.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return errors.Is(err, gorm.ErrDuplicatedKey)
}

// notFound maps sql.ErrNoRows (from a catalogued read's queryRow) or
// gorm.ErrRecordNotFound to missing, an ENOTFOUND app error (made with
// app.Errorf, so that its text is in the errors catalog), and wraps
// anything else with what was being done.
func notFound(err error, missing *app.Error, what string) error {
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, gorm.ErrRecordNotFound) {
		return missing
	}
	return fmt.Errorf("%s: %w", what, err)
}
