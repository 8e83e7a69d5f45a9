package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// The edits to existing files. Each inserts the output of one template
// above a marker comment "scaffold:<name>", indented like the marker, and
// is the only place that knows where that list lives: when a list moves
// to another file, its line here is the one to change.
//
// The audit actions are their own step (auditActions) because the audit
// log's action catalog is the list most likely to move.
var insertions = []insertion{
	auditActions,
	auditCatalog,
	{file: "internal/app/roles.go", marker: "rules", template: "insert_rules"},
	{file: "internal/app/resources.go", marker: "resources", template: "insert_app_resources"},
	{file: "internal/store/resources.go", marker: "resources", template: "insert_store_resources"},
	{file: "internal/store/queries.go", marker: "hot-queries", template: "insert_hot_queries"},
	{file: "internal/store/plan_test.go", marker: "plan-samples", template: "insert_plan_samples"},
	{file: "internal/store/ops/copy.go", marker: "copy-tables", template: "insert_copy_tables"},
	{file: "internal/server/routes.go", marker: "routes", template: "insert_routes"},
	{file: "internal/server/isolation_test.go", marker: "isolation-rows", template: "insert_isolation_rows"},
	{file: "internal/server/isolation_test.go", marker: "isolation-fixtures", template: "insert_isolation_fixtures"},
	workspaceNav,
}

// auditActions adds the resource's audit actions (ActionProjectCreated,
// …Updated, …Deleted) to the file that declares every action.
var auditActions = insertion{file: "internal/app/audit_catalog.go", marker: "audit-actions", template: "insert_audit_actions"}

// auditCatalog adds the summaries of those actions to the audit catalog,
// which the store checks every entry against.
var auditCatalog = insertion{file: "internal/app/audit_catalog.go", marker: "audit-catalog", template: "insert_audit_catalog"}

// workspaceNav adds the resource's tab to the workspace navigation.
var workspaceNav = insertion{file: "web/layout/header.templ", marker: "workspace-nav", template: "insert_workspace_nav"}

// insertion is one edit: the template's output goes above the marker.
type insertion struct {
	file, marker, template string
}

// insertions renders every edit. Several edits of one file apply in turn.
func (r *Resource) insertions(root string, tmpl *template.Template) ([]file, error) {
	edited := map[string][]byte{}
	var order []string
	for _, in := range insertions {
		src, ok := edited[in.file]
		if !ok {
			b, err := os.ReadFile(filepath.Join(root, in.file))
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", in.file, err)
			}
			src = b
			order = append(order, in.file)
		}
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, in.template, r); err != nil {
			return nil, fmt.Errorf("render %s: %w", in.template, err)
		}
		out, err := insertAtMarker(src, "scaffold:"+in.marker, buf.String())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.file, err)
		}
		edited[in.file] = out
	}
	var files []file
	for _, path := range order {
		content, err := tidy(path, edited[path])
		if err != nil {
			return nil, err
		}
		files = append(files, file{path: path, content: content})
	}
	return files, nil
}

// insertAtMarker inserts text above the line holding marker, each line
// indented like the marker's. It refuses when the marker is missing or
// appears twice, or when text's longest line is already there (the
// resource was added before).
func insertAtMarker(src []byte, marker, text string) ([]byte, error) {
	lines := strings.SplitAfter(string(src), "\n")
	at := -1
	for i, l := range lines {
		if strings.Contains(l, marker) {
			if at >= 0 {
				return nil, fmt.Errorf("marker %q appears twice", marker)
			}
			at = i
		}
	}
	if at < 0 {
		return nil, fmt.Errorf("no marker comment %q: put it back where the list ends", marker)
	}
	text = strings.Trim(text, "\n")
	longest := ""
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); len(l) > len(longest) {
			longest = l
		}
	}
	if longest != "" && strings.Contains(string(src), longest) {
		return nil, fmt.Errorf("already holds %q", longest)
	}
	indent := lines[at][:len(lines[at])-len(strings.TrimLeft(lines[at], " \t"))]
	var add []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == "" {
			add = append(add, "\n")
			continue
		}
		add = append(add, indent+l+"\n")
	}
	out := append([]string{}, lines[:at]...)
	out = append(out, add...)
	out = append(out, lines[at:]...)
	return []byte(strings.Join(out, "")), nil
}
