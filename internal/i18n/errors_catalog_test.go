package i18n_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

// errorSources are the packages whose app errors pages show.
var errorSources = []string{"../app", "../store", "../billing", "../server"}

// appErrorFormats returns the English texts of the app errors written in
// dirs, each with where it is: the string-literal formats of calls to
// app.Errorf and app.FieldErrorf (Errorf and FieldErrorf inside package
// app) and the literal Message of app.Error composite literals; and the
// literal labels given to app.CleanText and app's checkText. Tests are
// left out.
func appErrorFormats(t *testing.T, dirs ...string) (out, labels map[string]string) {
	t.Helper()
	out, labels = map[string]string{}, map[string]string{}
	fset := token.NewFileSet()
	for _, dir := range dirs {
		inApp := filepath.Base(dir) == "app"
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			inPkg := inApp && f.Name.Name == "app"
			isApp := func(e ast.Expr, name string) bool {
				switch e := e.(type) {
				case *ast.SelectorExpr:
					x, ok := e.X.(*ast.Ident)
					return ok && x.Name == "app" && e.Sel.Name == name
				case *ast.Ident:
					return inPkg && e.Name == name
				}
				return false
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if (isApp(n.Fun, "Errorf") || isApp(n.Fun, "FieldErrorf")) && len(n.Args) >= 2 {
						if s, ok := literal(n.Args[1]); ok {
							out[s] = fset.Position(n.Pos()).String()
						}
					}
					// The label of the field a text check names in its
					// errors.
					if (isApp(n.Fun, "CleanText") || isApp(n.Fun, "checkText")) && len(n.Args) >= 2 {
						if s, ok := literal(n.Args[1]); ok {
							labels[s] = fset.Position(n.Pos()).String()
						}
					}
				case *ast.CompositeLit:
					if isApp(n.Type, "Error") {
						for _, el := range n.Elts {
							kv, ok := el.(*ast.KeyValueExpr)
							if !ok {
								continue
							}
							if k, _ := kv.Key.(*ast.Ident); k != nil && k.Name == "Message" {
								if s, ok := literal(kv.Value); ok {
									out[s] = fset.Position(n.Pos()).String()
								}
							}
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out, labels
}

// literal returns the value of a string literal, or of literals joined
// with +.
func literal(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return literal(e.X)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok := literal(e.X)
		if !ok {
			return "", false
		}
		b, ok := literal(e.Y)
		return a + b, ok
	}
	return "", false
}

// TestErrorsCatalog_Complete: every app error a page can show, and every
// label such an error names a field or role by (app.Label), has its
// translation: its English text is a key of en/errors.json (and, through
// TestCatalogs_Complete, of de/errors.json), whose English value is the
// key itself.
func TestErrorsCatalog_Complete(t *testing.T) {
	buf, err := os.ReadFile("locales/en/errors.json")
	if err != nil {
		t.Fatal(err)
	}
	var en map[string]string
	if err := json.Unmarshal(buf, &en); err != nil {
		t.Fatal(err)
	}
	for k, v := range en {
		if k != v {
			t.Errorf("en/errors.json: %q has the value %q; an English format is its own translation", k, v)
		}
	}
	formats, labels := appErrorFormats(t, errorSources...)
	if len(formats) < 50 {
		t.Fatalf("found only %d app error formats: is the walk broken?", len(formats))
	}
	var missing []string
	for f, where := range formats {
		if _, ok := en[f]; !ok {
			missing = append(missing, where+": "+strconv.Quote(f))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("%s is not in locales/en/errors.json (nor its German in de/errors.json)", m)
	}

	// Labels (app.Label) are translated through common.json, whose
	// English is the label itself. Role names are labels too ("You can
	// invite people as Admin at most.").
	buf, err = os.ReadFile("locales/en/common.json")
	if err != nil {
		t.Fatal(err)
	}
	var common map[string]any
	if err := json.Unmarshal(buf, &common); err != nil {
		t.Fatal(err)
	}
	for _, r := range app.Roles {
		labels[r.Label()] = "app.Roles"
	}
	if len(labels) < 5 {
		t.Fatalf("found only %d labels: is the walk broken?", len(labels))
	}
	for l, where := range labels {
		key := i18n.LabelKey(app.Label(l))
		if got, ok := common[key]; !ok || got != l {
			t.Errorf("%s: the label %q wants %q: %q in locales/en/common.json (and its German in de/common.json)", where, l, key, l)
		}
	}
}
