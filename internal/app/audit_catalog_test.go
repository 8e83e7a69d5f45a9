package app_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"atrium/internal/app"
)

// TestAuditCatalog: every catalog entry is complete (a family, a summary
// that starts with the actor and renders without leftover placeholders),
// and every audit action code declared anywhere in the code (a constant
// named Action…) is in the catalog.
func TestAuditCatalog(t *testing.T) {
	families := map[app.AuditFamily]bool{}
	for _, f := range app.AuditFamilies() {
		families[f] = true
	}
	seen := map[string]bool{}
	for _, a := range app.AuditActions() {
		if seen[a.Code] {
			t.Errorf("%s: listed twice", a.Code)
		}
		seen[a.Code] = true
		if !families[a.Family] {
			t.Errorf("%s: family %q is not one of %v", a.Code, a.Family, app.AuditFamilies())
		}
		if !strings.HasPrefix(a.Summary, "{actor} ") {
			t.Errorf("%s: summary %q does not start with {actor}", a.Code, a.Summary)
		}
		e := &app.AuditEntry{Action: a.Code, ActorName: "Ada Lovelace", Metadata: map[string]any{}}
		if s := e.Summary(); strings.ContainsAny(s, "{}") || !strings.HasPrefix(s, "Ada Lovelace ") {
			t.Errorf("%s: summary renders as %q", a.Code, s)
		}
	}
	home := filepath.Join("..", "..", "internal", "app", "audit_catalog.go")
	for _, d := range declaredActions(t) {
		if !seen[d.code] {
			t.Errorf("action %q is declared in the code but missing from the catalog (internal/app/audit_catalog.go)", d.code)
		}
		if d.file != home {
			t.Errorf("action %q is declared in %s: declare every action code in internal/app/audit_catalog.go, beside its catalog entry", d.code, d.file)
		}
	}
}

// declaredAction is a string constant named Action… and the file that
// declares it.
type declaredAction struct{ code, file string }

// declaredActions returns every string constant named Action… in the
// module's non-test Go files.
func declaredActions(t *testing.T) []declaredAction {
	t.Helper()
	var out []declaredAction
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Action") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					out = append(out, declaredAction{v, path})
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 20 {
		t.Fatalf("found %d action constants; the walk missed the code", len(out))
	}
	return out
}

// TestAuditEntry_Summary: entries read as sentences with names.
func TestAuditEntry_Summary(t *testing.T) {
	for _, c := range []struct {
		e    app.AuditEntry
		want string
	}{
		{app.AuditEntry{ActorID: 1, ActorName: "Ada Lovelace", ActorEmail: "ada@example.com", Action: app.ActionInviteSent,
			Metadata: map[string]any{"email": "grace@example.com", "role": "admin"}}, "Ada Lovelace invited grace@example.com as Admin"},
		{app.AuditEntry{Action: app.ActionSubscriptionDeleted}, "Stripe ended the Pro subscription"},
		{app.AuditEntry{ActorID: 2, ActorEmail: "bob@example.com", Action: app.ActionMemberRoleChanged,
			Metadata: map[string]any{"email": "c@example.com", "from": "member", "to": "admin"}}, "bob@example.com changed c@example.com's role from Member to Admin"},
		{app.AuditEntry{ActorID: 3, Action: app.ActionMemberLeft}, "A deleted user left the workspace"},
	} {
		if got := c.e.Summary(); got != c.want {
			t.Errorf("Summary = %q, want %q", got, c.want)
		}
	}
}

func TestAuditEntry_ByAPIKey(t *testing.T) {
	t.Parallel()
	k := &app.APIKey{ID: 7, Name: "deploy bot", Prefix: "atr_ab12cd3e"}
	label := "API key 'deploy bot' (atr_ab12cd3e…)"
	cases := []struct {
		name      string
		entry     app.AuditEntry
		actorName string
	}{
		{name: "NoUser", entry: app.AuditEntry{Metadata: map[string]any{"email": "new@example.com"}}, actorName: label},
		{name: "NamedUser", entry: app.AuditEntry{ActorID: 3, ActorName: "Ada"}, actorName: "Ada"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := maps.Clone(tc.entry.Metadata)
			got := tc.entry.ByAPIKey(k)
			if got.ActorName != tc.actorName {
				t.Errorf("ActorName=%q, want %q", got.ActorName, tc.actorName)
			}
			if got.Metadata["actor"] != label || got.Metadata["actor_api_key_id"] != int64(7) {
				t.Errorf("Metadata=%v, want the key's id and label", got.Metadata)
			}
			for key, v := range before {
				if got.Metadata[key] != v {
					t.Errorf("Metadata[%q]=%v, want %v kept", key, got.Metadata[key], v)
				}
			}
			if !maps.Equal(tc.entry.Metadata, before) {
				t.Errorf("the entry's own metadata changed: %v", tc.entry.Metadata)
			}
		})
	}
}
