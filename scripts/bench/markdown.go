package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// printMarkdown prints results files side by side as a Markdown table:
// one row per scenario, req/s, ratio and p99 for each file's database.
func printMarkdown(files []string, w io.Writer) error {
	if len(files) == 0 {
		return errors.New("-markdown: name at least one results file")
	}
	var all []*results
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var r results
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		all = append(all, &r)
	}
	fmt.Fprint(w, "| scenario | target |")
	for _, r := range all {
		fmt.Fprintf(w, " %s req/s | baseline | ratio | p99 ms (× baseline) | µs CPU/req |", r.DB)
	}
	fmt.Fprint(w, "\n|---|---|")
	for range all {
		fmt.Fprint(w, "--:|--:|--:|--:|--:|")
	}
	fmt.Fprintln(w)
	for i, sc := range all[0].Scenarios {
		target := fmt.Sprintf("≥ %.2f", sc.TargetRatio)
		if sc.TargetP99X > 0 {
			target += fmt.Sprintf(", p99 ≤ %.0f×", sc.TargetP99X)
		}
		fmt.Fprintf(w, "| `%s` | %s |", sc.Name, target)
		for _, r := range all {
			if i >= len(r.Scenarios) || r.Scenarios[i].Name != sc.Name {
				fmt.Fprint(w, " | | | | |")
				continue
			}
			s := r.Scenarios[i]
			cpu := fmt.Sprintf("%.0f", s.CPUUSPerReq)
			if s.DBCPUUSPerReq > 0 {
				cpu += fmt.Sprintf(" + %.0f db", s.DBCPUUSPerReq)
			}
			fmt.Fprintf(w, " %.0f | %.0f | %.2f | %.1f (%.1f×) | %s |", s.RPS, s.BaselineRPS, s.Ratio, s.P99MS, s.P99X, cpu)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	for _, r := range all {
		fmt.Fprintf(w, "%s: peak RSS %.0f MB (target < %d), ready in %d ms (target < %d), %d cores, %d connections, %gs per scenario.\n",
			r.DB, r.PeakRSSMB, targetPeakRSSMB, r.ReadyMS, targetReadyMS, r.Cores, r.Connections, r.Seconds)
	}
	return nil
}
