// Command rename makes a fork of Atrium its own product: it rewrites the
// module path and every import of it, renames the binary's folder
// (cmd/<binary>) and every path that names it, the package's name in
// scripts/package.sh (`make package`), the default of PUBLIC_APP_NAME
// (config.DefaultAppName and .env.example) and the README's title, and then
// every "atrium" left in any case (version, help, CLI error prefixes,
// default database and backup file names, cookies, metrics, docs) by the
// name or the binary's name. Running it again with the same arguments
// changes nothing.
//
// Usage: go run ./scripts/rename -module github.com/acme/app -name Acme [-binary acme] [-root .]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rename:", err)
		os.Exit(1)
	}
}

var (
	modulePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._~-]*(/[A-Za-z0-9._~-]+)*$`)
	binaryPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	moduleLine    = regexp.MustCompile(`(?m)^module\s+(\S+)\s*$`)
	appLine       = regexp.MustCompile(`(?m)^APP=(\S+)$`)
	appNameLine   = regexp.MustCompile(`(?m)^(\s*DefaultAppName\s*=\s*)"[^"]*"`)
	envNameLine   = regexp.MustCompile(`(?m)^(#?\s*PUBLIC_APP_NAME=).*$`)
	readmeTitle   = regexp.MustCompile(`\A# .*`)
)

// textFile reports whether rename rewrites the file at path.
func textFile(path string) bool {
	switch filepath.Ext(path) {
	case ".go", ".templ", ".md", ".sh", ".yml", ".yaml", ".example", ".txt", ".toml", ".json", ".jsonl",
		".sql", ".css", ".js", ".tmpl":
		return true
	}
	switch filepath.Base(path) {
	case "Makefile", "go.mod", "run", "Dockerfile", ".gitignore":
		return true
	}
	return false
}

// oldName finds the old product name in any case, as a word or inside one
// (atrium_session, buildAtrium, ATRIUM_).
var oldName = regexp.MustCompile(`(?i)atrium`)

// renameWord replaces every "atrium" left in s, after the rewrites above:
// "Atrium" by the product's name, "atrium" by the binary's name, "ATRIUM"
// by the binary's name in capitals. Where the word is part of a Go
// identifier, a cookie or metric name (next to a letter, digit or "_", or
// a Go selector), it takes the form such a name allows: CamelCase for the name,
// "_" for the binary's "-".
func renameWord(s string, goCode bool, name, binary string) string {
	ident := strings.ReplaceAll(binary, "-", "_")
	camel := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(name, "")
	inName := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	var b strings.Builder
	last := 0
	for _, m := range oldName.FindAllStringIndex(s, -1) {
		word := s[m[0]:m[1]]
		joined := m[0] > 0 && inName(s[m[0]-1]) || m[1] < len(s) && inName(s[m[1]])
		if goCode {
			// h.atrium (a field), package atrium and atrium.Runbook (a
			// package's name), not atrium.db.
			joined = joined || m[0] > 0 && s[m[0]-1] == '.' || strings.HasSuffix(s[:m[0]], "package ") ||
				m[1]+1 < len(s) && s[m[1]] == '.' && s[m[1]+1] >= 'A' && s[m[1]+1] <= 'Z'
		}
		var repl string
		switch {
		case word == "ATRIUM":
			repl = strings.ToUpper(ident)
		case word[0] == 'A' && joined:
			repl = camel
		case word[0] == 'A':
			repl = name
		case joined:
			repl = ident
		default:
			repl = binary
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(repl)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func run(args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("rename", flag.ContinueOnError)
	module := fset.String("module", "", "the new module path, e.g. github.com/acme/app")
	name := fset.String("name", "", "the product's name, e.g. Acme")
	binary := fset.String("binary", "", "the binary's name (default: the name in lower case)")
	root := fset.String("root", ".", "the repository's root")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if !modulePattern.MatchString(*module) {
		return fmt.Errorf("MODULE=%q: want a module path such as github.com/acme/app", *module)
	}
	if strings.TrimSpace(*name) == "" || strings.ContainsAny(*name, "\"\\\n") {
		return fmt.Errorf("NAME=%q: want a product name such as Acme", *name)
	}
	if *binary == "" {
		*binary = strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(*name), "-"), "-")
	}
	if !binaryPattern.MatchString(*binary) {
		return fmt.Errorf("binary name %q: want lower-case letters, digits and dashes", *binary)
	}

	gomod, err := os.ReadFile(filepath.Join(*root, "go.mod"))
	if err != nil {
		return err
	}
	m := moduleLine.FindSubmatch(gomod)
	if m == nil {
		return errors.New("go.mod has no module line")
	}
	oldModule := string(m[1])
	pkg, err := os.ReadFile(filepath.Join(*root, "scripts", "package.sh"))
	if err != nil {
		return err
	}
	a := appLine.FindSubmatch(pkg)
	if a == nil {
		return errors.New("scripts/package.sh sets no APP=")
	}
	oldBinary := string(a[1])

	// The binary's folder moves first, so the walk below sees its files
	// at their new place.
	if oldBinary != *binary {
		from, to := filepath.Join(*root, "cmd", oldBinary), filepath.Join(*root, "cmd", *binary)
		if _, err := os.Stat(to); err == nil {
			return fmt.Errorf("cmd/%s exists already", *binary)
		}
		if err := os.Rename(from, to); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "moved  cmd/%s -> cmd/%s\n", oldBinary, *binary)
	}

	// Import paths: "old/..." anywhere, and "old" alone on an import line
	// (other strings equal to the old module path are left alone).
	importOld := regexp.MustCompile(`"` + regexp.QuoteMeta(oldModule) + `/[^"\s]*"`)
	importRoot := regexp.MustCompile(`(?m)^(\s*(?:import\s+)?(?:[A-Za-z_][A-Za-z0-9_]*\s+)?)"` + regexp.QuoteMeta(oldModule) + `"\s*$`)
	pathOld := regexp.MustCompile(`\b(cmd|bin)/` + regexp.QuoteMeta(oldBinary) + `\b`)
	return filepath.WalkDir(*root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(*root, path)
		if d.IsDir() {
			switch rel {
			case ".git", "bin", "dist", "data", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !textFile(path) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s := string(b)
		out := s
		switch rel {
		case "go.mod":
			out = moduleLine.ReplaceAllString(out, "module "+*module)
		case filepath.Join("scripts", "package.sh"):
			out = appLine.ReplaceAllString(out, "APP="+*binary)
		case filepath.Join("internal", "config", "config.go"):
			out = appNameLine.ReplaceAllString(out, "${1}"+strconv.Quote(*name))
		case ".env.example":
			out = envNameLine.ReplaceAllString(out, "${1}"+*name)
		case "README.md":
			out = readmeTitle.ReplaceAllString(out, "# "+*name)
		}
		if ext := filepath.Ext(path); ext == ".go" || ext == ".templ" {
			out = importOld.ReplaceAllStringFunc(out, func(q string) string {
				return `"` + *module + strings.TrimPrefix(q[1:], oldModule)
			})
			out = importRoot.ReplaceAllString(out, "${1}"+strconv.Quote(*module))
		}
		if oldBinary != *binary {
			out = pathOld.ReplaceAllString(out, "${1}/"+*binary)
		}
		// Then the old name wherever it is left: the version line, help,
		// error prefixes, default file names, cookies, metrics, docs.
		if !strings.EqualFold(oldBinary, *binary) {
			ext := filepath.Ext(path)
			out = renameWord(out, ext == ".go" || ext == ".templ" || ext == ".tmpl", *name, *binary)
		}
		if out == s {
			return nil
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "edit   %s\n", rel)
		return os.WriteFile(path, []byte(out), st.Mode().Perm())
	})
}
