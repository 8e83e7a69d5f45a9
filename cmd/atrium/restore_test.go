package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"atrium/internal/config"
	"atrium/migrations"
)

// TestRestore_Refused feeds restore damaged, mismatched and foreign files:
// each is refused with a message naming the problem, and the live database
// keeps every byte.
func TestRestore_Refused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := seededSQLite(t, dir)
	live := filepath.Join(dir, "data", "atrium.db")
	good := filepath.Join(dir, "good.db")
	if res := runAtrium(t, env, "backup", "--out", good); res.Code != 0 {
		t.Fatalf("backup: %s", res.Output())
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// withSum writes a file and a matching .sha256.
	withSum := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if err := os.WriteFile(p+".sha256", []byte(hex.EncodeToString(sum[:])+"  "+name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mismatched := withSum("mismatched.db", data)
	if err := os.WriteFile(mismatched, append(append([]byte(nil), data...), 0), 0o600); err != nil {
		t.Fatal(err)
	}
	scribbled := append([]byte(nil), data...)
	for off := 4096; off+4096 <= len(scribbled); off += 4096 {
		for i := off + 200; i < off+3800; i++ {
			scribbled[i] = 0xA5
		}
	}
	noSum := filepath.Join(dir, "nosum.db")
	if err := os.WriteFile(noSum, data, 0o600); err != nil {
		t.Fatal(err)
	}
	future := newerSchemaCopy(t, dir, data)

	for _, tc := range []struct {
		name, file, want string
	}{
		{"ChecksumMismatch", mismatched, "checksum mismatch"},
		{"NoChecksum", noSum, "no checksum file"},
		{"Corrupt", withSum("corrupt.db", scribbled), "failed PRAGMA integrity_check"},
		{"Truncated", withSum("truncated.db", data[:len(data)/2]), "failed PRAGMA integrity_check"},
		{"NotSQLite", withSum("notes.txt", []byte("not a database")), "is not a SQLite database"},
		{"NewerSchema", future, "newer than this atrium knows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := sha256File(t, live)
			res := runAtrium(t, env, "restore", tc.file)
			if res.Code != 1 {
				t.Fatalf("restore: exit status %d, want 1\n%s", res.Code, res.Output())
			}
			if want := "atrium: refusing to restore " + tc.file + ": "; !strings.Contains(res.Stderr, want) || !strings.Contains(res.Stderr, tc.want) {
				t.Errorf("stderr lacks %q and %q:\n%s", want, tc.want, res.Stderr)
			}
			if !strings.Contains(res.Stderr, "The live database was not touched.") {
				t.Errorf("stderr does not say the live database is untouched:\n%s", res.Stderr)
			}
			if got := sha256File(t, live); got != before {
				t.Errorf("the live database changed")
			}
			left, _ := filepath.Glob(filepath.Join(dir, "data", "*"))
			for _, f := range left {
				if base := filepath.Base(f); base != "atrium.db" && base != "backups" {
					t.Errorf("restore left %s behind", f)
				}
			}
		})
	}
}

// newerSchemaCopy returns a checksummed copy of a backup that records a
// migration this binary does not have.
func newerSchemaCopy(t *testing.T, dir string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, "future.db")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Env{"DATABASE_URL": "sqlite:" + p})
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDB(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if _, err := writeChecksum(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRestore_Force restores over a database a sqlite3 shell holds open:
// refused without --force, done with it.
func TestRestore_Force(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("the sqlite3 shell is not installed")
	}
	dir := t.TempDir()
	env := seededSQLite(t, dir)
	live := filepath.Join(dir, "data", "atrium.db")
	backup := filepath.Join(dir, "b.db")
	if res := runAtrium(t, env, "backup", "--out", backup); res.Code != 0 {
		t.Fatalf("backup: %s", res.Output())
	}
	shell := exec.Command("sqlite3", live)
	stdin, err := shell.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	shell.Stdout, shell.Stderr = out, out
	if err := shell.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = shell.Wait() }()
	if _, err := stdin.Write([]byte("SELECT 'ready', COUNT(*) FROM users;\n")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "ready"); {
		if time.Now().After(deadline) {
			t.Fatalf("sqlite3 did not answer: %s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}

	res := runAtrium(t, env, "restore", backup)
	if want := fmt.Sprintf("process %d has %s open", shell.Process.Pid, live); res.Code != 1 || !strings.Contains(res.Stderr, want) {
		t.Fatalf("restore while sqlite3 holds the database: exit status %d, want 1 with %q\n%s", res.Code, want, res.Output())
	}
	res = runAtrium(t, env, "restore", "--force", backup)
	if res.Code != 0 || !strings.Contains(res.Stdout, "restoring anyway (--force)") {
		t.Fatalf("restore --force: exit status %d\n%s", res.Code, res.Output())
	}
}

// TestRestore_OlderBackupMigrates restores a backup taken before the
// newest migration: restore applies it.
func TestRestore_OlderBackupMigrates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := seededSQLite(t, dir)
	if res := runAtrium(t, env, "migrate", "down"); res.Code != 0 {
		t.Fatalf("migrate down: %s", res.Output())
	}
	backup := filepath.Join(dir, "old.db")
	if res := runAtrium(t, env, "backup", "--out", backup); res.Code != 0 {
		t.Fatalf("backup: %s", res.Output())
	}
	if res := runAtrium(t, env, "migrate", "up"); res.Code != 0 {
		t.Fatalf("migrate up: %s", res.Output())
	}
	res := runAtrium(t, env, "restore", backup)
	newest, _ := embeddedMigrations(t)
	if res.Code != 0 || !strings.Contains(res.Stdout, "applied "+newest) || !strings.Contains(res.Stdout, "Migrations: 1 applied") {
		t.Fatalf("restore of an older backup: exit status %d, want 0 with migration %s applied\n%s", res.Code, newest, res.Output())
	}
}

// embeddedMigrations returns the version prefix of the newest SQLite
// migration ("00005") and how many there are.
func embeddedMigrations(t *testing.T) (newest string, count int) {
	t.Helper()
	fsys, err := migrations.FS("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("embedded migrations: %v %v", names, err)
	}
	slices.Sort(names)
	newest, _, _ = strings.Cut(names[len(names)-1], "_")
	goMigrations, err := migrations.Go("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	return newest, len(names) + len(goMigrations)
}
