package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// buildAtrium builds the binary the way make bench does (without the race
// detector, whatever the test runs with).
func buildAtrium(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build atrium")
	}
	bin := filepath.Join(t.TempDir(), "atrium")
	cmd := exec.Command(goBin, "build", "-o", bin, "./cmd/atrium")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/atrium: %v\n%s", err, out)
	}
	return bin
}

// TestBench_Small runs the whole harness for one second per scenario on
// the small data set, so that make bench keeps working: every scenario
// answers without errors, and every accepted webhook and magic-link
// request is stored exactly once. No speed is asserted.
func TestBench_Small(t *testing.T) {
	if testing.Short() {
		t.Skip("the HTTP benchmark harness takes about 20 s per database")
	}
	bin := buildAtrium(t)
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"BENCH_DB": dialect, "BENCH_SECONDS": "1"}
			args := []string{"-bin", bin, "-volume", "small", "-dir", dir}
			if dialect == store.Postgres {
				env["TEST_DATABASE_URL"] = storetest.PostgresURL(t)
				prefix := "atrium_benchtest_" + randomHex(t)
				args = append(args, "-pg-prefix", prefix)
				t.Cleanup(func() { dropBenchDatabases(t, env["TEST_DATABASE_URL"], prefix) })
			}
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if err := run(ctx, args, func(k string) string { return env[k] }, &out, &out); err != nil {
				t.Fatalf("bench: %v\n%s", err, out.String())
			}
			name := "results.json"
			if dialect == store.Postgres {
				name = "results-postgres.json"
			}
			checkResults(t, filepath.Join(dir, name), dialect, out.String())

			var md bytes.Buffer
			if err := run(ctx, []string{"-markdown", filepath.Join(dir, name)}, func(string) string { return "" }, &md, &md); err != nil {
				t.Fatalf("-markdown: %v", err)
			}
			for _, sc := range scenarios() {
				if !strings.Contains(md.String(), "| `"+sc.name+"` |") {
					t.Errorf("-markdown table lacks a row for %s:\n%s", sc.name, md.String())
				}
			}

			// A second run reuses the cached data set on a fresh copy.
			out.Reset()
			if err := run(ctx, append(args, "-scenarios", "webhook"), func(k string) string { return env[k] }, &out, &out); err != nil {
				t.Fatalf("second bench run: %v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "reusing the cached data set") || strings.Contains(out.String(), "seeding the") {
				t.Errorf("the second run did not reuse the cached data set:\n%s", out.String())
			}
		})
	}
}

func checkResults(t *testing.T, path, dialect, output string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read results: %v\n%s", err, output)
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("results file is not JSON: %v\n%s", err, b)
	}
	if res.DB != dialect || res.Cores != runtime.NumCPU() || res.ReadyMS <= 0 {
		t.Errorf("db=%q cores=%d ready_ms=%d, want %q, %d, > 0", res.DB, res.Cores, res.ReadyMS, dialect, runtime.NumCPU())
	}
	if runtime.GOOS == "linux" && res.PeakRSSMB <= 0 {
		t.Errorf("peak_rss_mb=%v, want the server's VmHWM", res.PeakRSSMB)
	}
	got := map[string]scenarioResult{}
	for _, r := range res.Scenarios {
		got[r.Name] = r
	}
	for _, sc := range scenarios() {
		r, ok := got[sc.name]
		if !ok {
			t.Errorf("scenario %s missing from the results", sc.name)
			continue
		}
		if r.RPS <= 0 || r.BaselineRPS <= 0 || r.Errors != 0 || r.P99MS <= 0 || r.TargetRatio != sc.target(dialect) {
			t.Errorf("%s: rps=%v baseline_rps=%v errors=%d p99_ms=%v target_ratio=%v; want rps > 0, no errors, target %v",
				sc.name, r.RPS, r.BaselineRPS, r.Errors, r.P99MS, r.TargetRatio, sc.target(dialect))
		}
		if runtime.GOOS == "linux" && r.CPUUSPerReq <= 0 {
			t.Errorf("%s: cpu_us_per_request=%v, want the server's CPU time per request", sc.name, r.CPUUSPerReq)
		}
		if sc.stored == nil {
			continue
		}
		if r.ExactlyOnce == nil || !*r.ExactlyOnce || r.Accepted == nil || *r.Accepted == 0 || len(r.Stored) == 0 {
			t.Errorf("%s: accepted=%v stored=%v exactly_once=%v; want every accepted request stored once", sc.name,
				deref(r.Accepted), r.Stored, r.ExactlyOnce)
			continue
		}
		for table, n := range r.Stored {
			if n != *r.Accepted {
				t.Errorf("%s: %d rows in %s for %d accepted requests", sc.name, n, table, *r.Accepted)
			}
		}
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// dropBenchDatabases drops the cached and working databases the harness
// created under prefix.
func dropBenchDatabases(t *testing.T, base, prefix string) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Errorf("open TEST_DATABASE_URL: %v", err)
		return
	}
	defer admin.Close()
	rows, err := admin.Query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix)
	if err != nil {
		t.Errorf("list databases: %v", err)
		return
	}
	var names []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			names = append(names, n)
		}
	}
	rows.Close()
	for _, n := range names {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + n + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", n, err)
		}
	}
}
