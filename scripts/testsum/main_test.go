package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeModule writes a throwaway module with a passing, a failing and a
// skipping test, a subtest skip, and a package that does not compile.
func writeModule(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module demo\n\ngo 1.22\n",
		"a/a_test.go": `package a

import "testing"

func TestPass(t *testing.T) {}
func TestFail(t *testing.T) { t.Log("the detail of the failure"); t.Fatal("boom") }
func TestSkip(t *testing.T) { t.Skip("needs a unicorn") }
func TestSub(t *testing.T) {
	t.Run("Kept", func(t *testing.T) {})
	t.Run("Dropped", func(t *testing.T) { t.Skipf("no %s here", "redis") })
}
`,
		"b/b_test.go": "package b\n\nimport \"testing\"\n\nfunc TestBroken(t *testing.T) { undefinedName() }\n",
		"c/c_test.go": "package c\n\nimport \"testing\"\n\nfunc TestOK(t *testing.T) {}\n",
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRun_Summary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping a test that runs go test")
	}
	dir := writeModule(t)
	var stdout, stderr bytes.Buffer
	code := run([]string{"--", "go", "-C", dir, "test", "-json", "-count=1", "./..."}, &stdout, &stderr)
	out := stdout.String()
	t.Logf("stdout:\n%s\nstderr:\n%s", out, stderr.String())

	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	// Passed: TestPass, TestSub/Kept, TestOK. Failed: TestFail and package b's build.
	// Skipped: TestSkip and TestSub/Dropped. TestSub itself passes.
	if got, want := lines[len(lines)-1], "4 passed, 2 failed, 2 skipped"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
	for _, want := range []string{
		"ok    demo/c",
		"FAIL  demo/b (build failed)",
		"--- FAIL: demo/a TestFail",
		"the detail of the failure",
		"undefinedName",
		"  TestSkip: needs a unicorn",
		"  TestSub/Dropped: no redis here",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "TestPass") {
		t.Errorf("output names a passing test; only failures and skips are listed")
	}
}

func TestRun_AllPass(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping a test that runs go test")
	}
	dir := writeModule(t)
	var stdout, stderr bytes.Buffer
	code := run([]string{"go", "-C", dir, "test", "-json", "-count=1", "./c"}, &stdout, &stderr)
	if code != 0 {
		t.Errorf("exit status %d, want 0\n%s%s", code, &stdout, &stderr)
	}
	if !strings.HasSuffix(stdout.String(), "\n1 passed, 0 failed, 0 skipped\n") {
		t.Errorf("output does not end with the totals:\n%s", &stdout)
	}
}

func TestSkipReason(t *testing.T) {
	lines := []string{"=== RUN   TestX\n", "    x_test.go:12: chromium not found: skipping\n", "--- SKIP: TestX (0.00s)\n"}
	if got, want := skipReason(lines), "chromium not found: skipping"; got != want {
		t.Errorf("skipReason=%q, want %q", got, want)
	}
}

// TestSummarize_Timeout reads a recorded `go test -json -timeout 3s` stream
// of a package whose TestStuck never returns: testsum prints one line that
// names the package, the timeout and the test, not the goroutine dump.
func TestSummarize_Timeout(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "timeout.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	sum := summarize(f, &out)
	sum.print(&out)
	got := out.String()
	t.Logf("output:\n%s", got)
	want := "package demo/slow timed out after 3s in TestStuck — raise -timeout"
	if !strings.Contains(got, want) {
		t.Errorf("output lacks %q", want)
	}
	if !strings.Contains(got, "go test -run '^(TestStuck)$' demo/slow runs it alone") {
		t.Errorf("output does not say how to run the test alone")
	}
	for _, dump := range []string{"goroutine ", "testing.(*M).startAlarm", "panic: test timed out"} {
		if strings.Contains(got, dump) {
			t.Errorf("output holds the goroutine dump (%q)", dump)
		}
	}
	if !strings.Contains(got, "FAIL  demo/slow (timed out)") {
		t.Errorf("no FAIL line for the package")
	}
	if last := strings.TrimSpace(got[strings.LastIndex(strings.TrimSpace(got), "\n")+1:]); last != "1 passed, 1 failed, 1 skipped" {
		t.Errorf("last line %q, want %q", last, "1 passed, 1 failed, 1 skipped")
	}
}
