package ops_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"atrium/internal/store"
	"atrium/internal/store/ops"
	"atrium/internal/store/storetest"
)

// TestBackupSQLite_WhileWriting backs up a database while another
// connection pool, as a serving app would, keeps inserting rows. The copy
// must pass PRAGMA integrity_check and hold every row committed before the
// backup started, with no gaps; the writer must never fail.
func TestBackupSQLite_WhileWriting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	driver, path := storetest.DSN(t, store.SQLite)
	live, err := store.Open(ctx, driver, path, store.Options{MaxOpenConns: 4, MaxIdleConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if _, err := live.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	backupPool, err := store.Open(ctx, driver, path, store.Options{MaxOpenConns: 2, MaxIdleConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer backupPool.Close()

	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	wg.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, err := live.SQL().ExecContext(ctx, `INSERT INTO audit_logs (action, metadata, created_at)
				VALUES ('test.write', '{}', CURRENT_TIMESTAMP)`)
			if err != nil {
				writeErr = err
				return
			}
			committed.Store(int64(i))
		}
	})
	for committed.Load() < 200 {
		time.Sleep(time.Millisecond)
	}

	out := filepath.Join(t.TempDir(), "backups", "copy.db")
	before := committed.Load()
	info, err := ops.BackupSQLite(ctx, backupPool, out)
	after := committed.Load()
	// Let the writer go on a little after the snapshot too.
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("BackupSQLite: %v", err)
	}
	if writeErr != nil {
		t.Fatalf("the writer failed during the backup: %v", writeErr)
	}
	if info.Version == 0 {
		t.Errorf("backup info %+v: no schema version", info)
	}
	if _, err := ops.CheckSQLiteFile(ctx, out); err != nil {
		t.Fatalf("CheckSQLiteFile(copy): %v", err)
	}

	copyDB, err := sql.Open("sqlite", "file:"+out+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var n, maxID int64
	if err := copyDB.QueryRow(`SELECT COUNT(*), COALESCE(MAX(id), 0) FROM audit_logs WHERE action = 'test.write'`).Scan(&n, &maxID); err != nil {
		t.Fatal(err)
	}
	if n < before || n > after+1 {
		t.Errorf("the copy holds %d rows; %d were committed before the backup and %d when it returned", n, before, after)
	}
	if n != maxID {
		t.Errorf("the copy holds %d rows but its newest id is %d: rows are missing", n, maxID)
	}
	t.Logf("committed before the backup: %d, when it returned: %d, in all: %d; the copy holds %d",
		before, after, committed.Load(), n)
	if _, err := os.Stat(filepath.Join(filepath.Dir(out), ".copy.db.partial")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary file is left behind: %v", err)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o007 != 0 {
		t.Errorf("the backup's mode is %v; others must not read it", st.Mode().Perm())
	}
	if _, err := ops.BackupSQLite(ctx, backupPool, out); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second backup to the same file: err=%v, want \"already exists\"", err)
	}
}

// TestCheckSQLiteFile refuses files that are not sound Atrium databases.
func TestCheckSQLiteFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := storetest.Open(t, store.SQLite)
	good := filepath.Join(dir, "good.db")
	if _, err := ops.BackupSQLite(ctx, db, good); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}

	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other := filepath.Join(dir, "other.db")
	odb, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := odb.Exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"); err != nil {
		t.Fatal(err)
	}
	_ = odb.Close()

	for _, tc := range []struct {
		name, path, want string
	}{
		{"Good", good, ""},
		{"NotSQLite", write("text.db", []byte("just some text, not a database at all")), "is not a SQLite database"},
		{"Truncated", write("truncated.db", data[:len(data)/2]), "integrity_check"},
		{"Scribbled", write("scribbled.db", scribble(data)), "integrity_check"},
		{"NotAtrium", other, "is not an Atrium database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ops.CheckSQLiteFile(ctx, tc.path)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("CheckSQLiteFile: %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("CheckSQLiteFile: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// scribble overwrites the middle of every page after the first, where
// b-tree cells live, leaving the header intact.
func scribble(data []byte) []byte {
	out := append([]byte(nil), data...)
	const page = 4096
	for off := page; off+page <= len(out); off += page {
		for i := off + 200; i < off+page-200; i++ {
			out[i] = 0xA5
		}
	}
	return out
}

// TestLatestMigration checks the version this binary knows matches what
// MigrateUp applies.
func TestLatestMigration(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		latest, err := ops.LatestMigration(db.Dialect())
		if err != nil {
			t.Fatal(err)
		}
		st, err := db.MigrationStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := st[len(st)-1].Version; got != latest {
			t.Errorf("LatestMigration=%d, newest applied %d", latest, got)
		}
	})
}
