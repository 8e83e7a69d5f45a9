package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestBench_AB runs the A/B mode with the same binary on both sides, on
// the small data set for half a second per round: the results name every
// scenario with both sides' figures, and both sides stored each accepted
// request exactly once. How the two compare is noise and is not asserted.
func TestBench_AB(t *testing.T) {
	if testing.Short() {
		t.Skip("the A/B harness takes about 30 s per database")
	}
	bin := buildAtrium(t)
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"BENCH_DB": dialect}
			args := []string{"-bin", bin, "-vs", bin, "-volume", "small", "-dir", dir, "-seconds", "0.5", "-rounds", "2"}
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
				t.Fatalf("bench -vs: %v\n%s", err, out.String())
			}
			// One binary, one schema: B reuses the data set A seeded, on a
			// working copy of its own.
			if n := strings.Count(out.String(), "seeding the"); n != 1 || !strings.Contains(out.String(), "reusing the cached data set") {
				t.Errorf("A and B should share one seeded data set (seeded %d times):\n%s", n, out.String())
			}
			name := "ab.json"
			if dialect == store.Postgres {
				name = "ab-postgres.json"
			}
			checkABResults(t, filepath.Join(dir, name), dialect, out.String())
		})
	}
}

func checkABResults(t *testing.T, path, dialect, output string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read results: %v\n%s", err, output)
	}
	var res abResults
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("results file is not JSON: %v\n%s", err, b)
	}
	if res.DB != dialect || res.Rounds != 2 || res.Seconds != 0.5 {
		t.Errorf("db=%q rounds=%d seconds=%v, want %q, 2, 0.5", res.DB, res.Rounds, res.Seconds, dialect)
	}
	onLinux := runtime.GOOS == "linux"
	for _, side := range []abBinary{res.A, res.B} {
		if side.Bin == "" || !strings.HasPrefix(side.Schema, "m") || side.ReadyMS <= 0 || (onLinux && side.PeakRSSMB <= 0) {
			t.Errorf("binary %+v: want its path, schema m<newest migration>, ready_ms > 0 and peak_rss_mb > 0", side)
		}
	}
	got := map[string]abScenario{}
	for _, r := range res.Scenarios {
		got[r.Name] = r
	}
	for _, sc := range scenarios() {
		r, ok := got[sc.name]
		if !ok {
			t.Errorf("scenario %s missing from the results", sc.name)
			continue
		}
		if r.Ratio <= 0 || (onLinux && r.CPURatio <= 0) {
			t.Errorf("%s: ratio=%v cpu_ratio=%v, want both > 0", sc.name, r.Ratio, r.CPURatio)
		}
		for name, f := range map[string]abFigures{"A": r.A, "B": r.B} {
			if f.RPS <= 0 || len(f.RoundsRPS) != 2 || f.P99MS <= 0 || f.Errors != 0 || (onLinux && f.CPUUSPerReq <= 0) {
				t.Errorf("%s, %s: rps=%v rounds_rps=%v p99_ms=%v errors=%d cpu_us_per_request=%v; want positive figures for 2 rounds, no errors",
					sc.name, name, f.RPS, f.RoundsRPS, f.P99MS, f.Errors, f.CPUUSPerReq)
			}
			if sc.stored != nil && (f.ExactlyOnce == nil || !*f.ExactlyOnce || deref(f.Accepted) <= 0) {
				t.Errorf("%s, %s: accepted=%v stored=%v exactly_once=%v; want every accepted request stored once",
					sc.name, name, deref(f.Accepted), f.Stored, f.ExactlyOnce)
			}
		}
	}
}
