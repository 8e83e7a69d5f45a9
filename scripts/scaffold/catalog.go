package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// The generated pages and handlers show no English of their own: they ask
// the message catalogs (internal/i18n/locales/<language>/*.json) for it.
// The scaffold writes the resource's area file in every language, with
// the English text in each (it cannot translate; the developer does), and
// adds the English formats of the app errors it generates to errors.json
// and the summaries of its audit actions to audit.json, keeping every
// entry those files hold.

// localesDir is where the catalogs live, one folder per language.
const localesDir = "internal/i18n/locales"

// sourceLanguage is the folder of the language every key is written in first.
const sourceLanguage = "en"

// navTabLabel matches a workspace tab whose label comes from the catalog.
var navTabLabel = regexp.MustCompile(`\{w\.URL\.Page\([^)]*\), i18n\.T\(ctx, `)

// navTranslated reports whether the workspace navigation labels its tabs
// with i18n.T(ctx, …), so a new tab can too; while its labels are English
// literals there is no ctx where the tabs are made, and the new tab's label
// stays a literal beside them.
func navTranslated(root string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(root, workspaceNav.file))
	if err != nil {
		return false, err
	}
	return navTabLabel.Match(b), nil
}

// Catalog returns the English text of the resource's catalog keys, which
// the templates name: <area>.<page or section>.<what>.
func (r *Resource) Catalog() map[string]string {
	a := r.Area + "."
	m := map[string]string{
		a + "title":             r.CapPlural,
		a + "list.new":          "New " + r.Label,
		a + "list.empty_title":  "No " + r.LabelPlural + " yet",
		a + "list.empty_body":   r.CapPlural + " you and your teammates create appear here, newest first.",
		a + "list.create_first": "Create the first " + r.Label,
		a + "list.heading":      r.Cap + " list",
		a + "list.pages":        r.Cap + " pages",
		a + "list.previous":     "Previous",
		a + "list.next":         "Next",
		a + "detail.edit":       "Edit",
		a + "detail.delete":     "Delete",
		a + "form.new_title":    "New " + r.Label,
		a + "form.create":       "Create " + r.Label,
		a + "form.edit_title":   "Edit “{{.Heading}}”",
		a + "form.save":         "Save changes",
		a + "form.cancel":       "Cancel",
		a + "delete.title":      "Delete {{.Heading}}",
		a + "delete.heading":    "Delete “{{.Heading}}”?",
		a + "delete.body":       "This deletes the " + r.Label + " for good. The audit log keeps a record of the deletion.",
		a + "delete.submit":     "Delete " + r.Label,
		a + "delete.cancel":     "Cancel",
		a + "flash.created":     r.Cap + " “{{.Heading}}” created.",
		a + "flash.saved":       r.Cap + " “{{.Heading}}” saved.",
		a + "flash.deleted":     r.Cap + " deleted.",
	}
	if r.TitleField() == nil {
		// Rows are named by their id: "Project 12".
		m[a+"name"] = r.Cap
		m[a+"heading"] = r.Cap + " {{.ID}}"
	}
	if r.NavTranslated {
		m[a+"nav"] = r.CapPlural
	}
	for _, f := range r.Fields {
		m[a+"field."+f.Name] = f.Label
		switch f.Type {
		case "bool":
			m[a+"value.yes"], m[a+"value.no"] = "Yes", "No"
		case "member":
			m[a+"value.no_one"] = "No one"
		case "decimal":
			m[a+"form.decimal_hint"] = "A number with up to two decimals, such as 12.50"
		case "enum":
			for _, v := range f.Values {
				m[a+"choice."+f.Name+"."+v] = humanize(v)
			}
		}
	}
	return m
}

// ErrorFormats returns the English formats of the app errors the
// generated code returns (app.tmpl's field rules, the store's and the role
// rules' errors), each once: errors.json's keys.
func (r *Resource) ErrorFormats() []string {
	out := []string{
		r.Cap + " not found.",
		"Only members of this workspace can change its " + r.LabelPlural + ".",
		"Only owners and admins can delete " + r.LabelPlural + ".",
	}
	for _, f := range r.Fields {
		switch f.Type {
		case "string":
			out = append(out, "Enter the "+f.Lower()+".", "Keep the "+f.Lower()+" to 200 characters.")
		case "text":
			out = append(out, "Keep the "+f.Lower()+" to 10,000 characters.")
		case "int":
			out = append(out, "Enter a whole number.")
		case "decimal":
			out = append(out, "Enter a number with at most two decimals, such as 12.50.")
		case "bool":
			out = append(out, "Tick the box or leave it empty.")
		case "date":
			out = append(out, "Enter a date, or pick one from the calendar.")
		case "time":
			out = append(out, "Enter a time, such as 09:30.")
		case "enum":
			out = append(out, "Choose one of: %s.")
		case "member":
			out = append(out, "Choose a member of this workspace.")
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// auditVerbs are the resource's audit actions, by the verb that ends
// their code (project.created) and reads in their summary.
var auditVerbs = []string{"created", "updated", "deleted"}

// AuditSummary returns the English template of an action's summary in
// the app's audit catalog (insert_audit_catalog writes the same).
func (r *Resource) AuditSummary(verb string) string {
	return "{actor} " + verb + " the " + r.Label + " “{heading}”"
}

// auditKeys returns the audit catalog's keys for the resource's actions:
// each summary with {{.Actor}} and {{.heading}}, and its filter label with
// "…" for the heading, as internal/server/audit_text.go reads them.
func (r *Resource) auditKeys() map[string]string {
	m := map[string]string{}
	for _, verb := range auditVerbs {
		code := "audit.action." + r.Snake + "." + verb
		summary := r.AuditSummary(verb)
		m[code+".summary"] = strings.NewReplacer("{actor}", "{{.Actor}}", "{heading}", "{{.heading}}").Replace(summary)
		m[code+".label"] = strings.ReplaceAll(strings.TrimPrefix(summary, "{actor} "), "{heading}", "…")
	}
	return m
}

// languages returns the catalog folders (language tags), the source
// language first.
func languages(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, localesDir))
	if err != nil {
		return nil, fmt.Errorf("read the catalogs: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != sourceLanguage {
			out = append(out, e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(root, localesDir, sourceLanguage)); err != nil {
		return nil, fmt.Errorf("no %s catalog: %w", sourceLanguage, err)
	}
	sort.Strings(out)
	return append([]string{sourceLanguage}, out...), nil
}

// areaFile returns the path of the resource's catalog in a language.
func (r *Resource) areaFile(lang string) string {
	return localesDir + "/" + lang + "/" + r.Area + ".json"
}

// catalogs plans the catalog files: the resource's area file in every
// language (new), and errors.json and audit.json of every language with
// the keys they lack added. It refuses when the area is another's: its
// file exists, or a catalog already has keys under its name.
func (r *Resource) catalogs(root string) (files, edits []file, err error) {
	langs, err := languages(root)
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(filepath.Join(root, r.areaFile(sourceLanguage))); err == nil {
		return nil, nil, fmt.Errorf("the catalog area %q is taken: %s exists; give the resource another name (or -plural)", r.Area, r.areaFile(sourceLanguage))
	}
	srcFiles, _ := filepath.Glob(filepath.Join(root, localesDir, sourceLanguage, "*.json"))
	for _, path := range srcFiles {
		keys, err := readCatalog(path)
		if err != nil {
			return nil, nil, err
		}
		for k := range keys {
			if strings.HasPrefix(k, r.Area+".") {
				return nil, nil, fmt.Errorf("the catalog area %q is taken: %s already has the key %s; give the resource another name (or -plural)",
					r.Area, filepath.ToSlash(must(filepath.Rel(root, path))), k)
			}
		}
	}
	own, err := encodeCatalog(stringValues(r.Catalog()))
	if err != nil {
		return nil, nil, err
	}
	errs := map[string]string{}
	for _, f := range r.ErrorFormats() {
		errs[f] = f
	}
	for _, lang := range langs {
		if _, err := os.Stat(filepath.Join(root, r.areaFile(lang))); err == nil {
			return nil, nil, fmt.Errorf("the catalog area %q is taken: %s exists; give the resource another name (or -plural)", r.Area, r.areaFile(lang))
		}
		files = append(files, file{path: r.areaFile(lang), content: own})
		for _, add := range []struct {
			name string
			keys map[string]string
		}{{"errors.json", errs}, {"audit.json", r.auditKeys()}} {
			path := localesDir + "/" + lang + "/" + add.name
			src, err := os.ReadFile(filepath.Join(root, path))
			if errors.Is(err, fs.ErrNotExist) {
				src, err = []byte("{}\n"), nil
			}
			if err != nil {
				return nil, nil, err
			}
			out, changed, err := mergeCatalog(src, add.keys)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", path, err)
			}
			if changed {
				edits = append(edits, file{path: path, content: out})
			}
		}
	}
	return files, edits, nil
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// readCatalog returns a catalog file's entries as they are written.
func readCatalog(path string) (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// mergeCatalog returns the catalog src with the keys of add it lacks, and
// whether it added any. Entries src has are kept as they are, translations
// included.
func mergeCatalog(src []byte, add map[string]string) ([]byte, bool, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(src, &m); err != nil {
		return nil, false, err
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	changed := false
	for k, v := range stringValues(add) {
		if _, ok := m[k]; !ok {
			m[k], changed = v, true
		}
	}
	if !changed {
		return src, false, nil
	}
	out, err := encodeCatalog(m)
	return out, true, err
}

// stringValues returns m's values as JSON strings, HTML left unescaped.
func stringValues(m map[string]string) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = must(encodeJSON(v, ""))
	}
	return out
}

// encodeCatalog writes a catalog as the repository keeps them: keys
// sorted, two-space indent, UTF-8 as it is (no \u escapes, no HTML
// escaping), a newline at the end.
func encodeCatalog(m map[string]json.RawMessage) ([]byte, error) {
	return encodeJSON(m, "  ")
}

func encodeJSON(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if indent == "" {
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	return buf.Bytes(), nil
}
