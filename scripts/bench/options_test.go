package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"atrium/internal/store"
)

func TestParseOptions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		db      string
		seconds time.Duration
		out     string
		rounds  int
	}{
		{name: "Defaults", db: "sqlite", seconds: 8 * time.Second, out: "tmp/bench/results.json"},
		{name: "Environment", env: map[string]string{"BENCH_DB": "postgres", "BENCH_SECONDS": "2.5", "TEST_DATABASE_URL": "postgres://x/y"},
			db: "postgres", seconds: 2500 * time.Millisecond, out: "tmp/bench/results-postgres.json"},
		{name: "FlagOverEnvironment", args: []string{"-seconds", "1", "-dir", "d"}, env: map[string]string{"BENCH_SECONDS": "20"},
			db: "sqlite", seconds: time.Second, out: "d/results.json"},
		{name: "ABDefaults", args: []string{"-vs", "/tmp/atrium-old"}, db: "sqlite", seconds: 8 * time.Second, out: "tmp/bench/ab.json", rounds: 3},
		{name: "ABPostgres", args: []string{"-vs", "old", "-rounds", "5", "-db", "postgres"}, env: map[string]string{"TEST_DATABASE_URL": "postgres://x/y"},
			db: "postgres", seconds: 8 * time.Second, out: "tmp/bench/ab-postgres.json", rounds: 5},
		{name: "NoRounds", args: []string{"-vs", "old", "-rounds", "0"}, wantErr: "-rounds 0"},
		{name: "PostgresWithoutURL", env: map[string]string{"BENCH_DB": "postgres"}, wantErr: "needs TEST_DATABASE_URL"},
		{name: "BadSeconds", env: map[string]string{"BENCH_SECONDS": "soon"}, wantErr: `BENCH_SECONDS="soon"`},
		{name: "UnknownVolume", args: []string{"-volume", "huge"}, wantErr: `Unknown volume "huge"`},
		{name: "UnknownDB", env: map[string]string{"BENCH_DB": "mysql"}, wantErr: `unknown database "mysql"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseOptions(c.args, func(k string) string { return c.env[k] }, io.Discard)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.rounds != 0 && o.rounds != c.rounds {
				t.Errorf("rounds=%d, want %d", o.rounds, c.rounds)
			}
			if o.db != c.db || o.seconds != c.seconds || o.out != c.out || o.conns != 32 || o.volume.Name != "large" {
				t.Errorf("db=%q seconds=%v out=%q conns=%d volume=%q; want %q, %v, %q, 32, large",
					o.db, o.seconds, o.out, o.conns, o.volume.Name, c.db, c.seconds, c.out)
			}
		})
	}
	if _, err := selectScenarios([]string{"landing", "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("selectScenarios with an unknown name: err = %v", err)
	}
}

// TestScenarios checks the catalog: unique names, at most one way of
// signing in each, and the PostgreSQL cap on every target that reads
// as someone (a session or an API key) against the bare baseline (a
// scenario measured against Atrium itself, versus, keeps its target).
func TestScenarios(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, sc := range scenarios() {
		if seen[sc.name] {
			t.Errorf("scenario %s listed twice", sc.name)
		}
		seen[sc.name] = true
		if sc.signedIn && sc.apiKey {
			t.Errorf("%s: both a session and an API key", sc.name)
		}
		want := sc.minRatio
		if (sc.signedIn || sc.apiKey) && sc.versus == nil {
			want = min(sc.minRatio, postgresSignedInRatio)
		}
		if got := sc.target(store.Postgres); got != want {
			t.Errorf("%s: target on postgres = %v, want %v", sc.name, got, want)
		}
		if got := sc.target(store.SQLite); got != sc.minRatio {
			t.Errorf("%s: target on sqlite = %v, want %v", sc.name, got, sc.minRatio)
		}
	}
	sc, err := selectScenarios([]string{"api_members"})
	if err != nil || len(sc) != 1 || !sc[0].apiKey || sc[0].signedIn {
		t.Fatalf("api_members: %+v, %v; want one scenario that sends the API key and no session", sc, err)
	}
}
