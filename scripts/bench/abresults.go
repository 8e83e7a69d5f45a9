package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// A scenario is marked in the A/B table when B's median req/s is below
// this share of A's, or its CPU per request above the inverse: beyond the
// usual noise of a shared machine.
const abNoise = 0.90

// abResults is the file tmp/bench/ab.json; scripts/bench/README.md explains it.
type abResults struct {
	DB          string       `json:"db"`
	Volume      string       `json:"volume"`
	SeedVersion int          `json:"seed_version"`
	Cores       int          `json:"cores"`
	Seconds     float64      `json:"seconds"`
	Rounds      int          `json:"rounds"`
	Connections int          `json:"connections"`
	A           abBinary     `json:"a"`
	B           abBinary     `json:"b"`
	Scenarios   []abScenario `json:"scenarios"`
}

// abBinary describes one build of an A/B run.
type abBinary struct {
	Bin       string  `json:"bin"`
	Schema    string  `json:"schema"`
	ReadyMS   int64   `json:"ready_ms"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// abScenario is one scenario's line of an A/B run: A's and B's figures,
// and B's over A's.
type abScenario struct {
	Name     string    `json:"name"`
	A        abFigures `json:"a"`
	B        abFigures `json:"b"`
	Ratio    float64   `json:"ratio"`
	CPURatio float64   `json:"cpu_ratio"`
}

// abFigures is what one build did in one scenario over all its rounds.
type abFigures struct {
	RPS            float64          `json:"rps"`
	RoundsRPS      []float64        `json:"rounds_rps"`
	P50MS          float64          `json:"p50_ms"`
	P99MS          float64          `json:"p99_ms"`
	CPUUSPerReq    float64          `json:"cpu_us_per_request"`
	Errors         int64            `json:"errors"`
	Accepted       *int64           `json:"accepted,omitempty"`
	Stored         map[string]int64 `json:"stored,omitempty"`
	ExactlyOnce    *bool            `json:"exactly_once,omitempty"`
	PeakRSSAfterMB float64          `json:"peak_rss_after_mb"`
	FirstError     error            `json:"-"`
}

// slower reports whether B did worse than A beyond the noise, in req/s or
// in CPU per request.
func (r abScenario) slower() bool {
	return r.Ratio < abNoise || (r.CPURatio > 0 && r.CPURatio > 1/abNoise)
}

// print writes the A/B results as a table.
func (res *abResults) print(w io.Writer) {
	fmt.Fprintf(w, "\nA/B on %s, %s data set, %d cores, %d connections, %d rounds of %gs per scenario and binary (ABBA)\n",
		res.DB, res.Volume, res.Cores, res.Connections, res.Rounds, res.Seconds)
	fmt.Fprintf(w, "A (old): %s, schema %s\nB (new): %s, schema %s\n\n", res.A.Bin, res.A.Schema, res.B.Bin, res.B.Schema)
	fmt.Fprintf(w, "%-19s %9s %9s %6s %10s %10s %7s %8s %8s %7s\n", "scenario", "A req/s", "B req/s", "B/A",
		"A µs CPU", "B µs CPU", "B/A", "A p99", "B p99", "errors")
	for _, r := range res.Scenarios {
		note := ""
		if r.slower() {
			note = "B slower?"
		}
		for _, f := range []abFigures{r.A, r.B} {
			if f.ExactlyOnce != nil && !*f.ExactlyOnce {
				note = strings.TrimSpace(note + " NOT exactly once")
			}
		}
		line := fmt.Sprintf("%-19s %9.0f %9.0f %6.2f %10.1f %10.1f %7.2f %8.2f %8.2f %7s %s", r.Name, r.A.RPS, r.B.RPS,
			r.Ratio, r.A.CPUUSPerReq, r.B.CPUUSPerReq, r.CPURatio, r.A.P99MS, r.B.P99MS,
			fmt.Sprintf("%d/%d", r.A.Errors, r.B.Errors), note)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintf(w, "\nA: ready in %d ms, peak RSS %.1f MB; B: ready in %d ms, peak RSS %.1f MB\n",
		res.A.ReadyMS, res.A.PeakRSSMB, res.B.ReadyMS, res.B.PeakRSSMB)
	fmt.Fprintf(w, "req/s are medians of the rounds; µs CPU is the server's user+system CPU time per request.\n"+
		"B/A above 1 in req/s, below 1 in CPU: the new build is faster. \"B slower?\": beyond ±%.0f%%.\n\n",
		(1-abNoise)*100)
}

// failure reports, for either build, scenarios with errors or with
// requests not stored exactly once.
func (res *abResults) failure() error {
	var problems []string
	for _, r := range res.Scenarios {
		for _, side := range []struct {
			name string
			f    abFigures
		}{{"A", r.A}, {"B", r.B}} {
			f := side.f
			if f.Errors > 0 {
				problems = append(problems, fmt.Sprintf("%s, %s: %d errors (first: %v)", r.Name, side.name, f.Errors, f.FirstError))
			}
			if f.ExactlyOnce != nil && !*f.ExactlyOnce {
				problems = append(problems, fmt.Sprintf("%s, %s: %d accepted, stored %v", r.Name, side.name, *f.Accepted, f.Stored))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}
