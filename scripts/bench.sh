#!/usr/bin/env bash
# Benchmarks every signed-in page against a bare net/http handler serving a
# page of the same size, run together, and prints each page's ratio to that
# baseline (median of the runs). Speed is judged by these ratios, never by
# absolute times: machines are shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${BENCH_COUNT:-5}"
out="${BENCH_OUT:-bench.out}"
go test -run '^$' -bench '^Benchmark(Baseline|Page)' -benchmem -count "$count" ./internal/server/ | tee "$out"
echo
awk '
  /^Benchmark/ {
    name = $1; sub(/-[0-9]+$/, "", name)
    for (i = 2; i <= NF; i++) {
      if ($(i+1) == "ns/op") ns[name] = ns[name] " " $i
      if ($(i+1) == "allocs/op") al[name] = al[name] " " $i
    }
  }
  function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    base = median(ns["BenchmarkBaseline"])
    if (base == 0) { print "no baseline result"; exit 1 }
    for (n in ns) {
      m = median(ns[n])
      printf "%-32s %12.0f %10.1f %10.0f\n", n, m, m / base, median(al[n])
    }
  }' "$out" | sort > "$out.ratios"
printf "%-32s %12s %10s %10s\n" "page" "median ns/op" "x baseline" "allocs/op"
cat "$out.ratios"
