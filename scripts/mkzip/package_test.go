package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// repoRoot is the checkout this test runs in.
const repoRoot = "../.."

// copyCheckout copies the working tree (tracked files and untracked ones
// git does not ignore) into a new folder, commits it there and tags it
// v9.9.9, so package.sh sees a clean, tagged commit.
func copyCheckout(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "-C", repoRoot, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): skipping the package test", err)
	}
	dst := t.TempDir()
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(repoRoot, name)
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the working tree, or a link
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=Atrium test", "-c", "user.email=test@example.com",
			"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
		cmd.Dir = dst
		cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE=2026-11-25T09:00:00Z", "GIT_AUTHOR_DATE=2026-11-25T09:00:00Z")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, b)
		}
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "package test")
	git("tag", "v9.9.9")
	return dst
}

// TestPackage runs scripts/package.sh twice on one commit of a copy of
// this checkout, with secrets, databases and keys lying around, and checks
// that the ZIPs are byte-identical, hold exactly the release files, verify
// with their .sha256, and carry a working binary.
func TestPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release twice; skipped with -short")
	}
	t.Parallel()
	src := copyCheckout(t)
	// Files that must never ship, untracked as they would be in a real
	// checkout (a tracked change would make the version "-dirty").
	for name, content := range map[string]string{
		".env":                   "SMTP_PASSWORD=hunter2",
		"data/atrium.db":         "SQLite format 3\x00",
		"data/atrium.db-wal":     "wal",
		"data/backups/before.db": "SQLite format 3\x00",
		"server.pem":             "-----BEGIN PRIVATE KEY-----",
		"bin/atrium":             "old build",
	} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	appName := packageApp(t, src)
	name := appName + "-v9.9.9-" + runtime.GOOS + "-" + runtime.GOARCH
	var zips [2][]byte
	for i := range zips {
		dist := t.TempDir()
		cmd := exec.Command("bash", filepath.Join(src, "scripts", "package.sh"))
		cmd.Env = append(os.Environ(), "DIST="+dist)
		cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool {
			return strings.HasPrefix(kv, "VERSION=") || strings.HasPrefix(kv, "GOOS=") || strings.HasPrefix(kv, "GOARCH=") ||
				strings.HasPrefix(kv, "SOURCE_DATE_EPOCH=")
		})
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("package.sh (run %d): %v\n%s", i+1, err, out)
		}
		// The second run finds every package in the build cache: the
		// release is compiled once, and linked and zipped twice.
		t.Logf("package.sh run %d: %s", i+1, time.Since(start).Round(time.Millisecond))
		zipPath := filepath.Join(dist, name+".zip")
		b, err := os.ReadFile(zipPath)
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		zips[i] = b
		sum := sha256.Sum256(b)
		if got, want := readFile(t, zipPath+".sha256"), hex.EncodeToString(sum[:])+"  "+name+".zip\n"; got != want {
			t.Errorf("run %d: %s.zip.sha256 = %q, want %q", i+1, name, got, want)
		}
		if _, err := exec.LookPath("sha256sum"); err == nil {
			check := exec.Command("sha256sum", "-c", name+".zip.sha256")
			check.Dir = dist
			if out, err := check.CombinedOutput(); err != nil {
				t.Errorf("sha256sum -c: %v\n%s", err, out)
			}
		}
	}
	if !bytes.Equal(zips[0], zips[1]) {
		t.Fatalf("two packages of one commit differ (%d and %d bytes)", len(zips[0]), len(zips[1]))
	}

	zr, err := zip.NewReader(bytes.NewReader(zips[0]), int64(len(zips[0])))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range zr.File {
		got = append(got, f.Name)
	}
	want := []string{name + "/", name + "/.env.example", name + "/LICENSE", name + "/NOTICE", name + "/README.md",
		name + "/RUNBOOK.md", name + "/" + appName, name + "/migrations/"}
	for _, dialect := range []string{"postgres", "sqlite"} {
		want = append(want, name+"/migrations/"+dialect+"/")
		sqls, _ := filepath.Glob(filepath.Join(src, "migrations", dialect, "*.sql"))
		for _, s := range sqls {
			want = append(want, name+"/migrations/"+dialect+"/"+filepath.Base(s))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ZIP entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range zr.File {
		if why := Forbidden(strings.TrimPrefix(f.Name, name+"/")); why != "" {
			t.Errorf("the package holds %s: %s", f.Name, why)
		}
		if f.Name == name+"/README.md" && contents(t, f) != readFile(t, filepath.Join(src, "README.md")) {
			t.Errorf("README.md differs from the checkout's")
		}
	}

	notice := contents(t, fileNamed(t, zr, name+"/NOTICE"))
	for _, want := range []string{"The Go standard library and runtime", "gorm.io/gorm", "modernc.org/sqlite", "github.com/go-chi/chi/v5"} {
		if !strings.Contains(notice, want) {
			t.Errorf("NOTICE lacks %q", want)
		}
	}

	bin := filepath.Join(t.TempDir(), "atrium")
	if err := os.WriteFile(bin, []byte(contents(t, fileNamed(t, zr, name+"/"+appName))), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--env-file=", "version").CombinedOutput()
	if err != nil || string(out) != "atrium v9.9.9\n" {
		t.Errorf("packaged atrium version: %q, %v; want \"atrium v9.9.9\"", out, err)
	}
}

// packageApp returns the APP that scripts/package.sh names the binary and
// the package after.
func packageApp(t *testing.T, src string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^APP=(\S+)$`).FindStringSubmatch(readFile(t, filepath.Join(src, "scripts", "package.sh")))
	if m == nil {
		t.Fatal("scripts/package.sh sets no APP=")
	}
	return m[1]
}

func fileNamed(t *testing.T, zr *zip.Reader, name string) *zip.File {
	t.Helper()
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("the package has no %s", name)
	return nil
}

func contents(t *testing.T, f *zip.File) string {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
