// Package repocopy copies this checkout into a temporary folder, for the
// tests of the scripts that rewrite a fork (make scaffold, make rename):
// they change the copy, then build and test it.
package repocopy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Copy copies the files of the checkout at root (tracked, and untracked
// ones git does not ignore) into a new folder removed when the test ends.
// It skips the test when root is not a git checkout.
func Copy(t testing.TB, root string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): skipping", err)
	}
	dst := t.TempDir()
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
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
	return dst
}

// BuildEnv is the environment the tests build, vet and test a copy in: the
// flags of `make package` (pure Go, -trimpath, no VCS stamp) for every
// command, so the standard library and the dependencies compile once into
// the shared build cache (GOCACHE, and the module cache GOMODCACHE, are
// inherited) and every later command, `make package` included, only
// compiles the copy's own packages. Without -trimpath the cache keys of
// the copy's packages name its temporary folder, and a command with other
// flags compiles everything again.
func BuildEnv() []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-trimpath -buildvcs=false")
}
