package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"atrium/internal/config"
	"atrium/internal/store"
	"atrium/internal/store/ops"
	"atrium/internal/store/storetest"
)

// seededSQLite returns the env of a fresh, seeded SQLite database in dir.
func seededSQLite(t *testing.T, dir string) config.Env {
	t.Helper()
	env := config.Env{"DATABASE_URL": "sqlite:" + filepath.Join(dir, "data", "atrium.db")}
	if res := runAtrium(t, env, "seed"); res.Code != 0 {
		t.Fatalf("seed: exit status %d\n%s", res.Code, res.Output())
	}
	return env
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestBackup_SQLite checks the backup, its checksum file in sha256sum
// format, the default location, and that a backup never overwrites.
func TestBackup_SQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := seededSQLite(t, dir)
	out := filepath.Join(dir, "b", "first.db")
	res := runAtrium(t, env, "backup", "--out", out)
	if res.Code != 0 {
		t.Fatalf("backup: exit status %d\n%s", res.Code, res.Output())
	}
	for _, want := range []string{"Database: sqlite:", "Backup: " + out, "schema version", "33 users, 2 workspaces",
		"Integrity check: ok", "Checksum: " + out + ".sha256", "atrium restore " + out} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("backup output lacks %q:\n%s", want, res.Stdout)
		}
	}
	sumFile, err := os.ReadFile(out + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(sumFile), sha256File(t, out)+"  first.db\n"; got != want {
		t.Errorf("first.db.sha256 = %q, want %q", got, want)
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "-c", "first.db.sha256")
		cmd.Dir = filepath.Dir(out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, b)
		}
	}

	res = runAtrium(t, env, "backup", "--out", out)
	if res.Code != 1 || !strings.Contains(res.Stderr, "already exists") {
		t.Errorf("backup to an existing file: exit status %d, want 1 with \"already exists\"\n%s", res.Code, res.Output())
	}

	res = runAtrium(t, env, "backup")
	if res.Code != 0 {
		t.Fatalf("backup to the default place: exit status %d\n%s", res.Code, res.Output())
	}
	m := regexp.MustCompile(`Backup: (\S+) `).FindStringSubmatch(res.Stdout)
	if m == nil {
		t.Fatalf("backup output names no file:\n%s", res.Stdout)
	}
	if want := filepath.Join(dir, "data", "backups") + string(filepath.Separator) + "atrium-"; !strings.HasPrefix(m[1], want) || !strings.HasSuffix(m[1], ".db") {
		t.Errorf("default backup %s, want %s<time>.db", m[1], want)
	}

	missing := config.Env{"DATABASE_URL": "sqlite:" + filepath.Join(dir, "nothing", "here.db")}
	res = runAtrium(t, missing, "backup", "--out", filepath.Join(dir, "x.db"))
	if res.Code != 1 || !strings.Contains(res.Stderr, "no database to back up") {
		t.Errorf("backup of a missing database: exit status %d\n%s", res.Code, res.Output())
	}
	if _, err := os.Stat(filepath.Join(dir, "nothing")); !os.IsNotExist(err) {
		t.Errorf("backup of a missing database created its folder")
	}
}

// serveProcess runs the built atrium binary's serve command in its own
// process and stops it with SIGINT at cleanup.
type serveProcess struct {
	URL string
	cmd *exec.Cmd
	out *syncBuffer
}

func startServeProcess(t *testing.T, bin string, env config.Env) *serveProcess {
	t.Helper()
	port := freePort(t)
	p := &serveProcess{URL: "http://127.0.0.1:" + strconv.Itoa(port), out: &syncBuffer{}}
	p.cmd = exec.Command(filepath.Join(bin, "atrium"), "--env-file=", "serve")
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORT=" + strconv.Itoa(port), "APP_URL=" + p.URL,
		"SHUTDOWN_TIMEOUT_SECONDS=5", "SHUTDOWN_DRAIN_SECONDS=0"}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(t) })
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := http.Get(p.URL + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("atrium serve did not become healthy:\n%s", p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop sends SIGINT and waits for the process to exit.
func (p *serveProcess) Stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("atrium serve exited with %v:\n%s", err, p.out)
		}
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		t.Errorf("atrium serve did not stop on SIGINT:\n%s", p.out)
	}
}

// TestBackupRestore_WhileServing backs up the database while "atrium
// serve", in its own process, answers sign-in requests that write to it;
// then restore is refused while the app runs, and works once it stopped.
func TestBackupRestore_WhileServing(t *testing.T) {
	t.Parallel()
	bin := buildAtrium(t)
	dir := t.TempDir()
	env := seededSQLite(t, dir)
	live := filepath.Join(dir, "data", "atrium.db")
	srv := startServeProcess(t, bin, config.Env{"DATABASE_URL": env["DATABASE_URL"], "RATE_LIMIT_MAX": "100000",
		"LOG_LEVEL": "error"})

	// Each answered POST /login committed a login token.
	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr atomic.Value
	wg.Go(func() {
		hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login",
				strings.NewReader(url.Values{"email": {fmt.Sprintf("load%d@example.com", i)}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", srv.URL)
			res, err := hc.Do(req)
			if err != nil {
				writeErr.Store(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				writeErr.Store(fmt.Errorf("POST /login: status %d", res.StatusCode))
				return
			}
			committed.Add(1)
		}
	})
	for committed.Load() < 20 {
		if err := writeErr.Load(); err != nil {
			t.Fatalf("writer: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	backup := filepath.Join(dir, "backups", "live.db")
	before := committed.Load()
	res := runAtrium(t, env, "backup", "--out", backup)
	during := committed.Load() - before
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err := writeErr.Load(); err != nil {
		t.Fatalf("the app failed a write during the backup: %v", err)
	}
	if res.Code != 0 {
		t.Fatalf("backup while serving: exit status %d\n%s", res.Code, res.Output())
	}
	t.Logf("%d sign-ins committed before the backup, %d while it ran", before, during)
	if _, err := ops.CheckSQLiteFile(context.Background(), backup); err != nil {
		t.Fatalf("the backup fails its check: %v", err)
	}
	tokens := countFileRows(t, backup, "login_tokens")
	if tokens < before {
		t.Errorf("the backup holds %d login tokens; %d were committed before it started", tokens, before)
	}

	res = runAtrium(t, env, "restore", backup)
	if res.Code != 1 {
		t.Fatalf("restore while serving: exit status %d, want 1\n%s", res.Code, res.Output())
	}
	if want := fmt.Sprintf("process %d has %s open", srv.cmd.Process.Pid, live); !strings.Contains(res.Stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
	}
	if pre, _ := filepath.Glob(live + ".*.pre-restore"); len(pre) > 0 {
		t.Errorf("a refused restore left %v", pre)
	}

	srv.Stop(t)
	res = runAtrium(t, env, "restore", backup)
	if res.Code != 0 {
		t.Fatalf("restore after stopping the app: exit status %d\n%s", res.Code, res.Output())
	}
	pre, _ := filepath.Glob(live + ".*.pre-restore")
	if len(pre) != 1 {
		t.Fatalf("pre-restore copies %v, want one", pre)
	}
	if got := countRows(t, env["DATABASE_URL"], "login_tokens"); got != tokens {
		t.Errorf("restored database has %d login tokens, the backup %d", got, tokens)
	}
	if got, total := countFileRows(t, pre[0], "login_tokens"), committed.Load(); got < total {
		t.Errorf("the pre-restore copy has %d login tokens; the app committed %d", got, total)
	}
	if res := runAtrium(t, env, "doctor"); res.Code != 0 {
		t.Errorf("doctor after the restore: exit status %d\n%s", res.Code, res.Output())
	}
}

func countRows(t *testing.T, dbURL, table string) int64 {
	t.Helper()
	cfg, err := config.Load(config.Env{"DATABASE_URL": dbURL})
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDB(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s of %s: %v", table, dbURL, err)
	}
	return n
}

// countFileRows counts a table's rows in a SQLite file without changing
// it (opening it as the app does would switch it to WAL mode).
func countFileRows(t *testing.T, path, table string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s of %s: %v", table, path, err)
	}
	return n
}

// TestBackupRestore_Postgres backs a Postgres schema up with pg_dump and
// restores it into a new, empty database; a database with tables is never
// overwritten.
func TestBackupRestore_Postgres(t *testing.T) {
	t.Parallel()
	base := storetest.PostgresURL(t)
	if base == "" {
		t.Skip("TEST_DATABASE_URL is not set: skipping the Postgres backup")
	}
	if _, err := exec.LookPath("pg_dump"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but pg_dump is not installed: the Postgres backup must be tested in CI")
		}
		t.Skip("pg_dump is not installed: skipping the Postgres backup")
	}
	dir := t.TempDir()
	path := os.Getenv("PATH")
	src := config.Env{"DATABASE_URL": databaseURL(t, store.Postgres), "PATH": path}
	if res := runAtrium(t, src, "seed"); res.Code != 0 {
		t.Fatalf("seed: %s", res.Output())
	}
	dump := filepath.Join(dir, "pg.dump")
	res := runAtrium(t, src, "backup", "--out", dump)
	if res.Code != 0 {
		t.Fatalf("backup: exit status %d\n%s", res.Code, res.Output())
	}
	for _, want := range []string{"pg_dump custom format", "Integrity check: ok (pg_restore --list", "Checksum: " + dump + ".sha256"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("backup output lacks %q:\n%s", want, res.Stdout)
		}
	}

	// The dump holds a schema (storetest's search_path); restore it into a
	// new database under the same search_path.
	u, _ := url.Parse(src["DATABASE_URL"])
	schema := u.Query().Get("search_path")
	target, _ := url.Parse(newPostgresDatabase(t, base))
	q := target.Query()
	q.Set("search_path", schema)
	target.RawQuery = q.Encode()
	dst := config.Env{"DATABASE_URL": target.String(), "PATH": path}
	res = runAtrium(t, dst, "restore", dump)
	if res.Code != 0 {
		t.Fatalf("restore: exit status %d\n%s", res.Code, res.Output())
	}
	for _, table := range []string{"users", "workspaces", "invites", "audit_logs"} {
		if got, want := countRows(t, dst["DATABASE_URL"], table), countRows(t, src["DATABASE_URL"], table); got != want || got == 0 {
			t.Errorf("%s: %d rows restored, %d in the source", table, got, want)
		}
	}
	if res := runAtrium(t, dst, "doctor"); res.Code != 0 {
		t.Errorf("doctor on the restored database: exit status %d\n%s", res.Code, res.Output())
	}
	res = runAtrium(t, dst, "restore", dump)
	if res.Code != 1 || !strings.Contains(res.Stderr, "a restore never overwrites one") {
		t.Errorf("restore into a database with tables: exit status %d, want 1 with a refusal\n%s", res.Code, res.Output())
	}

	noTools := config.Env{"DATABASE_URL": src["DATABASE_URL"], "PATH": t.TempDir()}
	res = runAtrium(t, noTools, "backup", "--out", filepath.Join(dir, "none.dump"))
	if res.Code != 1 || !strings.Contains(res.Stderr, "pg_dump is not installed or not on PATH") {
		t.Errorf("backup without pg_dump: exit status %d, want 1 with a clear line\n%s", res.Code, res.Output())
	}
}

// TestPGToolConn checks that pg_dump gets a URL libpq accepts, without the
// password.
func TestPGToolConn(t *testing.T) {
	t.Parallel()
	c, err := pgToolConn("postgres://atrium:s3cret@db.example.com:5432/atrium?sslmode=require&search_path=tenant1&pool_max_conns=4")
	if err != nil {
		t.Fatal(err)
	}
	want := pgConn{URL: "postgres://atrium@db.example.com:5432/atrium?sslmode=require", Password: "s3cret", Schema: "tenant1"}
	if c != want {
		t.Errorf("pgToolConn = %+v, want %+v", c, want)
	}
}

// TestOpsCommands_Usage checks the new commands' help and usage errors.
func TestOpsCommands_Usage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"seed", "--help"}, 0, "Usage: atrium seed [--force]"},
		{[]string{"backup", "--help"}, 0, "Usage: atrium backup [--out FILE]"},
		{[]string{"restore", "--help"}, 0, "Usage: atrium restore [--force] FILE"},
		{[]string{"doctor", "--help"}, 0, "Usage: atrium doctor [--send-test-invite EMAIL]"},
		{[]string{"help"}, 0, "doctor         run the routine checks"},
		{[]string{"seed", "now"}, 2, "atrium: seed takes no arguments"},
		{[]string{"backup", "x.db"}, 2, "atrium: backup takes no arguments (use --out FILE)"},
		{[]string{"restore"}, 2, "atrium: restore needs one backup file: atrium restore FILE"},
		{[]string{"doctor", "extra"}, 2, "atrium: doctor takes no arguments"},
		{[]string{"restore", "/no/such/backup.db"}, 1, "atrium: no backup file at /no/such/backup.db"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			res := runAtrium(t, config.Env{}, tc.args...)
			if res.Code != tc.code || !strings.Contains(res.Output(), tc.want) {
				t.Errorf("exit status %d, want %d with %q:\n%s", res.Code, tc.code, tc.want, res.Output())
			}
		})
	}
}
