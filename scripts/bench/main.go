// Command bench measures Atrium at production volume over real HTTP: it
// seeds (or reuses) the large data set, starts "atrium serve" on it and a
// bare net/http server that answers with the exact bytes Atrium returned,
// drives both with a closed-loop load generator, alternating, and reports
// each scenario's throughput and latency as ratios to that baseline.
//
// Usage: go run ./scripts/bench [flags]; "make bench" builds the binary
// first. BENCH_DB=postgres runs on TEST_DATABASE_URL; BENCH_SECONDS sets
// the seconds per scenario (default 8).
//
// With -vs OLD it compares two builds instead: each seeds and migrates its
// own data set, both serve at once, and every scenario alternates them for
// -rounds rounds; the report gives each one's median req/s, the ratio
// new/old and the server CPU time per request (see ab.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"atrium/internal/store"
	"atrium/internal/store/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		os.Exit(1)
	}
}

// options are the harness's settings, from flags and the environment.
type options struct {
	bin       string
	vs        string // the old binary of an A/B run ("" in the normal mode)
	rounds    int    // A/B rounds per scenario
	db        string // store.SQLite or store.Postgres
	pgURL     string // TEST_DATABASE_URL, for postgres
	pgPrefix  string // names the cached and working Postgres databases
	volume    demo.Volume
	seconds   time.Duration // per scenario: half baseline, half Atrium, alternated; per round and binary in an A/B run
	conns     int
	dir       string
	out       string
	scenarios []string
	markdown  bool
	files     []string
}

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.bin, "bin", "bin/atrium", "the atrium `binary` to run (the new one, B, of an A/B run)")
	fs.StringVar(&o.vs, "vs", "", "A/B mode: the old atrium `binary` (A) to compare -bin with, instead of the bare server")
	fs.IntVar(&o.rounds, "rounds", 3, "A/B mode: `rounds` per scenario, each running A and B for -seconds (ABBA order)")
	fs.StringVar(&o.db, "db", or(getenv("BENCH_DB"), store.SQLite), "`database`: sqlite or postgres (TEST_DATABASE_URL); default $BENCH_DB")
	fs.StringVar(&o.pgPrefix, "pg-prefix", "atrium_bench", "`prefix` of the Postgres databases the harness creates")
	volume := fs.String("volume", "large", "data set `size`: small or large")
	seconds := fs.Float64("seconds", 8, "`seconds` per scenario, baseline and Atrium each; default $BENCH_SECONDS or 8")
	fs.IntVar(&o.conns, "conns", 32, "concurrent `connections` of the load generator")
	fs.StringVar(&o.dir, "dir", filepath.Join("tmp", "bench"), "`folder` for the cached data set, the working database and results")
	fs.StringVar(&o.out, "out", "", "results `file` (default DIR/results.json, DIR/results-postgres.json on Postgres)")
	only := fs.String("scenarios", "", "comma-separated `names` to run (default all)")
	fs.BoolVar(&o.markdown, "markdown", false, "run nothing: print the results files named as arguments as a Markdown table (for README.md)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.markdown {
		o.files = fs.Args()
		return o, nil
	}
	if v := getenv("BENCH_SECONDS"); v != "" && !flagSet(fs, "seconds") {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return nil, fmt.Errorf("BENCH_SECONDS=%q: expected a positive number of seconds", v)
		}
		*seconds = f
	}
	o.seconds = time.Duration(*seconds * float64(time.Second))
	if o.seconds <= 0 {
		return nil, fmt.Errorf("-seconds %g: expected a positive number of seconds", *seconds)
	}
	if o.rounds < 1 {
		return nil, fmt.Errorf("-rounds %d: expected at least one round", o.rounds)
	}
	v, err := demo.FindVolume(*volume)
	if err != nil {
		return nil, err
	}
	o.volume = v
	switch o.db {
	case store.SQLite:
	case store.Postgres:
		o.pgURL = getenv("TEST_DATABASE_URL")
		if o.pgURL == "" {
			return nil, errors.New("BENCH_DB=postgres needs TEST_DATABASE_URL (a server where it may create databases)")
		}
	default:
		return nil, fmt.Errorf("unknown database %q: expected sqlite or postgres", o.db)
	}
	if o.out == "" {
		name := "results"
		if o.vs != "" {
			name = "ab"
		}
		if o.db == store.Postgres {
			name += "-postgres"
		}
		o.out = filepath.Join(o.dir, name+".json")
	}
	if *only != "" {
		o.scenarios = strings.Split(*only, ",")
	}
	return o, nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// run prepares the database, starts the server, runs every scenario and
// writes the results. It fails when a scenario had errors or stored a
// request other than exactly once; missed speed targets are only reported.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	if o.markdown {
		return printMarkdown(o.files, stdout)
	}
	scenarios, err := selectScenarios(o.scenarios)
	if err != nil {
		return err
	}
	for _, bin := range []string{o.bin, o.vs} {
		if _, err := os.Stat(bin); bin != "" && err != nil {
			return fmt.Errorf("no atrium binary at %s (run 'make bench', or go build -o %s ./cmd/atrium): %w", bin, bin, err)
		}
	}
	if err := os.MkdirAll(o.dir, 0o750); err != nil {
		return err
	}
	if o.vs != "" {
		return runAB(ctx, o, scenarios, stdout)
	}
	fmt.Fprintf(stdout, "bench: %s, %s data set (version %d), %s per scenario, %d connections, %d cores\n",
		o.db, o.volume.Name, demo.VolumeVersion, o.seconds, o.conns, runtime.NumCPU())
	dbURL, err := prepareDatabase(ctx, o, dataSet{bin: o.bin}, stdout)
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, o.bin, dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(stdout, "bench: atrium ready in %d ms\n", srv.readyMS)
	h, err := newHarness(ctx, o, srv, dbURL)
	if err != nil {
		return err
	}
	defer h.close()
	res := &results{DB: o.db, Volume: o.volume.Name, SeedVersion: demo.VolumeVersion, Cores: runtime.NumCPU(),
		Seconds: o.seconds.Seconds(), Connections: o.conns, ReadyMS: srv.readyMS}
	for _, sc := range scenarios {
		r, err := h.runScenario(ctx, sc)
		if err != nil {
			return fmt.Errorf("scenario %s: %w\n%s", sc.name, err, srv.tail())
		}
		r.PeakRSSAfterMB = round2(srv.peakRSSMB())
		fmt.Fprintf(stdout, "bench: %-19s %8.0f req/s (baseline %8.0f)  ratio %.2f  peak RSS so far %.0f MB\n",
			sc.name, r.RPS, r.BaselineRPS, r.Ratio, r.PeakRSSAfterMB)
		res.Scenarios = append(res.Scenarios, r)
	}
	res.PeakRSSMB = srv.peakRSSMB()
	if err := res.write(o.out); err != nil {
		return err
	}
	res.print(stdout)
	fmt.Fprintf(stdout, "Results written to %s\n", o.out)
	return res.failure()
}
