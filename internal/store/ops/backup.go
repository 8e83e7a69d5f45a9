package ops

import (
	"atrium/internal/store"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"atrium/migrations"
)

// SQLiteFileInfo describes a checked SQLite database file.
type SQLiteFileInfo struct {
	// Version is the newest migration recorded in the file.
	Version    int64
	Users      int64
	Workspaces int64
}

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// BackupSQLite writes a consistent snapshot of the open SQLite database to
// path with VACUUM INTO, which reads inside one transaction while other
// connections, in this process or another, keep reading and writing (a
// plain copy of a live WAL database can miss committed pages or tear). The
// snapshot is written under a temporary name, synced, checked with PRAGMA
// integrity_check and only then renamed to path. An existing path is
// refused.
func BackupSQLite(ctx context.Context, db *store.DB, path string) (*SQLiteFileInfo, error) {
	if db.Dialect() != store.SQLite {
		return nil, fmt.Errorf("backup: %s databases are backed up with pg_dump, not VACUUM INTO", db.Dialect())
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("backup: %s already exists; choose another file", path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("backup: create folder: %w", err)
	}
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".partial")
	_ = os.Remove(tmp) // left behind by an interrupted backup
	if _, err := db.SQL().ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("backup: VACUUM INTO: %w", err)
	}
	fail := func(err error) (*SQLiteFileInfo, error) {
		_ = os.Remove(tmp)
		return nil, err
	}
	// A backup holds everyone's data: owner and group only.
	if err := os.Chmod(tmp, 0o640); err != nil {
		return fail(fmt.Errorf("backup: %w", err))
	}
	if err := syncFile(tmp); err != nil {
		return fail(fmt.Errorf("backup: %w", err))
	}
	info, err := CheckSQLiteFile(ctx, tmp)
	if err != nil {
		return fail(fmt.Errorf("backup: the copy failed its check: %w", err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(fmt.Errorf("backup: %w", err))
	}
	return info, syncDir(dir)
}

// CheckSQLiteFile checks a database file without changing it: it must be
// a SQLite database, pass PRAGMA integrity_check, and hold Atrium's
// migrations table and users.
func CheckSQLiteFile(ctx context.Context, path string) (*SQLiteFileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	head := make([]byte, len(sqliteMagic))
	_, err = io.ReadFull(f, head)
	_ = f.Close()
	if err != nil || !bytes.Equal(head, sqliteMagic) {
		return nil, fmt.Errorf("%s is not a SQLite database", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	// immutable: no locks, no -wal or -shm files beside the copy.
	q := url.Values{}
	q.Set("immutable", "1")
	q.Add("_pragma", "query_only(1)")
	conn, err := sql.Open("sqlite", "file:"+abs+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)

	rows, err := conn.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, fmt.Errorf("%s failed PRAGMA integrity_check: %w", path, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("%s failed PRAGMA integrity_check: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s failed PRAGMA integrity_check: %w", path, err)
	}
	_ = rows.Close()
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("and %d more", len(problems)-3))
		}
		return nil, fmt.Errorf("%s failed PRAGMA integrity_check: %s", path, strings.Join(problems, "; "))
	}

	info := &SQLiteFileInfo{}
	var version sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT MAX(version_id) FROM goose_db_version").Scan(&version); err != nil {
		return nil, fmt.Errorf("%s is not an Atrium database (no migrations table): %w", path, err)
	}
	info.Version = version.Int64
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&info.Users); err != nil {
		return nil, fmt.Errorf("%s is not an Atrium database (no users table): %w", path, err)
	}
	// Workspaces arrive with migration 2; an older file has none.
	_ = conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM workspaces").Scan(&info.Workspaces)
	return info, nil
}

// LatestMigration returns the newest migration version this binary has
// for the dialect.
func LatestMigration(dialect string) (int64, error) {
	fsys, err := migrations.FS(dialect)
	if err != nil {
		return 0, err
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, name := range names {
		prefix, _, _ := strings.Cut(name, "_")
		if v, err := strconv.ParseInt(prefix, 10, 64); err == nil && v > latest {
			latest = v
		}
	}
	return latest, nil
}

// ReplaceSQLite puts the database file restored in the place of live.
// The files of live (the database, and its -wal or -journal when present)
// are kept under the name preRestore, so that opening preRestore shows
// the replaced database exactly as it was; live's -shm index is removed.
// Both paths must be in the same folder. Nothing may have live open.
func ReplaceSQLite(restored, live, preRestore string) error {
	if filepath.Dir(restored) != filepath.Dir(live) || filepath.Dir(preRestore) != filepath.Dir(live) {
		return errors.New("replace database: the files must be in one folder")
	}
	if _, err := os.Lstat(preRestore); err == nil {
		return fmt.Errorf("keep the replaced database: %s already exists; wait a second and restore again", preRestore)
	}
	if _, err := os.Stat(live); err == nil {
		for _, suffix := range []string{"", "-wal", "-journal"} {
			if _, err := os.Stat(live + suffix); err == nil {
				if err := os.Rename(live+suffix, preRestore+suffix); err != nil {
					return fmt.Errorf("keep the replaced database: %w", err)
				}
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replace database: %w", err)
	}
	for _, suffix := range []string{"-shm", "-wal", "-journal"} {
		if err := os.Remove(live + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("replace database: remove stale %s: %w", live+suffix, err)
		}
	}
	if err := os.Rename(restored, live); err != nil {
		return fmt.Errorf("replace database: %w", err)
	}
	return syncDir(filepath.Dir(live))
}

// PostgresRestoreTarget returns how many tables the current schema holds
// and how many other sessions are connected to the database, the two
// things a restore into it must know. It is for Postgres only.
func PostgresRestoreTarget(ctx context.Context, db *store.DB) (tables, otherSessions int64, err error) {
	if db.Dialect() != store.Postgres {
		return 0, 0, fmt.Errorf("restore target: not a Postgres database")
	}
	// current_schema() is NULL while search_path names a schema that does
	// not exist yet: no tables.
	err = db.SQL().QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()),
		(SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid())`).
		Scan(&tables, &otherSessions)
	if err != nil {
		return 0, 0, fmt.Errorf("inspect the restore target: %w", err)
	}
	return tables, otherSessions, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable. It is best effort: some systems
// cannot sync a folder.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	_ = d.Sync()
	return d.Close()
}
