package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"atrium/internal/config"
	"atrium/internal/store"
	"atrium/internal/store/ops"
)

// runRestore handles "atrium restore [--force] FILE".
func runRestore(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", "restore [--force] FILE\n\n"+
		"  Checks FILE against FILE.sha256 and its integrity, then:\n"+
		"  SQLite:   replaces the database file, keeping the old one as <database>.<time>.pre-restore.\n"+
		"            Stop the app first: a database another process has open is refused.\n"+
		"  Postgres: loads a pg_dump archive into the empty database DATABASE_URL names\n"+
		"            (a database with tables is never overwritten).\n"+
		"  Then applies pending migrations.", stderr)
	force := fs.Bool("force", false, "restore even though another process has the database open")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("restore needs one backup file: atrium restore FILE")
	}
	file := fs.Arg(0)
	if st, err := os.Stat(file); err != nil || st.IsDir() {
		return fmt.Errorf("no backup file at %s", file)
	}
	cfg, err := loadConfig(env, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Database: %s\n", describeDB(cfg))
	refuse := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "atrium: refusing to restore %s: %s\n", file, fmt.Sprintf(format, a...))
		fmt.Fprintln(stderr, "The live database was not touched.")
		return errSilent
	}
	want, err := readChecksum(file)
	if err != nil {
		return refuse("%v", err)
	}
	if cfg.Database.Driver == config.DriverPostgres {
		return restorePostgres(ctx, cfg, env, file, want, *force, refuse, stdout, stderr)
	}
	return restoreSQLite(ctx, cfg, file, want, *force, refuse, stdout)
}

func restoreSQLite(ctx context.Context, cfg *config.Config, file, want string, force bool,
	refuse func(string, ...any) error, stdout io.Writer) error {
	live := cfg.Database.DSN
	if live == ":memory:" {
		return refuse("DATABASE_URL names an in-memory database")
	}
	if err := os.MkdirAll(filepath.Dir(live), 0o750); err != nil {
		return err
	}
	// Copy first and check the copy: what goes live is exactly the bytes
	// that matched the checksum and passed the integrity check.
	tmp := filepath.Join(filepath.Dir(live), "."+filepath.Base(live)+".restoring")
	defer os.Remove(tmp)
	got, err := copyHashed(file, tmp)
	if err != nil {
		return refuse("%v", err)
	}
	if got != want {
		return refuse("checksum mismatch: the file's sha256 is %s but %s.sha256 says %s (a damaged or different file)", got, file, want)
	}
	fmt.Fprintln(stdout, "Checksum: ok")
	info, err := ops.CheckSQLiteFile(ctx, tmp)
	if err != nil {
		return refuse("%v", err)
	}
	latest, err := ops.LatestMigration(store.SQLite)
	if err != nil {
		return err
	}
	if info.Version > latest {
		return refuse("the backup is at schema version %d, newer than this atrium knows (%d): restore it with the release that wrote it", info.Version, latest)
	}
	fmt.Fprintf(stdout, "Integrity check: ok (schema version %d, %d users, %d workspaces)\n", info.Version, info.Users, info.Workspaces)

	pid, supported, err := ops.SQLiteHolder(live)
	switch {
	case err != nil:
		return refuse("cannot tell whether the database is in use: %v", err)
	case pid != 0 && !force:
		who := fmt.Sprintf("process %d", pid)
		if pid < 0 {
			who = "another process"
		}
		return refuse("%s has %s open. Stop the app (and any sqlite3 shell) first; "+
			"pass --force only if you are sure nothing will write to it", who, live)
	case pid != 0:
		fmt.Fprintf(stdout, "Warning: process %d has the database open; restoring anyway (--force).\n", pid)
	case !supported:
		fmt.Fprintln(stdout, "Warning: this system cannot tell whether the database is in use; make sure the app is stopped.")
	}

	pre := live + "." + time.Now().UTC().Format("20060102T150405Z") + ".pre-restore"
	_, statErr := os.Stat(live)
	hadLive := statErr == nil
	if err := ops.ReplaceSQLite(tmp, live, pre); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %s to %s.\n", file, live)
	if hadLive {
		fmt.Fprintf(stdout, "The replaced database is kept as %s; delete it once the app runs well.\n", pre)
	}
	return migrateRestored(ctx, cfg, stdout)
}

// migrateRestored applies the migrations the backup predates.
func migrateRestored(ctx context.Context, cfg *config.Config, stdout io.Writer) error {
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.MigrateUp(ctx)
	if err != nil {
		return err
	}
	for _, m := range applied {
		fmt.Fprintf(stdout, "  applied %05d %s\n", m.Version, m.Name)
	}
	fmt.Fprintf(stdout, "Migrations: %d applied; the database is up to date. Start the app and run 'atrium doctor'.\n", len(applied))
	return nil
}

// restorePostgres loads a pg_dump archive into the database DATABASE_URL
// names, which must have no tables: a Postgres restore goes into a new
// database, and the old one stays as it was.
func restorePostgres(ctx context.Context, cfg *config.Config, env config.Env, file, want string, force bool,
	refuse func(string, ...any) error, stdout, stderr io.Writer) error {
	got, err := fileSHA256(file)
	if err != nil {
		return refuse("%v", err)
	}
	if got != want {
		return refuse("checksum mismatch: the file's sha256 is %s but %s.sha256 says %s (a damaged or different file)", got, file, want)
	}
	fmt.Fprintln(stdout, "Checksum: ok")
	pgRestore, err := lookTool(env, "pg_restore")
	if err != nil {
		fmt.Fprintln(stderr, "atrium: pg_restore is not installed or not on PATH: install the PostgreSQL client tools "+
			"(Debian/Ubuntu: apt-get install postgresql-client), or restore through your provider.")
		return errSilent
	}
	conn, err := pgToolConn(cfg.Database.DSN)
	if err != nil {
		return err
	}
	if err := runPGTool(ctx, env, conn, pgRestore, []string{"--list", file}, io.Discard); err != nil {
		return refuse("it is not a readable pg_dump archive: %v", err)
	}
	fmt.Fprintln(stdout, "Integrity check: ok (pg_restore --list reads the archive)")

	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	tables, others, err := ops.PostgresRestoreTarget(ctx, db)
	_ = db.Close()
	switch {
	case err != nil:
		return err
	case tables > 0:
		return refuse("the database DATABASE_URL names already has %d tables, and a restore never overwrites one. "+
			"Create an empty database (CREATE DATABASE atrium_restored), point DATABASE_URL at it and run restore again; "+
			"the current database stays as your pre-restore copy", tables)
	case others > 0 && !force:
		return refuse("%d other connections are open to the target database; close them, or pass --force", others)
	}
	args := []string{"--no-owner", "--exit-on-error", "--single-transaction", "--dbname=" + conn.URL, file}
	if err := runPGTool(ctx, env, conn, pgRestore, args, stderr); err != nil {
		return fmt.Errorf("pg_restore failed (the transaction was rolled back): %w", err)
	}
	fmt.Fprintf(stdout, "Restored %s into %s.\n", file, describeDB(cfg))
	return migrateRestored(ctx, cfg, stdout)
}

// copyHashed copies src to dst (synced) and returns src's sha256.
func copyHashed(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		_ = out.Close()
		return "", err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
