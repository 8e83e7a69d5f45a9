package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"atrium/internal/config"
	"atrium/migrations"
)

// syncBuffer is a bytes.Buffer that a running server may write to while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// result is what one call of run left behind.
type result struct {
	Stdout, Stderr string
	Err            error
	// Code is the exit status main would use; exitCode's own message is
	// part of Stderr.
	Code int
}

// Output returns stdout and stderr together, for searches that do not care
// which stream a line went to.
func (r result) Output() string { return r.Stdout + r.Stderr }

// runAtrium runs the command line args (after "--env-file=", so no .env
// file is read) with env as the whole environment, and maps the error to an
// exit status as main does.
func runAtrium(t *testing.T, env config.Env, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), append([]string{"--env-file="}, args...), env, &stdout, &stderr)
	code := exitCode(err, &stderr)
	return result{Stdout: stdout.String(), Stderr: stderr.String(), Err: err, Code: code}
}

func TestRun_Help(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want []string // substrings of the output
	}{
		{"Help", []string{"help"}, []string{"Usage:\n  atrium [--env-file FILE] <command> [flags]", "serve", "migrate", "check-config", "version"}},
		{"HelpFlag", []string{"--help"}, []string{"Usage:\n  atrium [--env-file FILE] <command> [flags]"}},
		{"ServeHelp", []string{"serve", "--help"}, []string{"Usage: atrium serve"}},
		{"MigrateHelp", []string{"migrate", "--help"}, []string{"Usage: atrium migrate up|down|status", "status  list migrations"}},
		{"CheckConfigHelp", []string{"check-config", "--help"}, []string{"Usage: atrium check-config [--guard | --production]", "-guard", "-production"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runAtrium(t, config.Env{}, tc.args...)
			if res.Code != 0 {
				t.Fatalf("exit status %d (err %v), want 0\n%s", res.Code, res.Err, res.Output())
			}
			for _, want := range tc.want {
				if !strings.Contains(res.Output(), want) {
					t.Errorf("output lacks %q:\n%s", want, res.Output())
				}
			}
			if strings.Contains(res.Output(), "atrium: ") {
				t.Errorf("help printed an error:\n%s", res.Output())
			}
		})
	}
}

func TestRun_Version(t *testing.T) {
	t.Parallel()
	res := runAtrium(t, config.Env{}, "version")
	if got, want := res.Stdout, "atrium "+version+"\n"; res.Code != 0 || got != want {
		t.Fatalf("version: status %d, stdout %q, want 0, %q", res.Code, got, want)
	}
}

// TestRun_UsageErrors checks that mistakes in how atrium is called exit
// with status 2 and a message that names the mistake.
func TestRun_UsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"UnknownCommand", []string{"frobnicate"}, `atrium: unknown command "frobnicate"`},
		{"UnknownMigrateAction", []string{"migrate", "sideways"}, `atrium: migrate: unknown action "sideways" (want up, down or status)`},
		{"MigrateWithoutAction", []string{"migrate"}, "atrium: migrate needs one of: up, down, status"},
		{"MigrateTwoActions", []string{"migrate", "up", "down"}, "atrium: migrate needs one of: up, down, status"},
		{"ServeArgument", []string{"serve", "now"}, "atrium: serve takes no arguments"},
		{"UnknownGlobalFlag", []string{"--verbose", "serve"}, "atrium: flag provided but not defined: -verbose"},
		{"UnknownCommandFlag", []string{"check-config", "--strict"}, "atrium: check-config: flag provided but not defined: -strict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runAtrium(t, config.Env{}, tc.args...)
			var ue *usageError
			if !errors.As(res.Err, &ue) {
				t.Fatalf("err=%v, want a usage error", res.Err)
			}
			if got, want := res.Code, 2; got != want {
				t.Fatalf("exit status %d, want %d", got, want)
			}
			if !strings.Contains(res.Stderr, tc.want+"\n") {
				t.Errorf("stderr lacks %q:\n%s", tc.want, res.Stderr)
			}
			if !strings.Contains(res.Stderr, "Run 'atrium help' for usage.") {
				t.Errorf("stderr does not point to 'atrium help':\n%s", res.Stderr)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		err        error
		wantCode   int
		wantStderr string
	}{
		{"Nil", nil, 0, ""},
		{"Help", flag.ErrHelp, 0, ""},
		{"Usage", usagef("unknown command %q", "x"), 2, "atrium: unknown command \"x\"\nRun 'atrium help' for usage.\n"},
		{"WrappedUsage", fmt.Errorf("parse: %w", usagef("bad")), 2, "atrium: bad\nRun 'atrium help' for usage.\n"},
		{"Silent", errSilent, 1, ""},
		{"WrappedSilent", fmt.Errorf("check: %w", errSilent), 1, ""},
		{"Failure", errors.New("open database: boom"), 1, "atrium: open database: boom\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			if got := exitCode(tc.err, &stderr); got != tc.wantCode {
				t.Errorf("exitCode(%v)=%d, want %d", tc.err, got, tc.wantCode)
			}
			if got := stderr.String(); got != tc.wantStderr {
				t.Errorf("stderr=%q, want %q", got, tc.wantStderr)
			}
		})
	}
}

// TestCheckConfig_OK checks that a good configuration passes and that the
// settings it prints never include a secret.
func TestCheckConfig_OK(t *testing.T) {
	t.Parallel()
	secrets := []string{"smtp-pa55word", "sk_test_51Hsecretkey", "whsec_webhooksecret", "pgPa55word", "redisPa55"}
	env := config.Env{
		"APP_URL":               "https://atrium.example.com",
		"DATABASE_URL":          "postgres://atrium:pgPa55word@db.example.com:5432/atrium?sslmode=require",
		"SMTP_HOST":             "smtp.example.com",
		"SMTP_USERNAME":         "mailer",
		"SMTP_PASSWORD":         "smtp-pa55word",
		"STRIPE_SECRET_KEY":     "sk_test_51Hsecretkey",
		"STRIPE_WEBHOOK_SECRET": "whsec_webhooksecret",
		"REDIS_URL":             "redis://:redisPa55@cache.example.com:6379/0",
		"PUBLIC_APP_NAME":       "Acme",
	}
	res := runAtrium(t, env, "check-config")
	if res.Code != 0 {
		t.Fatalf("exit status %d (err %v), want 0\n%s", res.Code, res.Err, res.Output())
	}
	if !strings.HasSuffix(res.Stdout, "Configuration OK.\n") {
		t.Errorf("stdout does not end with \"Configuration OK.\":\n%s", res.Stdout)
	}
	for _, want := range []string{
		"postgres (postgres://atrium:xxxxx@db.example.com:5432/atrium?sslmode=require)",
		"smtp smtp.example.com:587 (TLS mandatory)",
		"billing               test mode",
		"(redis store)",
		"PUBLIC_APP_NAME       Acme",
		"passkeys for atrium.example.com; authenticator secrets sealed with a key kept in the database",
	} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
		}
	}
	// Passkeys cannot belong to an IP address; the summary says so.
	env["APP_URL"], env["TWO_FACTOR_KEY"] = "http://192.0.2.10:8080", strings.Repeat("k", 32)
	if res := runAtrium(t, env, "check-config"); !strings.Contains(res.Stdout, "passkeys OFF (APP_URL's host is an IP address") ||
		!strings.Contains(res.Stdout, "sealed with TWO_FACTOR_KEY") || strings.Contains(res.Output(), strings.Repeat("k", 32)) {
		t.Errorf("check-config on an IP address with TWO_FACTOR_KEY:\n%s", res.Output())
	}
	for _, s := range secrets {
		if strings.Contains(res.Output(), s) {
			t.Errorf("output shows the secret %q:\n%s", s, res.Output())
		}
	}
}

// TestCheckConfig_Invalid checks that every bad variable gets its own line
// naming it, and that the command fails.
func TestCheckConfig_Invalid(t *testing.T) {
	t.Parallel()
	env := config.Env{
		"RATE_LIMIT_MAX": "abc",
		"DATABASE_URL":   "postgres://atrium:pgPa55word@[db.example.com:5432/atrium", // unparsable host
	}
	res := runAtrium(t, env, "check-config")
	if res.Code != 1 {
		t.Fatalf("exit status %d (err %v), want 1\n%s", res.Code, res.Err, res.Output())
	}
	if strings.Contains(res.Stdout, "Configuration OK") {
		t.Errorf("stdout says the configuration is OK:\n%s", res.Stdout)
	}
	problems := problemLines(t, res.Stderr)
	if got, want := len(problems), 2; got != want {
		t.Fatalf("%d problem lines, want %d:\n%s", got, want, res.Stderr)
	}
	for _, name := range []string{"RATE_LIMIT_MAX", "DATABASE_URL"} {
		if !slices.ContainsFunc(problems, func(l string) bool { return strings.HasPrefix(l, name+"=") }) {
			t.Errorf("no problem line names %s:\n%s", name, res.Stderr)
		}
	}
	if !slices.Contains(problems, `RATE_LIMIT_MAX="abc": expected a whole number of requests, at least 10`) {
		t.Errorf("RATE_LIMIT_MAX line is not the documented one:\n%s", res.Stderr)
	}
	if strings.Contains(res.Output(), "pgPa55word") {
		t.Errorf("output shows the database password:\n%s", res.Output())
	}
}

// problemLines returns the indented lines between "the configuration is not
// valid:" and the closing hint, trimmed.
func problemLines(t *testing.T, stderr string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(stderr, "atrium: the configuration is not valid:\n")
	if !ok {
		t.Fatalf("stderr does not say the configuration is not valid:\n%s", stderr)
	}
	rest, _, ok = strings.Cut(rest, "Fix the variables above")
	if !ok {
		t.Fatalf("stderr lacks the closing hint:\n%s", stderr)
	}
	var lines []string
	for l := range strings.Lines(rest) {
		if !strings.HasPrefix(l, "  ") {
			t.Errorf("problem line %q is not indented", l)
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	return lines
}

// TestCheckConfig_Guard checks the secret guard, on its own (--guard, as
// make build runs it) and as part of the full check.
func TestCheckConfig_Guard(t *testing.T) {
	t.Parallel()
	const guardLine = "Build guard detected server-only secrets: PUBLIC_STRIPE_SECRET_KEY\n"
	leaky := config.Env{"PUBLIC_STRIPE_SECRET_KEY": "sk_live_x", "PUBLIC_SUPPORT_EMAIL": "help@example.com"}
	for _, tc := range []struct {
		name       string
		env        config.Env
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring
	}{
		{"Full", leaky, []string{"check-config"}, 1, "", guardLine},
		{"GuardOnly", leaky, []string{"check-config", "--guard"}, 1, "", guardLine},
		{"GuardOnlyClean", config.Env{"PUBLIC_STRIPE_PUBLISHABLE_KEY": "pk_live_x"}, []string{"check-config", "--guard"}, 0,
			"Secret guard: no PUBLIC_* variable looks like a secret.\n", ""},
		// The guard alone looks only at PUBLIC_* variables: make build
		// must not need the production settings.
		{"GuardOnlyIgnoresOtherProblems", config.Env{"RATE_LIMIT_MAX": "abc"}, []string{"check-config", "--guard"}, 0,
			"Secret guard: no PUBLIC_* variable looks like a secret.\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runAtrium(t, tc.env, tc.args...)
			if res.Code != tc.wantCode {
				t.Fatalf("exit status %d (err %v), want %d\n%s", res.Code, res.Err, tc.wantCode, res.Output())
			}
			if !strings.Contains(res.Stdout, tc.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantStdout, res.Stdout)
			}
			if !strings.Contains(res.Stderr, tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, res.Stderr)
			}
			if strings.Contains(res.Output(), "sk_live_x") {
				t.Errorf("output shows the secret value:\n%s", res.Output())
			}
		})
	}
}

// TestServe_ProductionNeedsSMTP checks that serve refuses to run in
// production in mail stub mode, before it touches the database.
func TestServe_ProductionNeedsSMTP(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "data", "atrium.db")
	env := config.Env{"APP_ENV": "production", "DATABASE_URL": "sqlite:" + dbPath, "PORT": "0"}
	res := runAtrium(t, env, "serve")
	if res.Code != 1 {
		t.Fatalf("exit status %d (err %v), want 1\n%s", res.Code, res.Err, res.Output())
	}
	if want := "  SMTP_HOST: required when APP_ENV=production"; !strings.Contains(res.Stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
	}
	if strings.Contains(res.Output(), "server started") {
		t.Errorf("the server started:\n%s", res.Output())
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the database file exists (stat err %v); serve should stop before opening it", err)
	}
}

// TestMigrate walks a fresh SQLite file through status, up, up again, down
// and status.
func TestMigrate(t *testing.T) {
	t.Parallel()
	versions := migrationVersions(t)
	newest := versions[len(versions)-1]
	dbPath := filepath.Join(t.TempDir(), "data", "x.db") // the folder does not exist yet
	env := config.Env{"DATABASE_URL": "sqlite:" + dbPath}
	migrate := func(action string) string {
		t.Helper()
		res := runAtrium(t, env, "migrate", action)
		if res.Code != 0 {
			t.Fatalf("migrate %s: exit status %d (err %v)\n%s", action, res.Code, res.Err, res.Output())
		}
		if want := "Database: sqlite:" + dbPath + "\n"; !strings.HasPrefix(res.Stdout, want) {
			t.Errorf("migrate %s: stdout does not start with %q:\n%s", action, want, res.Stdout)
		}
		return res.Stdout
	}
	allIn := func(state string) map[int64]string {
		m := make(map[int64]string)
		for _, v := range versions {
			m[v] = state
		}
		return m
	}

	out := migrate("status")
	assertStates(t, "status before up", out, allIn("pending"))
	if want := fmt.Sprintf("%d pending: run 'atrium migrate up'", len(versions)); !strings.Contains(out, want) {
		t.Errorf("status lacks %q:\n%s", want, out)
	}

	out = migrate("up")
	assertStates(t, "up", out, allIn("applied"))
	if want := fmt.Sprintf("Applied %d migration(s). The database is up to date.", len(versions)); !strings.Contains(out, want) {
		t.Errorf("up lacks %q:\n%s", want, out)
	}

	out = migrate("up")
	assertStates(t, "second up", out, map[int64]string{})
	if want := "Nothing to apply: the database is up to date."; !strings.Contains(out, want) {
		t.Errorf("second up lacks %q:\n%s", want, out)
	}

	out = migrate("down")
	if want := fmt.Sprintf("  rolled back %05d ", newest); !strings.Contains(out, want) {
		t.Errorf("down lacks %q:\n%s", want, out)
	}
	if got := strings.Count(out, "rolled back"); got != 1 {
		t.Errorf("down rolled back %d migrations, want 1:\n%s", got, out)
	}

	out = migrate("status")
	want := allIn("applied")
	want[newest] = "pending"
	assertStates(t, "status after down", out, want)
	if want := "1 pending: run 'atrium migrate up'"; !strings.Contains(out, want) {
		t.Errorf("status lacks %q:\n%s", want, out)
	}
}

// migrationVersions returns the versions of the embedded SQLite migrations,
// in order.
func migrationVersions(t *testing.T) []int64 {
	t.Helper()
	fsys, err := migrations.FS("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for _, n := range names {
		prefix, _, _ := strings.Cut(n, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %q: no version prefix", n)
		}
		versions = append(versions, v)
	}
	if len(versions) == 0 {
		t.Fatal("no SQLite migrations embedded")
	}
	goMigrations, err := migrations.Go("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range goMigrations {
		versions = append(versions, m.Version)
	}
	slices.Sort(versions)
	return versions
}

// assertStates checks the "  STATE VERSION NAME" lines of a migrate
// command's output against want, version by version.
func assertStates(t *testing.T, what, out string, want map[int64]string) {
	t.Helper()
	got := make(map[int64]string)
	for l := range strings.Lines(out) {
		f := strings.Fields(l)
		if len(f) != 3 || (f[0] != "applied" && f[0] != "pending") {
			continue
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Errorf("%s: line %q has no version", what, l)
			continue
		}
		got[v] = f[0]
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d migration lines, want %d:\n%s", what, len(got), len(want), out)
	}
	for v, state := range want {
		if got[v] != state {
			t.Errorf("%s: migration %05d is %q, want %q:\n%s", what, v, got[v], state, out)
		}
	}
}
