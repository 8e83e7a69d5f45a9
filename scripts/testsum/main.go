// Command testsum runs `go test -json` and tells the truth about it: the
// output of every failed test and of every package that failed to build or
// crashed, then every skipped test with its reason grouped by package, then
// one last line "N passed, N failed, N skipped". Passing tests print only
// their package's "ok" line. It exits with status 1 when the go command
// does, or when anything failed, so `make test` keeps failing on a failure.
//
// Usage: go run ./scripts/testsum -- go test -json -count=1 ./...
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command in args (after an optional "--"), summarizes its
// JSON output on stdout and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: testsum -- go test -json ./...")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(stderr, "testsum:", err)
		return 2
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, "testsum:", err)
		return 2
	}
	sum := summarize(out, stdout)
	runErr := cmd.Wait()
	sum.print(stdout)
	var exit *exec.ExitError
	switch {
	case runErr != nil && !errors.As(runErr, &exit):
		fmt.Fprintln(stderr, "testsum:", runErr)
		return 1
	case runErr != nil || sum.failed > 0:
		return 1
	}
	return 0
}

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	Elapsed     float64
	ImportPath  string
	FailedBuild string
}

// result is a finished test or package: its name and what it printed.
type result struct {
	pkg, name string
	output    []string
}

// summary is what testsum prints after the run.
type summary struct {
	passed, failed, skipped int
	failures                []result
	skips                   []result
}

// summarize reads go test's JSON events from r, writes each package's
// ok/FAIL line to w as it finishes, and returns the totals with the output
// of every failure and skip. Lines that are not JSON (go command errors)
// go straight to w.
func summarize(r io.Reader, w io.Writer) *summary {
	sum := &summary{}
	outputs := map[[2]string][]string{} // (package, test) -> lines; test "" is the package
	builds := map[string][]string{}     // import path -> build output
	failedIn := map[string]int{}        // package -> failed tests
	running := map[string][]string{}    // package -> tests started and not ended
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(w, sc.Text())
			continue
		}
		key := [2]string{e.Package, e.Test}
		switch e.Action {
		case "build-output":
			builds[e.ImportPath] = append(builds[e.ImportPath], e.Output)
		case "output":
			outputs[key] = append(outputs[key], e.Output)
		case "run":
			running[e.Package] = append(running[e.Package], e.Test)
		case "pass", "fail", "skip":
			if e.Test != "" {
				running[e.Package] = slices.DeleteFunc(running[e.Package], func(s string) bool { return s == e.Test })
				res := result{pkg: e.Package, name: e.Test, output: outputs[key]}
				delete(outputs, key)
				switch e.Action {
				case "pass":
					sum.passed++
				case "fail":
					sum.failed++
					failedIn[e.Package]++
					sum.failures = append(sum.failures, res)
				case "skip":
					sum.skipped++
					sum.skips = append(sum.skips, res)
				}
				continue
			}
			pkgOut := outputs[key]
			delete(outputs, key)
			elapsed := time.Duration(e.Elapsed * float64(time.Second)).Round(10 * time.Millisecond)
			switch {
			case e.Action == "pass":
				fmt.Fprintf(w, "ok    %s %s\n", e.Package, elapsed)
			case e.Action == "skip":
				// No test files: nothing ran, nothing to count.
			case failedIn[e.Package] == 0:
				// The package failed with no failed test: a build failure,
				// a panic or a timeout. Count it, with the tests it cut short.
				lines := slices.Clone(builds[e.FailedBuild])
				lines = append(lines, pkgOut...)
				for _, t := range running[e.Package] {
					lines = append(lines, outputs[[2]string{e.Package, t}]...)
				}
				what := "(package)"
				if e.FailedBuild != "" {
					what = "(build failed)"
				}
				if after, tests, ok := timedOut(lines); ok {
					// The goroutine dump that follows says nothing a
					// reader can act on; one line says what to do.
					what = "(timed out)"
					lines = []string{timeoutReason(e.Package, after, tests, running[e.Package])}
				}
				sum.failed++
				sum.failures = append(sum.failures, result{pkg: e.Package, name: what, output: lines})
				fmt.Fprintf(w, "FAIL  %s %s\n", e.Package, what)
			default:
				fmt.Fprintf(w, "FAIL  %s %s\n", e.Package, elapsed)
			}
		}
	}
	if err := sc.Err(); err != nil {
		sum.failed++
		sum.failures = append(sum.failures, result{name: "(reading go test output)", output: []string{err.Error() + "\n"}})
	}
	return sum
}

// timedOut reports whether a package's output is go test's timeout panic
// ("panic: test timed out after 10m0s"), with the timeout and the tests it
// lists as running.
func timedOut(lines []string) (after string, tests []string, ok bool) {
	listing := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "panic: test timed out after "):
			after, ok = strings.TrimSpace(strings.TrimPrefix(l, "panic: test timed out after ")), true
		case ok && strings.TrimSpace(l) == "running tests:":
			listing = true
		case listing && strings.HasPrefix(l, "\t\t"):
			name, _, _ := strings.Cut(strings.TrimSpace(l), " ")
			tests = append(tests, name)
		case listing:
			listing = false
		}
	}
	return after, tests, ok
}

// timeoutReason is the one line testsum prints for a package that hit go
// test's -timeout: which tests were running, and what to do about it.
func timeoutReason(pkg, after string, tests, running []string) string {
	if len(tests) == 0 {
		tests = running
	}
	in := ""
	if len(tests) > 0 {
		in = " in " + strings.Join(tests, ", ")
	}
	return fmt.Sprintf("package %s timed out after %s%s — raise -timeout (make test TEST_TIMEOUT=90m) "+
		"or make the test cheaper; go test -run '^(%s)$' %s runs it alone\n", pkg, after, in, strings.Join(topLevel(tests), "|"), pkg)
}

// topLevel returns the distinct top-level test names of tests (TestA/sub
// is TestA).
func topLevel(tests []string) []string {
	var out []string
	for _, t := range tests {
		name, _, _ := strings.Cut(t, "/")
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// print writes the failures with their output, the skips with their
// reasons grouped by package, and the totals line.
func (s *summary) print(w io.Writer) {
	if len(s.failures) > 0 {
		fmt.Fprintf(w, "\n=== FAILURES (%d)\n", len(s.failures))
		for _, f := range s.failures {
			fmt.Fprintf(w, "\n--- FAIL: %s %s\n", f.pkg, f.name)
			for _, line := range f.output {
				fmt.Fprint(w, line)
			}
		}
	}
	if len(s.skips) > 0 {
		fmt.Fprintf(w, "\n=== SKIPPED (%d)\n", len(s.skips))
		pkg := ""
		for _, sk := range s.skips {
			if sk.pkg != pkg {
				pkg = sk.pkg
				fmt.Fprintf(w, "%s\n", pkg)
			}
			fmt.Fprintf(w, "  %s: %s\n", sk.name, skipReason(sk.output))
		}
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
}

// skipReason is what a skipped test logged, without go test's own framing
// lines ("=== RUN", "--- SKIP") and the file:line prefix.
func skipReason(lines []string) string {
	var parts []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		if i := strings.Index(l, ".go:"); i > 0 && !strings.ContainsAny(l[:i], " \t") {
			if j := strings.Index(l[i:], ": "); j > 0 {
				l = l[i+j+2:]
			}
		}
		parts = append(parts, l)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " / ")
}
