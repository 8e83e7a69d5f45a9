package main

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	// gofmt aligns the constant with its neighbours: any spacing will do.
	if got := readFile(t, filepath.Join(root, "internal", "config", "config.go")); !regexp.MustCompile(`DefaultAppName\s+= "Acme"`).MatchString(got) {
		t.Errorf("internal/config/config.go does not set DefaultAppName to \"Acme\"")
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

	// Nothing names the old product any more, in any case: version, help,
	// error prefixes, default file names, cookies, docs. Only the license
	// texts and the checksums of dependencies may.
	if b, _ := exec.Command("grep", "-rIil", "--exclude-dir=.git", "--exclude=LICENSE*", "--exclude=NOTICE*",
		"--exclude=go.sum", "--exclude=go.work.sum", "atrium", root).Output(); len(b) > 0 {
		t.Errorf("the renamed copy still names atrium in:\n%s", b)
	}
	for path, want := range map[string]string{
		"README.md":                 "\nAcme is a ",
		"internal/config/config.go": `"sqlite:data/acme.db"`,
		"cmd/acme/main.go":          `"acme:`,
	} {
		if got := readFile(t, filepath.Join(root, path)); !strings.Contains(got, want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}

	command := func(env []string, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = root, env
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
		}
	}
	// build, vet, test and make package share one set of flags
	// (repocopy.BuildEnv), so the copy's packages compile once; templ runs
	// as make generate runs it, so its own build is cached.
	env := repocopy.BuildEnv()
	command(env, "go", "build", "./...")
	command(env, "go", "vet", "./...")
	command(os.Environ(), "bash", "scripts/templ-drift.sh")
	command(env, "go", "test", "-short", "-count=1", "-timeout", "30m", "./internal/config/", "./internal/app/", "./internal/mail/",
		"./internal/server/", "./web/...", "./cmd/acme/")

	dist := t.TempDir()
	command(append(env, "VERSION=v1.0.0", "DIST="+dist, "SOURCE_DATE_EPOCH=1780000000"), "bash", "scripts/package.sh")
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

// TestRenameWord: the old name left in a file takes the form each place
// allows, for a product name with a space and a binary with a dash.
func TestRenameWord(t *testing.T) {
	for _, c := range []struct {
		in     string
		goCode bool
		want   string
	}{
		{"Atrium is a SaaS starter", false, "Acme Cloud is a SaaS starter"},
		{"run 'atrium serve'", false, "run 'acme-cloud serve'"},
		{"the cookie atrium_session", false, "the cookie acme_cloud_session"},
		{"ATRIUM_ENV", false, "ACME_CLOUD_ENV"},
		{"data/atrium.db", false, "data/acme-cloud.db"},
		{`"sqlite:data/atrium.db"`, true, `"sqlite:data/acme-cloud.db"`},
		{`fmt.Fprintln(stderr, "atrium:", err)`, true, `fmt.Fprintln(stderr, "acme-cloud:", err)`},
		{"func buildAtrium() {}", true, "func buildAcmeCloud() {}"},
		{"h.atrium.client.Do(req)", true, "h.acme_cloud.client.Do(req)"},
		{"package atrium", true, "package acme_cloud"},
		{"return atrium.Runbook()", true, "return acme_cloud.Runbook()"},
	} {
		if got := renameWord(c.in, c.goCode, "Acme Cloud", "acme-cloud"); got != c.want {
			t.Errorf("renameWord(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
