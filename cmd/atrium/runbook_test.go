package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"atrium/internal/store/storetest"
)

// buildAtrium builds the atrium binary into a fresh folder and returns
// the folder, to put first on PATH.
func buildAtrium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the atrium binary; skipped with -short")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "atrium"), "-ldflags", "-X main.version=test", ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// runbookBlock is a fenced code block of RUNBOOK.md marked runnable.
type runbookBlock struct {
	Line     int // of the opening fence
	Postgres bool
	Script   string
}

// runbookBlocks returns the runnable blocks of a Markdown file: fenced
// blocks whose info string is "bash runnable" (or "bash runnable
// postgres"), or which follow a "<!-- runnable -->" (or "<!-- runnable
// postgres -->") line.
func runbookBlocks(t *testing.T, path string) []runbookBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks  []runbookBlock
		cur     *runbookBlock
		inFence bool
		marker  string // the last non-blank line before a fence
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			if inFence {
				inFence = false
				if cur != nil {
					blocks = append(blocks, *cur)
					cur = nil
				}
				continue
			}
			inFence = true
			info := strings.Fields(strings.TrimPrefix(trimmed, "```"))
			comment := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(marker, "<!--"), "-->"))
			switch {
			case len(info) > 0 && info[0] == "bash" && slices.Contains(info, "runnable"):
				cur = &runbookBlock{Line: n, Postgres: slices.Contains(info, "postgres")}
			case strings.HasPrefix(marker, "<!--") && slices.Contains(comment, "runnable"):
				cur = &runbookBlock{Line: n, Postgres: slices.Contains(comment, "postgres")}
			}
			continue
		}
		if inFence {
			if cur != nil {
				cur.Script += line + "\n"
			}
			continue
		}
		if trimmed != "" {
			marker = trimmed
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if inFence {
		t.Fatalf("%s: a code fence is not closed", path)
	}
	return blocks
}

// runbookTools are the programs besides atrium that runnable blocks may
// call; a block that needs a missing one is skipped (failed under CI=true).
var runbookTools = []string{"sqlite3", "psql", "pg_dump", "pg_restore", "sha256sum", "unzip", "jq", "curl"}

// TestRunbook runs every runnable block of RUNBOOK.md, in order, with bash
// in a scratch folder: the freshly built atrium is on PATH, DATABASE_URL
// is sqlite:data/atrium.db (or a new Postgres database for blocks marked
// postgres), and no .env file exists. A block fails on its first failing
// command. This keeps the runbook's commands working as written.
func TestRunbook(t *testing.T) {
	blocks := runbookBlocks(t, filepath.Join("..", "..", "RUNBOOK.md"))
	var sqliteBlocks, pgBlocks []runbookBlock
	for _, b := range blocks {
		if b.Postgres {
			pgBlocks = append(pgBlocks, b)
		} else {
			sqliteBlocks = append(sqliteBlocks, b)
		}
	}
	if len(sqliteBlocks) < 8 || len(pgBlocks) < 2 {
		t.Fatalf("RUNBOOK.md has %d SQLite and %d Postgres runnable blocks; expected at least 8 and 2 (is the marker syntax intact?)",
			len(sqliteBlocks), len(pgBlocks))
	}
	bin := buildAtrium(t)

	t.Run("sqlite", func(t *testing.T) {
		runBlocks(t, bin, "sqlite:data/atrium.db", sqliteBlocks)
	})
	t.Run("postgres", func(t *testing.T) {
		base := storetest.PostgresURL(t)
		if base == "" {
			t.Skip("TEST_DATABASE_URL is not set: skipping the runbook's Postgres blocks")
		}
		runBlocks(t, bin, newPostgresDatabase(t, base), pgBlocks)
	})
}

// runBlocks runs blocks one after another in one scratch folder, after
// setting up what the runbook assumes: a deployed app's database, migrated
// and (here) seeded.
func runBlocks(t *testing.T, bin, databaseURL string, blocks []runbookBlock) {
	t.Helper()
	work := t.TempDir()
	env := []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + work,
		"TMPDIR=" + work,
		"LANG=C.UTF-8",
		"TZ=UTC",
		"DATABASE_URL=" + databaseURL,
		"APP_ENV=development",
	}
	setup := exec.Command(filepath.Join(bin, "atrium"), "seed")
	setup.Dir, setup.Env = work, env
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("set-up (atrium seed): %v\n%s", err, out)
	}
	for _, b := range blocks {
		if missing := missingTools(b.Script); len(missing) > 0 {
			msg := fmt.Sprintf("RUNBOOK.md:%d needs %s, which is not installed", b.Line, strings.Join(missing, ", "))
			if os.Getenv("CI") == "true" {
				t.Errorf("%s", msg)
			} else {
				t.Logf("skipping: %s", msg)
			}
			continue
		}
		script := filepath.Join(work, fmt.Sprintf(".runbook-%d.sh", b.Line))
		if err := os.WriteFile(script, []byte(b.Script), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-euo", "pipefail", script)
		cmd.Dir = work
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("RUNBOOK.md:%d: the block failed: %v\n--- block ---\n%s--- output ---\n%s", b.Line, err, b.Script, out)
		}
		t.Logf("RUNBOOK.md:%d ok\n%s", b.Line, out)
	}
}

// missingTools lists the programs of runbookTools the script calls that are
// not on PATH.
func missingTools(script string) []string {
	var missing []string
	for _, tool := range runbookTools {
		if regexp.MustCompile(`(^|[\s|;(&])` + tool + `\s`).MatchString(script) {
			if _, err := exec.LookPath(tool); err != nil {
				missing = append(missing, tool)
			}
		}
	}
	return missing
}

// newPostgresDatabase creates an empty database on the server of base and
// returns its URL; it is dropped when the test ends.
func newPostgresDatabase(t *testing.T, base string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "atrium_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		_ = admin.Close()
		t.Fatalf("CREATE DATABASE on TEST_DATABASE_URL: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		_ = admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

// TestRunbook_MakeTargets checks that every "make TARGET" RUNBOOK.md
// mentions is a target of the Makefile (with make -n, which runs nothing).
func TestRunbook_MakeTargets(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "RUNBOOK.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile("`make ([a-z][a-z-]*)").FindAllStringSubmatch(string(b), -1) {
		seen[m[1]] = true
	}
	for _, want := range []string{"dev", "lint", "typecheck", "test", "seed", "package", "backup"} {
		if !seen[want] {
			t.Errorf("RUNBOOK.md does not mention make %s", want)
		}
	}
	for target := range seen {
		cmd := exec.Command("make", "-n", target)
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("make -n %s: %v\n%s", target, err, out)
		}
	}
}
