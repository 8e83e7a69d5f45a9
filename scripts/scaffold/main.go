// Command scaffold generates a workspace-scoped resource in Atrium's own
// layout: its migrations for SQLite and PostgreSQL, the domain type and
// rules (internal/app), the store service (internal/store), the handlers
// (internal/server), the templ pages (web/page) and their tests, and adds
// the resource to the places that list every resource (audit actions, role
// rules, routes, workspace navigation, hot queries, tables to copy, the
// tenant-isolation table) at their "scaffold:" marker comments.
//
// Usage:
//
//	go run ./scripts/scaffold -name Project -fields "title:string due:date done:bool notes:text" [-plural Projects] [-dry-run]
//	go run ./scripts/scaffold -job WeeklyDigest [-every 168h] [-dry-run]
//
// Field types: string, text, int, decimal, bool, date, time, enum(a|b|c)
// and member (a member of the workspace). It refuses to overwrite a file;
// -dry-run lists the files it would write and change. Run `go tool templ
// generate` afterwards (`make scaffold` does).
package main

import (
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"unicode"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scaffold:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("scaffold", flag.ContinueOnError)
	name := fs.String("name", "", "the resource's name, singular, in CamelCase (Project)")
	fields := fs.String("fields", "", `its fields: "title:string due:date status:enum(open|done) owner:member"`)
	plural := fs.String("plural", "", "the plural of the name when adding s is wrong (default: derived)")
	root := fs.String("root", ".", "the repository's root")
	dryRun := fs.Bool("dry-run", false, "list the files it would write and change, and write nothing")
	job := fs.String("job", "", "scaffold a background job of this name instead of a resource (WeeklyDigest)")
	every := fs.Duration("every", 0, "with -job: queue it on this schedule (168h), on the leader instance")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *job != "" {
		return runJob(*root, *job, *every, *dryRun, stdout)
	}
	version, err := nextMigration(*root)
	if err != nil {
		return err
	}
	r, err := newResource(*name, *plural, *fields, version)
	if err != nil {
		return err
	}
	if r.Module, err = modulePath(*root); err != nil {
		return err
	}
	if r.NavTranslated, err = navTranslated(*root); err != nil {
		return err
	}
	plan, err := r.plan(*root)
	if err != nil {
		return err
	}
	if *dryRun {
		for _, f := range plan.files {
			fmt.Fprintf(stdout, "create %s\n", f.path)
		}
		for _, e := range plan.edits {
			fmt.Fprintf(stdout, "edit   %s\n", e.path)
		}
		return nil
	}
	if err := plan.apply(*root, stdout); err != nil {
		return err
	}
	langs, err := languages(*root)
	if err != nil {
		return err
	}
	r.printNext(stdout, langs)
	return nil
}

// printNext tells what to do once the files are written: the server reads
// routes, pages and migrations when it starts, so it must restart, and the
// new page's address (the demo data's workspace acme, or any other); the
// catalogs of the languages but English hold English text to translate.
func (r *Resource) printNext(w io.Writer, langs []string) {
	fmt.Fprintf(w, `
Next:
  1. Restart the server: stop 'make dev' (Ctrl-C) and run it again; it applies migration %s and serves the new routes.
  2. Open http://localhost:8080/w/acme/%s (any workspace's slug in place of acme), or its %q tab in the workspace's navigation.
  3. Run its tests: go test -run '%s' ./internal/app/ ./internal/store/ ./internal/server/
`, r.Migration, r.Path, r.CapPlural, r.Name)
	var others []string
	for _, lang := range langs {
		if lang != sourceLanguage {
			others = append(others, lang)
		}
	}
	if len(others) == 0 {
		return
	}
	fmt.Fprintf(w, "  4. Translate its text: every language's catalog holds it in English for now.\n")
	for _, lang := range others {
		fmt.Fprintf(w, "       %s (all of it)\n", r.areaFile(lang))
		fmt.Fprintf(w, "       %s/%s/audit.json (audit.action.%s.*)\n", localesDir, lang, r.Snake)
		fmt.Fprintf(w, "       %s/%s/errors.json (the entries still in English, such as %q)\n", localesDir, lang, r.ErrorFormats()[0])
	}
	fmt.Fprintf(w, "     then check them: go test ./internal/i18n/ && go test -run 'TestI18n_%s|TestAuditCatalog' ./internal/server/\n", r.Name)
}

// Resource is what the templates see: the names of the resource in every
// form the code needs, and its fields.
type Resource struct {
	Name        string // Project
	Plural      string // Projects
	Var         string // project
	VarPlural   string // projects
	Table       string // projects
	Snake       string // project (audit actions, placeholders, test ids)
	Path        string // projects (URLs)
	Label       string // project (in sentences)
	LabelPlural string // projects
	Cap         string // Project (headings)
	CapPlural   string // Projects
	Migration   string // 00010
	Area        string // projects: the catalog area, locales/*/projects.json, and its keys' first segment
	// NavTranslated: the workspace navigation's tabs take their labels
	// from the catalog (i18n.T(ctx, …)), so the new tab does too.
	NavTranslated bool
	Module        string // the module path, from go.mod: "atrium"
	Fields        []Field
}

// Field is one field of the resource.
type Field struct {
	Name   string   // as written in FIELDS, snake_case: due_date
	Go     string   // DueDate
	Label  string   // Due date
	Type   string   // string, text, int, decimal, bool, date, time, enum or member
	Values []string // the choices of an enum
	Column string   // due_date; owner_user_id for a member
	Var    string   // dueDate
}

var (
	namePattern  = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	fieldPattern = regexp.MustCompile(`^([a-z][a-z0-9_]*):(string|text|int|decimal|bool|date|time|member|enum\(([a-z0-9_]+(\|[a-z0-9_]+)*)\))$`)
	// reserved are the columns every resource has already, and words Go
	// or the templates cannot use as names.
	reserved = []string{"id", "workspace_id", "created_at", "updated_at", "type", "func", "map", "range", "select",
		"case", "default", "var", "const", "go", "chan", "interface", "package", "import", "return", "break",
		"continue", "for", "if", "else", "switch", "struct", "defer", "goto", "fallthrough", "page", "url", "heading", "input"}
)

// newResource checks the name and fields and derives every name from them.
func newResource(name, plural, fields, migration string) (*Resource, error) {
	if !namePattern.MatchString(name) {
		return nil, fmt.Errorf("NAME=%q: want a singular CamelCase name such as Project", name)
	}
	if plural == "" {
		plural = pluralize(name)
	}
	if !namePattern.MatchString(plural) || plural == name {
		return nil, fmt.Errorf("plural %q: want a CamelCase plural different from the name", plural)
	}
	r := &Resource{Name: name, Plural: plural, Var: lowerFirst(name), VarPlural: lowerFirst(plural),
		Table: snake(plural), Label: strings.ReplaceAll(snake(name), "_", " "),
		LabelPlural: strings.ReplaceAll(snake(plural), "_", " "), Migration: migration,
		Snake: snake(name), Path: strings.ReplaceAll(snake(plural), "_", "-"), Area: snake(plural)}
	r.Cap, r.CapPlural = humanize(r.Label), humanize(r.LabelPlural)
	seen := map[string]bool{}
	for _, spec := range strings.Fields(fields) {
		m := fieldPattern.FindStringSubmatch(spec)
		if m == nil {
			return nil, fmt.Errorf("field %q: want name:type, with a snake_case name and a type among string, text, int, decimal, bool, date, time, enum(a|b|c), member", spec)
		}
		f := Field{Name: m[1], Type: m[2], Column: m[1]}
		if strings.HasPrefix(f.Type, "enum(") {
			f.Type, f.Values = "enum", strings.Split(m[3], "|")
		}
		if f.Type == "member" {
			f.Column = f.Name + "_user_id"
		}
		if slices.Contains(reserved, f.Name) || strings.HasSuffix(f.Name, "_") || strings.Contains(f.Name, "__") {
			return nil, fmt.Errorf("field %q: %s is a reserved or unusable name", spec, f.Name)
		}
		if seen[f.Name] || seen[f.Column] {
			return nil, fmt.Errorf("field %q: %s is used twice", spec, f.Name)
		}
		seen[f.Name], seen[f.Column] = true, true
		f.Go = camel(f.Name)
		f.Var = lowerFirst(f.Go)
		f.Label = strings.ToUpper(f.Name[:1]) + strings.ReplaceAll(f.Name[1:], "_", " ")
		r.Fields = append(r.Fields, f)
	}
	if len(r.Fields) == 0 {
		return nil, errors.New(`FIELDS is empty: give at least one field, e.g. FIELDS="title:string"`)
	}
	return r, nil
}

// TitleField is the field that names a row in lists, flashes and the
// audit log: the first string field, or nil (rows are then "Project 12").
func (r *Resource) TitleField() *Field {
	for i := range r.Fields {
		if r.Fields[i].Type == "string" {
			return &r.Fields[i]
		}
	}
	return nil
}

// Has reports whether a field of type typ exists.
func (r *Resource) Has(typ string) bool {
	return slices.ContainsFunc(r.Fields, func(f Field) bool { return f.Type == typ })
}

// Listed are the fields the list page shows: all but long text.
func (r *Resource) Listed() []Field {
	return slices.DeleteFunc(slices.Clone(r.Fields), func(f Field) bool { return f.Type == "text" })
}

// Columns are the list's columns after the first, which names the row.
func (r *Resource) Columns() []Field {
	t := r.TitleField()
	return slices.DeleteFunc(r.Listed(), func(f Field) bool { return t != nil && f.Name == t.Name })
}

// Choices are the enum and member fields: the ones with a select.
func (r *Resource) Choices() []Field {
	return slices.DeleteFunc(slices.Clone(r.Fields), func(f Field) bool { return f.Type != "enum" && f.Type != "member" })
}

// Sample returns a valid form value for f, as a test would type it.
func (f Field) Sample() string {
	switch f.Type {
	case "string":
		return "First " + f.Label
	case "text":
		return "Some notes about " + f.Label
	case "int":
		return "42"
	case "decimal":
		return "12.50"
	case "bool":
		return "on"
	case "date":
		return "2026-12-24"
	case "time":
		return "09:30"
	case "enum":
		return f.Values[len(f.Values)-1]
	}
	return ""
}

// Shown returns how the show page displays Sample.
func (f Field) Shown() string {
	switch f.Type {
	case "bool":
		return "Yes"
	case "date":
		return "24 Dec 2026"
	case "enum":
		return humanize(f.Values[len(f.Values)-1])
	}
	return f.Sample()
}

// UserData reports whether the field's value is text people typed (or a
// member's name), which pages mark translate="no".
func (f Field) UserData() bool {
	return f.Type == "string" || f.Type == "text" || f.Type == "member"
}

// Lower is the field's name in a sentence: "due date".
func (f Field) Lower() string { return strings.ReplaceAll(f.Name, "_", " ") }

// Humanize returns an enum value as shown: "in_progress" -> "In progress".
func (f Field) Humanize(v string) string { return humanize(v) }

func humanize(v string) string {
	v = strings.ReplaceAll(v, "_", " ")
	return strings.ToUpper(v[:1]) + v[1:]
}

func pluralize(s string) string {
	switch {
	case strings.HasSuffix(s, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(s[len(s)-2])):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"), strings.HasSuffix(s, "ch"), strings.HasSuffix(s, "sh"):
		return s + "es"
	}
	return s + "s"
}

func lowerFirst(s string) string {
	// An initialism at the start stays together: "URLSet" -> "urlSet".
	rs := []rune(s)
	i := 0
	for i < len(rs) && unicode.IsUpper(rs[i]) && (i == 0 || i+1 == len(rs) || unicode.IsUpper(rs[i+1])) {
		rs[i] = unicode.ToLower(rs[i])
		i++
	}
	return string(rs)
}

func snake(s string) string {
	var b strings.Builder
	for i, c := range s {
		if unicode.IsUpper(c) {
			if i > 0 {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// initialisms are written in capitals in Go names.
var initialisms = map[string]string{"id": "ID", "url": "URL", "ip": "IP", "api": "API", "html": "HTML", "http": "HTTP"}

func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if up, ok := initialisms[part]; ok {
			b.WriteString(up)
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// modulePath returns the module path of the repository at root.
func modulePath(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^module\s+(\S+)\s*$`).FindSubmatch(b)
	if m == nil {
		return "", errors.New("go.mod has no module line")
	}
	return string(m[1]), nil
}

// migrationFile matches a goose migration's file name.
var migrationFile = regexp.MustCompile(`^(\d{5})_.*\.sql$`)

// nextMigration returns the version after the newest migration of either
// dialect, as five digits.
func nextMigration(root string) (string, error) {
	newest := 0
	for _, dialect := range []string{"sqlite", "postgres"} {
		entries, err := os.ReadDir(filepath.Join(root, "migrations", dialect))
		if err != nil {
			return "", fmt.Errorf("read migrations: %w (is -root the repository?)", err)
		}
		for _, e := range entries {
			if m := migrationFile.FindStringSubmatch(e.Name()); m != nil {
				n, _ := strconv.Atoi(m[1])
				newest = max(newest, n)
			}
		}
	}
	return fmt.Sprintf("%05d", newest+1), nil
}

// file is a new file to write.
type file struct {
	path    string
	content []byte
}

// plan is what a run writes: new files, and edits to existing ones.
type plan struct {
	files []file
	edits []file // the whole new content of each edited file
}

// outputs maps each template to the file it writes.
func (r *Resource) outputs() map[string]string {
	return map[string]string{
		"migration_sqlite.tmpl":   "migrations/sqlite/" + r.Migration + "_" + r.Table + ".sql",
		"migration_postgres.tmpl": "migrations/postgres/" + r.Migration + "_" + r.Table + ".sql",
		"app.tmpl":                "internal/app/" + snake(r.Name) + ".go",
		"app_test.tmpl":           "internal/app/" + snake(r.Name) + "_test.go",
		"store.tmpl":              "internal/store/" + snake(r.Name) + ".go",
		"store_test.tmpl":         "internal/store/" + snake(r.Name) + "_test.go",
		"server.tmpl":             "internal/server/" + snake(r.Name) + ".go",
		"server_test.tmpl":        "internal/server/" + snake(r.Name) + "_test.go",
		"page.tmpl":               "web/page/" + snake(r.Name) + ".templ",
	}
}

// plan renders every file and edit, refusing when a file to create exists
// or a marker is missing.
func (r *Resource) plan(root string) (*plan, error) {
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	p := &plan{}
	outs := r.outputs()
	names := make([]string, 0, len(outs))
	for n := range outs {
		names = append(names, n)
	}
	sort.Strings(names)
	var exists []string
	for _, n := range names {
		path := outs[n]
		if _, err := os.Stat(filepath.Join(root, path)); err == nil {
			exists = append(exists, path)
			continue
		}
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, n, r); err != nil {
			return nil, fmt.Errorf("render %s: %w", path, err)
		}
		content, err := tidy(path, buf.Bytes())
		if err != nil {
			return nil, err
		}
		p.files = append(p.files, file{path: path, content: content})
	}
	if len(exists) > 0 {
		return nil, fmt.Errorf("refusing to overwrite %s", strings.Join(exists, ", "))
	}
	catalogFiles, catalogEdits, err := r.catalogs(root)
	if err != nil {
		return nil, err
	}
	p.files = append(p.files, catalogFiles...)
	edits, err := r.insertions(root, tmpl)
	if err != nil {
		return nil, err
	}
	p.edits = append(edits, catalogEdits...)
	return p, nil
}

// parseTemplates parses the resource's templates.
func parseTemplates() (*template.Template, error) {
	return template.New("").Delims("[[", "]]").Funcs(template.FuncMap{
		"quote": strconv.Quote,
		"join":  strings.Join,
	}).ParseFS(templateFS, "templates/*.tmpl")
}

// tidy gofmts Go files.
func tidy(path string, b []byte) ([]byte, error) {
	if !strings.HasSuffix(path, ".go") {
		return b, nil
	}
	out, err := format.Source(b)
	if err != nil {
		return nil, fmt.Errorf("gofmt %s: %w\n%s", path, err, b)
	}
	return out, nil
}

// apply writes the plan: new files first, then the edits.
func (p *plan) apply(root string, stdout io.Writer) error {
	for _, f := range p.files {
		path := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		// O_EXCL: a file that appeared since the plan is not overwritten.
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := fh.Write(f.content); err != nil {
			fh.Close()
			return err
		}
		if err := fh.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "create %s\n", f.path)
	}
	for _, e := range p.edits {
		if err := os.WriteFile(filepath.Join(root, e.path), e.content, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "edit   %s\n", e.path)
	}
	return nil
}
