// Command notice writes the NOTICE file of a release: the license texts of
// the Go standard library and of every module linked into the packages
// named, read from the module cache. The output depends only on go.sum and
// the Go toolchain, so it is the same on every run.
//
// Usage: go run ./scripts/notice [-goos GOOS -goarch GOARCH] ./cmd/atrium > NOTICE
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "notice:", err)
		os.Exit(1)
	}
}

// module is the part of "go list -json" output that names a module.
type module struct {
	Path    string
	Version string
	Dir     string
	Main    bool
	Replace *module
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("notice", flag.ContinueOnError)
	goos := fs.String("goos", "", "target GOOS (default: the host's)")
	goarch := fs.String("goarch", "", "target GOARCH (default: the host's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: notice [-goos GOOS -goarch GOARCH] PACKAGE [PACKAGE ...]")
	}
	env := os.Environ()
	if *goos != "" {
		env = append(env, "GOOS="+*goos)
	}
	if *goarch != "" {
		env = append(env, "GOARCH="+*goarch)
	}
	mods, err := linkedModules(env, fs.Args())
	if err != nil {
		return err
	}
	goroot, err := goEnv(env, "GOROOT")
	if err != nil {
		return err
	}
	goversion, err := goEnv(env, "GOVERSION")
	if err != nil {
		return err
	}

	var b bytes.Buffer
	rule := strings.Repeat("=", 78) + "\n"
	fmt.Fprintf(&b, "NOTICE\n\nThe atrium binary in this package is built from Atrium (see LICENSE) and includes\n"+
		"the Go standard library and the following %d Go modules:\n\n", len(mods))
	for _, m := range mods {
		fmt.Fprintf(&b, "  %s %s\n", m.Path, m.Version)
	}
	fmt.Fprintf(&b, "\nTheir license texts follow.\n\n")
	std, err := os.ReadFile(filepath.Join(goroot, "LICENSE"))
	if err != nil {
		return fmt.Errorf("read the Go license: %w", err)
	}
	fmt.Fprintf(&b, "%sThe Go standard library and runtime (%s)\n%s\n%s\n", rule, goversion, rule, strings.TrimRight(string(std), "\n"))
	for _, m := range mods {
		files, err := licenseFiles(m.Dir)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Path, err)
		}
		fmt.Fprintf(&b, "\n%s%s %s\n%s", rule, m.Path, m.Version, rule)
		if len(files) == 0 {
			fmt.Fprintf(stderr, "notice: warning: %s %s has no license file in its module root\n", m.Path, m.Version)
			fmt.Fprintf(&b, "\n(no license file in the module root; see https://pkg.go.dev/%s?tab=licenses)\n", m.Path)
		}
		for _, f := range files {
			text, err := os.ReadFile(filepath.Join(m.Dir, f))
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "\n--- %s ---\n\n%s\n", f, strings.TrimRight(string(text), "\n"))
		}
	}
	_, err = stdout.Write(b.Bytes())
	return err
}

// linkedModules lists the modules that provide packages the named
// packages import (directly or not), sorted by path, without the main
// module. Replacements are followed to the code actually built.
func linkedModules(env, pkgs []string) ([]module, error) {
	cmd := exec.Command("go", append([]string{"list", "-deps", "-json=Module"}, pkgs...)...)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	seen := map[string]module{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct{ Module *module }
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		m := p.Module
		if m == nil || m.Main {
			continue // the standard library, or Atrium itself
		}
		if m.Replace != nil {
			r := *m.Replace
			r.Path = m.Path + " => " + r.Path
			m = &r
		}
		if m.Dir == "" {
			return nil, fmt.Errorf("%s %s is not in the module cache: run go mod download", m.Path, m.Version)
		}
		seen[m.Path] = *m
	}
	mods := make([]module, 0, len(seen))
	for _, m := range seen {
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b module) int { return strings.Compare(a.Path, b.Path) })
	return mods, nil
}

// licenseName matches the files that carry a module's license terms.
var licenseName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|notice|unlicense|patents)([.\-_].*)?$`)

// licenseFiles returns the license files in a module's root, sorted.
func licenseFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && licenseName.MatchString(e.Name()) {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

func goEnv(env []string, name string) (string, error) {
	cmd := exec.Command("go", "env", name)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}
