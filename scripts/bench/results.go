package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Process-wide targets on SQLite and the large data set.
const (
	targetPeakRSSMB = 96
	targetReadyMS   = 300
)

// results is the file tmp/bench/results.json; scripts/bench/README.md explains it.
type results struct {
	DB          string           `json:"db"`
	Volume      string           `json:"volume"`
	SeedVersion int              `json:"seed_version"`
	Cores       int              `json:"cores"`
	Seconds     float64          `json:"seconds"`
	Connections int              `json:"connections"`
	PeakRSSMB   float64          `json:"peak_rss_mb"`
	ReadyMS     int64            `json:"ready_ms"`
	Scenarios   []scenarioResult `json:"scenarios"`
}

// scenarioResult is one scenario's line of the results.
type scenarioResult struct {
	Name          string           `json:"name"`
	RPS           float64          `json:"rps"`
	P50MS         float64          `json:"p50_ms"`
	P99MS         float64          `json:"p99_ms"`
	Errors        int64            `json:"errors"`
	BaselineRPS   float64          `json:"baseline_rps"`
	BaselineP50MS float64          `json:"baseline_p50_ms"`
	BaselineP99MS float64          `json:"baseline_p99_ms"`
	Ratio         float64          `json:"ratio"`
	TargetRatio   float64          `json:"target_ratio"`
	P99X          float64          `json:"p99_x_baseline"`
	TargetP99X    float64          `json:"target_p99_x_baseline,omitempty"`
	Accepted      *int64           `json:"accepted,omitempty"`
	Stored        map[string]int64 `json:"stored,omitempty"`
	ExactlyOnce   *bool            `json:"exactly_once,omitempty"`
	// DrainSeconds is how long the job queue took, after the measure, to
	// finish the work the scenario's requests queued (webhook_fanout).
	DrainSeconds *float64 `json:"drain_seconds,omitempty"`
	// CPUUSPerReq is the server's CPU time (user + system, from
	// /proc/PID/stat) per request while it was driven; DBCPUUSPerReq is
	// PostgreSQL's processes' (0 on SQLite, which runs inside the server).
	// Steadier than req/s on a shared machine.
	CPUUSPerReq   float64 `json:"cpu_us_per_request"`
	DBCPUUSPerReq float64 `json:"db_cpu_us_per_request,omitempty"`
	// PeakRSSAfterMB is the server's VmHWM once the scenario ended: the
	// scenario that raises it most is the one to look at.
	PeakRSSAfterMB float64 `json:"peak_rss_after_mb"`
	FirstError     error   `json:"-"`
}

func newScenarioResult(sc scenario, app, base *sample) scenarioResult {
	r := scenarioResult{Name: sc.name, RPS: round(app.rps()), P50MS: app.percentile(50), P99MS: app.percentile(99),
		Errors: app.errors, BaselineRPS: round(base.rps()), BaselineP50MS: base.percentile(50),
		BaselineP99MS: base.percentile(99), TargetRatio: sc.minRatio, TargetP99X: sc.maxP99x}
	if r.BaselineRPS > 0 {
		r.Ratio = round2(r.RPS / r.BaselineRPS)
	}
	if r.BaselineP99MS > 0 {
		r.P99X = round2(r.P99MS / r.BaselineP99MS)
	}
	return r
}

func round(f float64) float64  { return float64(int64(f + 0.5)) }
func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// met reports whether the scenario reached its targets.
func (r scenarioResult) met() bool {
	ok := r.Ratio >= r.TargetRatio && r.Errors == 0 && (r.ExactlyOnce == nil || *r.ExactlyOnce)
	if r.TargetP99X > 0 {
		ok = ok && r.P99X <= r.TargetP99X
	}
	return ok
}

func (res *results) write(path string) error { return writeJSON(path, res) }

// writeJSON writes v to path as indented JSON, making its folder.
func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// print writes the results as a table, each ratio beside its target.
func (res *results) print(w io.Writer) {
	fmt.Fprintf(w, "\nAtrium on %s, %s data set, %d cores, %d connections, %gs per scenario\n\n",
		res.DB, res.Volume, res.Cores, res.Connections, res.Seconds)
	fmt.Fprintf(w, "%-19s %9s %9s %6s %7s %8s %8s %8s %6s %7s %8s %8s %6s %s\n", "scenario", "req/s", "baseline", "ratio",
		"target", "p50 ms", "p99 ms", "base p99", "p99 x", "target", "µs CPU", "µs DB", "errors", "")
	for _, r := range res.Scenarios {
		p99Target := "-"
		if r.TargetP99X > 0 {
			p99Target = fmt.Sprintf("≤%.0f", r.TargetP99X)
		}
		note := "ok"
		if !r.met() {
			note = "MISSED"
		}
		if r.ExactlyOnce != nil {
			once := "exactly once"
			if !*r.ExactlyOnce {
				once = "NOT exactly once"
			}
			note += fmt.Sprintf(", %d accepted, %s", *r.Accepted, once)
		}
		if r.DrainSeconds != nil {
			note += fmt.Sprintf(", queue done %.1f s after", *r.DrainSeconds)
		}
		fmt.Fprintf(w, "%-19s %9.0f %9.0f %6.2f %7s %8.2f %8.2f %8.2f %6.2f %7s %8.0f %8.0f %6d %s\n", r.Name, r.RPS, r.BaselineRPS,
			r.Ratio, fmt.Sprintf("≥%.2f", r.TargetRatio), r.P50MS, r.P99MS, r.BaselineP99MS, r.P99X, p99Target,
			r.CPUUSPerReq, r.DBCPUUSPerReq, r.Errors, note)
	}
	rss, ready := "ok", "ok"
	if res.PeakRSSMB >= targetPeakRSSMB {
		rss = "MISSED"
	}
	if res.ReadyMS >= targetReadyMS {
		ready = "MISSED"
	}
	fmt.Fprintf(w, "\npeak RSS %.1f MB (target < %d MB: %s), ready in %d ms (target < %d ms: %s)\n\n",
		res.PeakRSSMB, targetPeakRSSMB, rss, res.ReadyMS, targetReadyMS, ready)
}

// failure reports scenarios with errors or with requests not stored
// exactly once; speed targets never fail a run.
func (res *results) failure() error {
	var problems []string
	for _, r := range res.Scenarios {
		if r.Errors > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d errors (first: %v)", r.Name, r.Errors, r.FirstError))
		}
		if r.ExactlyOnce != nil && !*r.ExactlyOnce {
			problems = append(problems, fmt.Sprintf("%s: %d accepted, stored %v", r.Name, *r.Accepted, r.Stored))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}
