package main

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"atrium/scripts/internal/repocopy"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRename renames a copy of the repository twice (the second run must
// change nothing), then builds, vets and tests it, and packages it.
func TestRename(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the test that builds a renamed copy of the repository")
	}
	root := repocopy.Copy(t, "../..")
	args := []string{"-root", root, "-module", "github.com/acme/app", "-name", "Acme"}
	var out bytes.Buffer
	if err := run(args, &out); err != nil {
		t.Fatalf("rename: %v\n%s", err, &out)
	}
	out.Reset()
	if err := run(args, &out); err != nil || out.Len() > 0 {
		t.Fatalf("a second rename changed something (%v):\n%s", err, &out)
	}

	for path, want := range map[string]string{
		"go.mod":                    "module github.com/acme/app\n",
		"README.md":                 "# Acme\n",
		"internal/config/config.go": `DefaultAppName           = "Acme"`,
		".env.example":              "PUBLIC_APP_NAME=Acme\n",
		"scripts/package.sh":        "APP=acme\n",
		"Makefile":                  "./cmd/acme",
		"internal/docs/docs.go":     `"github.com/acme/app"`,
		"internal/server/routes.go": `"github.com/acme/app/internal/app"`,
		"web/page/members.templ":    `"github.com/acme/app/web/layout"`,
	} {
		if got := readFile(t, filepath.Join(root, path)); !strings.Contains(got, want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "acme", "main.go")); err != nil {
		t.Errorf("cmd/acme: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "atrium")); err == nil {
		t.Errorf("cmd/atrium is still there")
	}
	if b, err := exec.Command("grep", "-rlE", "--include=*.go", "--include=*.templ", `^\s*(\w+\s+)?"atrium/`, root).Output(); len(b) > 0 {
		t.Errorf("files still import the old module path (%v):\n%s", err, b)
	}

	command := func(env []string, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = root, append(os.Environ(), env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
		}
	}
	command(nil, "go", "build", "-trimpath", "./...")
	command(nil, "go", "vet", "./...")
	command(nil, "bash", "scripts/templ-drift.sh")
	command(nil, "go", "test", "-trimpath", "-short", "-count=1", "./internal/config/", "./internal/app/", "./internal/mail/",
		"./internal/server/", "./web/...", "./cmd/acme/")

	dist := t.TempDir()
	command([]string{"VERSION=v1.0.0", "DIST=" + dist, "SOURCE_DATE_EPOCH=1780000000"}, "bash", "scripts/package.sh")
	name := "acme-v1.0.0-" + runtime.GOOS + "-" + runtime.GOARCH
	zr, err := zip.OpenReader(filepath.Join(dist, name+".zip"))
	if err != nil {
		t.Fatalf("make package did not write %s.zip: %v", name, err)
	}
	defer zr.Close()
	found := false
	for _, f := range zr.File {
		found = found || f.Name == name+"/acme"
	}
	if !found {
		t.Errorf("%s.zip holds no %s/acme binary", name, name)
	}
}
