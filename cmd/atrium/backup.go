package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"atrium/internal/config"
	"atrium/internal/store/ops"
)

// backupDir is where backups go when --out is not given: next to the
// SQLite file, or under data/ for Postgres (both are ignored by git and
// never packaged).
func backupDir(cfg *config.Config) string {
	if cfg.Database.Driver == config.DriverSQLite {
		return filepath.Join(filepath.Dir(cfg.Database.DSN), "backups")
	}
	return filepath.Join("data", "backups")
}

// runBackup handles "atrium backup [--out FILE]".
func runBackup(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", "backup [--out FILE]\n\n"+
		"  SQLite:   a consistent snapshot taken while the app keeps serving (VACUUM INTO),\n"+
		"            checked with PRAGMA integrity_check.\n"+
		"  Postgres: pg_dump --format=custom, checked with pg_restore --list.\n"+
		"  Either way FILE.sha256 is written beside it (sha256sum -c format).", stderr)
	out := fs.String("out", "", "write the backup to `FILE` (default: data/backups/atrium-<UTC time>.db, .dump on Postgres)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("backup takes no arguments (use --out FILE)")
	}
	cfg, err := loadConfig(env, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Database: %s\n", describeDB(cfg))
	path := *out
	if path == "" {
		ext := ".db"
		if cfg.Database.Driver == config.DriverPostgres {
			ext = ".dump"
		}
		path = filepath.Join(backupDir(cfg), "atrium-"+time.Now().UTC().Format("20060102T150405Z")+ext)
	}
	for _, p := range []string{path, path + ".sha256"} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists: choose another --out file (backups are never overwritten)", p)
		}
	}

	if cfg.Database.Driver == config.DriverPostgres {
		if err := backupPostgres(ctx, cfg, env, path, stdout, stderr); err != nil {
			return err
		}
	} else if err := backupSQLite(ctx, cfg, path, stdout); err != nil {
		return err
	}
	sum, err := writeChecksum(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Checksum: %s (sha256 %s)\n", path+".sha256", sum)
	fmt.Fprintf(stdout, "Backup complete. Restore it with: atrium restore %s\n", path)
	return nil
}

func backupSQLite(ctx context.Context, cfg *config.Config, path string, stdout io.Writer) error {
	if _, err := os.Stat(cfg.Database.DSN); err != nil {
		return fmt.Errorf("no database to back up at %s (check DATABASE_URL): %w", cfg.Database.DSN, err)
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	info, err := ops.BackupSQLite(ctx, db, path)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backup: %s (%d bytes; schema version %d, %d users, %d workspaces)\n",
		path, st.Size(), info.Version, info.Users, info.Workspaces)
	fmt.Fprintln(stdout, "Integrity check: ok")
	return nil
}

// backupPostgres runs pg_dump into path and checks the archive with
// pg_restore --list.
func backupPostgres(ctx context.Context, cfg *config.Config, env config.Env, path string, stdout, stderr io.Writer) error {
	pgDump, err := lookTool(env, "pg_dump")
	if err != nil {
		fmt.Fprintln(stderr, "atrium: pg_dump is not installed or not on PATH, so Postgres cannot be backed up from here.")
		fmt.Fprintln(stderr, "Install the PostgreSQL client tools of your server's major version (Debian/Ubuntu: apt-get install postgresql-client),")
		fmt.Fprintln(stderr, "or rely on your provider's managed backups with point-in-time recovery.")
		return errSilent
	}
	conn, err := pgToolConn(cfg.Database.DSN)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create backup folder: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".partial")
	defer os.Remove(tmp)
	args := []string{"--format=custom", "--no-owner", "--file=" + tmp, "--dbname=" + conn.URL}
	if conn.Schema != "" {
		args = append(args, "--schema="+conn.Schema)
	}
	if err := runPGTool(ctx, env, conn, pgDump, args, stderr); err != nil {
		return fmt.Errorf("pg_dump failed: %w", err)
	}
	checked := "skipped (pg_restore is not on PATH)"
	if pgRestore, err := lookTool(env, "pg_restore"); err == nil {
		if err := runPGTool(ctx, env, conn, pgRestore, []string{"--list", tmp}, io.Discard); err != nil {
			return fmt.Errorf("the dump failed its check (pg_restore --list): %w", err)
		}
		checked = "ok (pg_restore --list reads the archive)"
	}
	// A backup holds everyone's data: owner and group only.
	if err := os.Chmod(tmp, 0o640); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backup: %s (%d bytes, pg_dump custom format)\n", path, st.Size())
	fmt.Fprintf(stdout, "Integrity check: %s\n", checked)
	return nil
}

// pgConn is a Postgres connection in the form libpq tools accept.
type pgConn struct {
	URL      string // without password or pgx-only parameters
	Password string // passed as PGPASSWORD, never on the command line
	Schema   string // from search_path, when the URL selects one
}

// libpqParam reports whether libpq understands a URL parameter; pgx
// accepts more (search_path, pool settings) that pg_dump would refuse.
func libpqParam(name string) bool {
	switch name {
	case "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "sslcrl", "sslnegotiation",
		"channel_binding", "connect_timeout", "application_name", "options", "target_session_attrs",
		"gssencmode", "krbsrvname", "service", "passfile", "require_auth", "host", "hostaddr", "port",
		"dbname", "user", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
		"tcp_user_timeout":
		return true
	}
	return false
}

// lookTool finds an executable in the PATH of env (the environment run
// was given, not the process's own).
func lookTool(env config.Env, name string) (string, error) {
	for _, dir := range filepath.SplitList(env["PATH"]) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

// pgToolConn turns DATABASE_URL into what pg_dump and pg_restore accept.
func pgToolConn(dsn string) (pgConn, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return pgConn{}, fmt.Errorf("DATABASE_URL: %w", err)
	}
	var c pgConn
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			c.Password = p
			u.User = url.User(u.User.Username())
		}
	}
	q := u.Query()
	if p := q.Get("password"); p != "" {
		c.Password = p
	}
	out := url.Values{}
	for k, v := range q {
		switch {
		case k == "search_path":
			c.Schema = strings.TrimSpace(strings.Split(v[0], ",")[0])
		case libpqParam(k):
			out[k] = v
		}
	}
	u.RawQuery = out.Encode()
	c.URL = u.String()
	return c, nil
}

// runPGTool runs a PostgreSQL client tool with a small environment: the
// password goes in PGPASSWORD, so it shows in no process list.
func runPGTool(ctx context.Context, env config.Env, conn pgConn, tool string, args []string, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, tool, args...)
	var childEnv []string
	for k, v := range env {
		if k == "PATH" || k == "HOME" || k == "LANG" || k == "TZ" || (strings.HasPrefix(k, "PG") && k != "PGPASSWORD") {
			childEnv = append(childEnv, k+"="+v)
		}
	}
	if conn.Password != "" {
		childEnv = append(childEnv, "PGPASSWORD="+conn.Password)
	}
	cmd.Env = childEnv
	var msg bytes.Buffer
	cmd.Stdout = stderr
	cmd.Stderr = &msg
	if err := cmd.Run(); err != nil {
		if s := strings.TrimSpace(msg.String()); s != "" {
			return fmt.Errorf("%w: %s", err, s)
		}
		return err
	}
	if msg.Len() > 0 {
		_, _ = stderr.Write(msg.Bytes())
	}
	return nil
}

// writeChecksum writes path.sha256 in sha256sum format ("HEX  NAME"), with
// the bare file name so the pair can move together.
func writeChecksum(path string) (string, error) {
	sum, err := fileSHA256(path)
	if err != nil {
		return "", err
	}
	line := sum + "  " + filepath.Base(path) + "\n"
	if err := os.WriteFile(path+".sha256", []byte(line), 0o640); err != nil {
		return "", fmt.Errorf("write checksum: %w", err)
	}
	return sum, nil
}

// readChecksum returns the hash that path.sha256 records.
func readChecksum(path string) (string, error) {
	f, err := os.Open(path + ".sha256")
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("there is no checksum file %s.sha256 beside it, so it cannot be verified "+
			"(atrium backup writes one; if you trust the file, create it with: sha256sum FILE > FILE.sha256)", path)
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(line)
	if len(fields) == 0 || len(fields[0]) != sha256.Size*2 {
		return "", fmt.Errorf("%s.sha256 is not in sha256sum format", path)
	}
	if _, err := hex.DecodeString(fields[0]); err != nil {
		return "", fmt.Errorf("%s.sha256 is not in sha256sum format", path)
	}
	return strings.ToLower(fields[0]), nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
