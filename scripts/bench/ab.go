package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"atrium/internal/store/demo"
)

// abSide is one binary of an A/B run: A is the old build (-vs), B the new
// one (-bin).
type abSide struct {
	name string // "A" or "B"
	bin  string
	key  string // the binary's schema, which keys its data set's cache
	url  string // DATABASE_URL of its working copy
	srv  *server
	h    *harness
}

// runAB compares two builds: each seeds (or reuses) and migrates its own
// data set, both are started and signed in, and every scenario runs them
// in turn, -rounds rounds of -seconds each in ABBA order so that a drift
// of the machine's speed weighs on both alike. It writes the results and
// fails, as the normal mode does, on errors or a count not exactly once.
func runAB(ctx context.Context, o *options, scenarios []scenario, stdout io.Writer) error {
	fmt.Fprintf(stdout, "bench: A/B on %s, %s data set (version %d), %d rounds of %s per scenario and binary, %d connections, %d cores\n",
		o.db, o.volume.Name, demo.VolumeVersion, o.rounds, o.seconds, o.conns, runtime.NumCPU())
	sides := []*abSide{{name: "A", bin: o.vs}, {name: "B", bin: o.bin}}
	for _, s := range sides {
		key, err := schemaKey(ctx, s.bin, o.dir)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", s.name, s.bin, err)
		}
		s.key = key
		fmt.Fprintf(stdout, "bench: %s is %s (schema %s)\n", s.name, s.bin, key)
		if s.url, err = prepareDatabase(ctx, o, dataSet{bin: s.bin, key: key, side: strings.ToLower(s.name)}, stdout); err != nil {
			return fmt.Errorf("%s (%s): %w", s.name, s.bin, err)
		}
	}
	for _, s := range sides {
		srv, err := startServer(ctx, s.bin, s.url)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", s.name, s.bin, err)
		}
		defer srv.stop()
		s.srv = srv
		fmt.Fprintf(stdout, "bench: %s ready in %d ms\n", s.name, srv.readyMS)
		if s.h, err = newHarness(ctx, o, srv, s.url); err != nil {
			return fmt.Errorf("%s (%s): %w", s.name, s.bin, err)
		}
		defer s.h.close()
	}
	res := &abResults{DB: o.db, Volume: o.volume.Name, SeedVersion: demo.VolumeVersion, Cores: runtime.NumCPU(),
		Seconds: o.seconds.Seconds(), Rounds: o.rounds, Connections: o.conns}
	for _, sc := range scenarios {
		r, err := runABScenario(ctx, o, sides, sc)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", sc.name, err)
		}
		fmt.Fprintf(stdout, "bench: %-15s A %8.0f req/s %7.0f µs CPU/req   B %8.0f req/s %7.0f µs CPU/req   B/A %.2f\n",
			sc.name, r.A.RPS, r.A.CPUUSPerReq, r.B.RPS, r.B.CPUUSPerReq, r.Ratio)
		res.Scenarios = append(res.Scenarios, r)
	}
	for i, s := range sides {
		b := abBinary{Bin: s.bin, Schema: s.key, ReadyMS: s.srv.readyMS, PeakRSSMB: round2(s.srv.peakRSSMB())}
		if i == 0 {
			res.A = b
		} else {
			res.B = b
		}
	}
	if err := writeJSON(o.out, res); err != nil {
		return err
	}
	res.print(stdout)
	fmt.Fprintf(stdout, "Results written to %s\n", o.out)
	return res.failure()
}

// abTally is what one side measured of a scenario.
type abTally struct {
	all      sample // every round, for the percentiles and CPU per request
	rounds   []float64
	cpu      time.Duration
	cpuOK    bool
	warm     sample
	accepted atomic.Int64
}

// runABScenario sets each side up (when the scenario needs it), checks its
// first answer, warms both up, then runs
// the rounds and checks that each side stored every request it accepted
// exactly once.
func runABScenario(ctx context.Context, o *options, sides []*abSide, sc scenario) (abScenario, error) {
	tallies := make([]*abTally, len(sides))
	warm := min(o.seconds/8, time.Second)
	for i, s := range sides {
		t := &abTally{cpuOK: true}
		tallies[i] = t
		if sc.setup != nil {
			if err := sc.setup(ctx, s.h); err != nil {
				return abScenario{}, fmt.Errorf("%s: set up: %w", s.name, err)
			}
		}
		resp, _, err := s.h.send(ctx, s.h.atrium, sc, s.h.seq.Add(1), false)
		if err != nil {
			return abScenario{}, fmt.Errorf("%s: %w", s.name, err)
		}
		if resp.StatusCode != sc.status {
			return abScenario{}, fmt.Errorf("%s answered %d, want %d\n%s", s.name, resp.StatusCode, sc.status, s.srv.tail())
		}
		t.accepted.Add(1)
		s.h.drive(ctx, s.h.atrium, sc, warm, &t.warm, func(int64) { t.accepted.Add(1) })
	}
	for r := range o.rounds {
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			s, t := sides[i], tallies[i]
			cpu0, ok0 := s.srv.cpuTime()
			var one sample
			s.h.drive(ctx, s.h.atrium, sc, o.seconds, &one, func(int64) { t.accepted.Add(1) })
			cpu1, ok1 := s.srv.cpuTime()
			t.cpu += cpu1 - cpu0
			t.cpuOK = t.cpuOK && ok0 && ok1
			t.rounds = append(t.rounds, round(one.rps()))
			t.all.add(&one)
		}
	}
	if err := ctx.Err(); err != nil {
		return abScenario{}, err
	}
	r := abScenario{Name: sc.name}
	for i, s := range sides {
		f, err := tallies[i].figures(s, sc)
		if err != nil {
			return abScenario{}, fmt.Errorf("%s: %w", s.name, err)
		}
		if i == 0 {
			r.A = f
		} else {
			r.B = f
		}
	}
	if r.A.RPS > 0 {
		r.Ratio = round2(r.B.RPS / r.A.RPS)
	}
	if r.A.CPUUSPerReq > 0 && r.B.CPUUSPerReq > 0 {
		r.CPURatio = round2(r.B.CPUUSPerReq / r.A.CPUUSPerReq)
	}
	return r, nil
}

// figures sums up one side's tally, counting the rows a storing scenario
// left in that side's database.
func (t *abTally) figures(s *abSide, sc scenario) (abFigures, error) {
	f := abFigures{RPS: round(median(t.rounds)), RoundsRPS: t.rounds, P50MS: t.all.percentile(50),
		P99MS: t.all.percentile(99), Errors: t.all.errors + t.warm.errors,
		FirstError: cmpErr(t.all.firstErr, t.warm.firstErr), PeakRSSAfterMB: round2(s.srv.peakRSSMB())}
	if t.cpuOK && t.all.ok > 0 {
		f.CPUUSPerReq = round2(float64(t.cpu.Microseconds()) / float64(t.all.ok))
	}
	if sc.stored == nil {
		return f, nil
	}
	stored, err := sc.stored(s.h)
	if err != nil {
		return f, fmt.Errorf("count stored rows: %w", err)
	}
	n := t.accepted.Load()
	f.Accepted, f.Stored, f.ExactlyOnce = &n, stored, new(true)
	for _, got := range stored {
		if got != n {
			*f.ExactlyOnce = false
		}
	}
	return f, nil
}

// add adds another run's counts and latencies to s.
func (s *sample) add(o *sample) {
	s.ok += o.ok
	s.errors += o.errors
	s.elapsed += o.elapsed
	s.latencies = append(s.latencies, o.latencies...)
	s.firstErr = cmpErr(s.firstErr, o.firstErr)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// clockTicks is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on every Linux the harness runs on).
const clockTicks = 100

// cpuTime returns the CPU time the server has spent so far, user and
// system (utime + stime of /proc/PID/stat); false where there is no /proc.
func (s *server) cpuTime() (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces and parentheses:
	// count the fields after the last ")", from the third (state).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	return statCPU(b[i+1:])
}

// statCPU reads utime + stime from the fields of /proc/PID/stat after the
// command name.
func statCPU(rest []byte) (time.Duration, bool) {
	fields := strings.Fields(string(rest))
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, true
}

// postgresCPU returns the CPU time every process named "postgres" on this
// machine has spent so far (the server the bench's database lives on,
// when it runs here); false where there is no /proc or no such process.
func postgresCPU() (time.Duration, bool) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	var total time.Duration
	found := false
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		lp, rp := strings.IndexByte(string(b), '('), strings.LastIndexByte(string(b), ')')
		if lp < 0 || rp < lp || string(b[lp+1:rp]) != "postgres" {
			continue
		}
		if t, ok := statCPU(b[rp+1:]); ok {
			total += t
			found = true
		}
	}
	return total, found
}
