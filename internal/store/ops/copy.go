package ops

import (
	"atrium/internal/store"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CopyTables lists every application table in the order CopyData copies
// them: a table comes after the tables its foreign keys point to.
// TestCopyTables_Complete checks that it names every migrated table.
var CopyTables = []string{
	"users", "workspaces", "sessions", "login_tokens", "memberships", "invites",
	"audit_logs", "mail_outbox", "stripe_events", "invite_sends", "app_secrets", "api_keys",
	"audit_chains", "audit_actors",
	"user_totp", "two_factor_locks", "recovery_codes", "passkeys", "auth_challenges",
	"user_identities", "webhook_endpoints", "webhook_deliveries", "webhook_events", "staff", "impersonations", "impersonation_visits",
	"workspace_sso", "workspace_domains", "sso_break_glass",
	// scaffold:copy-tables (make scaffold adds its tables above this line)
}

// copyProgressTable records, in the target, the tables an unfinished
// CopyData committed, so that a second run resumes after them. It is
// dropped when the copy completes.
const copyProgressTable = "atrium_copy_progress"

// copyBatch is how many rows one INSERT carries.
const copyBatch = 200

// ErrTargetNotEmpty is returned by CopyData when the target holds data
// that no unfinished copy put there.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// TableCopy is one table CopyData handled.
type TableCopy struct {
	Table   string
	Rows    int64 // rows in the source, and now in the target
	Resumed bool  // copied by an earlier, interrupted run
}

// CopyData copies every table of src into dst, one transaction per table,
// checking after each that the target holds as many rows as the source.
// Both databases must be fully migrated. dst must be empty, unless an
// earlier CopyData into it was interrupted: then the tables it committed
// are checked and skipped and the copy goes on from the next one. report
// is called after each table.
func CopyData(ctx context.Context, src, dst *store.DB, report func(TableCopy)) error {
	for _, d := range []struct {
		db   *store.DB
		name string
	}{{src, "source"}, {dst, "target"}} {
		n, err := d.db.PendingMigrations(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		if n > 0 {
			return fmt.Errorf("the %s database has %d pending migration(s): run 'atrium migrate up' on it first", d.name, n)
		}
	}
	done, err := copyProgress(ctx, dst)
	if err != nil {
		return err
	}
	if done == nil {
		for _, t := range CopyTables {
			if n, err := countRows(ctx, dst.SQL(), t); err != nil {
				return err
			} else if n > 0 {
				return fmt.Errorf("%w: %s has %d row(s); copy into a new, empty database", ErrTargetNotEmpty, t, n)
			}
		}
		if _, err := dst.SQL().ExecContext(ctx, "CREATE TABLE "+copyProgressTable+" (table_name TEXT PRIMARY KEY, row_count BIGINT NOT NULL)"); err != nil {
			return fmt.Errorf("create %s: %w", copyProgressTable, err)
		}
		done = map[string]int64{}
	}
	for _, t := range CopyTables {
		srcRows, err := countRows(ctx, src.SQL(), t)
		if err != nil {
			return fmt.Errorf("source: %w", err)
		}
		if rows, ok := done[t]; ok {
			dstRows, err := countRows(ctx, dst.SQL(), t)
			if err != nil {
				return err
			}
			if dstRows != rows || srcRows != rows {
				return fmt.Errorf("%s was copied by an earlier run with %d rows, but the source now has %d and the target %d: start again with an empty target",
					t, rows, srcRows, dstRows)
			}
			report(TableCopy{Table: t, Rows: rows, Resumed: true})
			continue
		}
		if err := copyTable(ctx, src, dst, t, srcRows); err != nil {
			return err
		}
		report(TableCopy{Table: t, Rows: srcRows})
	}
	if err := resetSequences(ctx, dst); err != nil {
		return err
	}
	if _, err := dst.QueueUnfinishedWork(ctx); err != nil {
		return err
	}
	if _, err := dst.SQL().ExecContext(ctx, "DROP TABLE "+copyProgressTable); err != nil {
		return fmt.Errorf("drop %s: %w", copyProgressTable, err)
	}
	return nil
}

// copyProgress returns the tables an interrupted copy committed, or nil
// when no copy was started in db.
func copyProgress(ctx context.Context, db *store.DB) (map[string]int64, error) {
	rows, err := db.SQL().QueryContext(ctx, "SELECT table_name, row_count FROM "+copyProgressTable)
	if err != nil {
		if hasTable(ctx, db, copyProgressTable) {
			return nil, fmt.Errorf("read %s: %w", copyProgressTable, err)
		}
		return nil, nil
	}
	defer rows.Close()
	done := map[string]int64{}
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		done[t] = n
	}
	return done, rows.Err()
}

func hasTable(ctx context.Context, db *store.DB, name string) bool {
	var n int64
	return db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+name).Scan(&n) == nil
}

func countRows(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, table string) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// copyTable copies one table in one target transaction and records it in
// the progress table in the same transaction.
func copyTable(ctx context.Context, src, dst *store.DB, table string, srcRows int64) error {
	types, err := columnTypes(ctx, dst, table)
	if err != nil {
		return err
	}
	rows, err := src.SQL().QueryContext(ctx, "SELECT * FROM "+table)
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	tx, err := dst.SQL().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	defer func() { _ = tx.Rollback() }()

	var batch [][]any
	var copied int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		stmt, args := insertSQL(dst, table, cols, batch)
		if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("copy %s: insert: %w", table, err)
		}
		copied += int64(len(batch))
		batch = batch[:0]
		return nil
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		for i, c := range cols {
			if vals[i], err = convertValue(vals[i], types[c]); err != nil {
				return fmt.Errorf("copy %s.%s: %w", table, c, err)
			}
		}
		batch = append(batch, vals)
		if len(batch) == copyBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	if err := flush(); err != nil {
		return err
	}
	dstRows, err := countRows(ctx, tx, table)
	if err != nil {
		return err
	}
	if copied != srcRows || dstRows != srcRows {
		return fmt.Errorf("copy %s: the source has %d rows, %d were read and the target would hold %d; nothing of %s was kept",
			table, srcRows, copied, dstRows, table)
	}
	if _, err := tx.ExecContext(ctx, dst.Rebind("INSERT INTO "+copyProgressTable+" (table_name, row_count) VALUES (?, ?)"), table, srcRows); err != nil {
		return fmt.Errorf("record %s as copied: %w", table, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("copy %s: commit: %w", table, err)
	}
	return nil
}

// columnTypes returns the lower-cased declared type of each column of
// table in db.
func columnTypes(ctx context.Context, db *store.DB, table string) (map[string]string, error) {
	q := "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
	if db.Dialect() == store.SQLite {
		q = "SELECT name, type FROM pragma_table_info(?)"
	}
	rows, err := db.SQL().QueryContext(ctx, q, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		out[name] = strings.ToLower(typ)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the target has no table %s", table)
	}
	return out, rows.Err()
}

// sqliteTimes are the layouts SQLite may hold a time in.
var sqliteTimes = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}

// convertValue turns a value read from one dialect into what the target
// column of type typ takes: SQLite's integers into booleans, its text
// into times, PostgreSQL's booleans into integers.
func convertValue(v any, typ string) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		if !strings.Contains(typ, "bytea") && !strings.Contains(typ, "blob") {
			v = string(x)
		}
	}
	switch {
	case typ == "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case string:
			return strconv.ParseBool(x)
		}
	case strings.HasPrefix(typ, "timestamp") || typ == "datetime" || typ == "date":
		if s, ok := v.(string); ok {
			for _, layout := range sqliteTimes {
				if t, err := time.Parse(layout, s); err == nil {
					return t.UTC(), nil
				}
			}
			return nil, fmt.Errorf("unreadable time %q", s)
		}
		if t, ok := v.(time.Time); ok {
			return t.UTC(), nil
		}
	case typ == "integer" || typ == "bigint":
		if b, ok := v.(bool); ok {
			if b {
				return int64(1), nil
			}
			return int64(0), nil
		}
	}
	return v, nil
}

// insertSQL builds one multi-row INSERT.
func insertSQL(db *store.DB, table string, cols []string, rows [][]any) (string, []any) {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	args := make([]any, 0, len(rows)*len(cols))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for j, v := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			args = append(args, v)
			if db.Dialect() == store.Postgres {
				b.WriteString("$" + strconv.Itoa(len(args)))
			} else {
				b.WriteString("?")
			}
		}
		b.WriteString(")")
	}
	return b.String(), args
}

// resetSequences moves each PostgreSQL id sequence past the copied ids,
// so that new rows do not collide with them. SQLite keeps its own.
func resetSequences(ctx context.Context, db *store.DB) error {
	if db.Dialect() != store.Postgres {
		return nil
	}
	for _, t := range CopyTables {
		var seq sql.NullString
		if err := db.SQL().QueryRowContext(ctx, "SELECT pg_get_serial_sequence($1, 'id')", t).Scan(&seq); err != nil {
			continue // no id column
		}
		if !seq.Valid {
			continue
		}
		if _, err := db.SQL().ExecContext(ctx, "SELECT setval($1, COALESCE((SELECT MAX(id) FROM "+t+"), 0) + 1, false)", seq.String); err != nil {
			return fmt.Errorf("reset the id sequence of %s: %w", t, err)
		}
	}
	return nil
}

// Tables lists the tables of db other than goose's, SQLite's own and
// CopyData's progress table.
func Tables(ctx context.Context, db *store.DB) ([]string, error) {
	q := "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	if db.Dialect() == store.SQLite {
		q = "SELECT name FROM sqlite_master WHERE type = 'table'"
	}
	rows, err := db.SQL().QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		// River's tables (river_*) hold the job queue, which each database
		// engine keeps in its own form: CopyData queues the target's jobs
		// afresh instead (the mail still to send).
		if n == "goose_db_version" || strings.HasPrefix(n, "sqlite_") || strings.HasPrefix(n, "river_") || n == copyProgressTable {
			continue
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
