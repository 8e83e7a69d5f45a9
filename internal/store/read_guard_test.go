package store

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// gormReadsLeft lists the files whose reads still go through GORM, with
// how many each has left; a file that gains a GORM read fails the test.
// Single sign-on's owner-side reads (settings, domains, the operator's
// sso-off) are the last to convert; its per-request and per-sign-in reads
// are already catalogued.
var gormReadsLeft = map[string]int{"sso.go": 7, "sso_signin.go": 2}

// gormReadMethods are the *gorm.DB methods that read.
var gormReadMethods = map[string]bool{"Take": true, "First": true, "Last": true, "Find": true, "Count": true,
	"Pluck": true, "Row": true, "Rows": true, "Scan": true, "ScanRows": true, "Raw": true}

// gormRead is one GORM read call in a source file.
type gormRead struct {
	pos token.Position
	raw bool // through Raw (inline or catalogued SQL) rather than a finder
}

// TestStore_OneReadPath: outside the listed files, the store reads only
// through catalogued statements (db.query, db.queryRow); GORM, a *gorm.DB
// value and the calls chained on it, is for writes. The check is
// syntactic: a value is GORM's when it is a parameter declared *gorm.DB,
// a .gorm field, or a variable assigned from either.
func TestStore_OneReadPath(t *testing.T) {
	reads := gormReadsIn(t, ".")
	byFile := map[string][]gormRead{}
	for _, r := range reads {
		byFile[filepath.Base(r.pos.Filename)] = append(byFile[filepath.Base(r.pos.Filename)], r)
	}
	for file, rs := range byFile {
		allowed, listed := gormReadsLeft[file]
		if !listed {
			for _, r := range rs {
				t.Errorf("%s: a GORM read; make it a catalogued statement run by db.query or db.queryRow", r.pos)
			}
			continue
		}
		if len(rs) > allowed {
			t.Errorf("%s: %d GORM reads, %d allowed while its conversion is under way", file, len(rs), allowed)
		}
	}
	for file := range gormReadsLeft {
		if len(byFile[file]) == 0 {
			t.Errorf("%s has no GORM read left: take it off gormReadsLeft", file)
		}
	}
}

// TestStore_OneReadPath_Finds: the check finds a finder and a raw read
// through a transaction, a chained pool read and a variable assigned from
// one, and leaves catalogued reads, database/sql rows and GORM writes.
func TestStore_OneReadPath_Finds(t *testing.T) {
	dir := t.TempDir()
	src := `package store
func a(tx *gorm.DB) { var r rec; tx.Take(&r, "id = ?", 1); tx.Raw("SELECT 1").Row().Scan(&r) }
func (db *DB) b(ctx context.Context) {
	var n int64
	db.gorm.WithContext(ctx).Model(&rec{}).Count(&n)
	q := db.gorm.WithContext(ctx).Where("x = ?", 1)
	q.Find(&n)
	rows, _ := db.query(ctx, nil, qX)
	rows.Scan(&n)
	db.queryRow(ctx, nil, qY).Scan(&n)
	db.gorm.WithContext(ctx).Create(&n)
	db.gorm.Callback().Row().Register("x", nil)
}
`
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range gormReadsIn(t, dir) {
		got = append(got, fmt.Sprintf("%d:%v", r.pos.Line, r.raw))
	}
	want := []string{"2:false", "2:true", "5:false", "7:false"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("found %v, want %v", got, want)
	}
}

// gormReadsIn returns the GORM read calls in the non-test Go files of dir,
// one per call chain, by position.
func gormReadsIn(t *testing.T, dir string) []gormRead {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []gormRead
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			out = append(out, gormReadsOf(fset, fn)...)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].pos.Filename != out[j].pos.Filename {
			return out[i].pos.Filename < out[j].pos.Filename
		}
		return out[i].pos.Offset < out[j].pos.Offset
	})
	return out
}

// gormReadsOf returns the GORM reads of one function.
func gormReadsOf(fset *token.FileSet, fn *ast.FuncDecl) []gormRead {
	vars := map[string]bool{}
	ast.Inspect(fn, func(n ast.Node) bool {
		if f, ok := n.(*ast.Field); ok && isGormDBType(f.Type) {
			for _, id := range f.Names {
				vars[id.Name] = true
			}
		}
		return true
	})
	// Variables assigned from a GORM value are GORM values, to a fixpoint.
	for changed := true; changed; {
		changed = false
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || len(as.Lhs) != len(as.Rhs) {
				return true
			}
			for i, l := range as.Lhs {
				id, ok := l.(*ast.Ident)
				if ok && !vars[id.Name] && gormRooted(as.Rhs[i], vars) && !endsInRead(as.Rhs[i]) {
					vars[id.Name], changed = true, true
				}
			}
			return true
		})
	}
	var out []gormRead
	inner := map[ast.Node]bool{}
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || inner[call] {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || !gormReadMethods[sel.Sel.Name] || !gormRooted(sel.X, vars) {
			return true
		}
		r := gormRead{pos: fset.Position(call.Pos())}
		for x := ast.Expr(call); x != nil; {
			switch e := x.(type) {
			case *ast.CallExpr:
				inner[e] = true
				x = e.Fun
			case *ast.SelectorExpr:
				if e.Sel.Name == "Raw" {
					r.raw = true
				}
				x = e.X
			default:
				x = nil
			}
		}
		out = append(out, r)
		return true
	})
	return out
}

// endsInRead reports whether e is a call of a read method, whose result
// (rows, a row, an error) is no GORM value.
func endsInRead(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && gormReadMethods[sel.Sel.Name]
}

// isGormDBType reports whether a field's type is *gorm.DB.
func isGormDBType(e ast.Expr) bool {
	star, ok := e.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "gorm" && sel.Sel.Name == "DB"
}

// gormRooted reports whether the call chain e starts from a GORM value: a
// variable of vars or a .gorm field. A chain through Callback() is GORM's
// configuration, not a statement.
func gormRooted(e ast.Expr, vars map[string]bool) bool {
	for {
		switch x := e.(type) {
		case *ast.CallExpr:
			e = x.Fun
		case *ast.SelectorExpr:
			switch x.Sel.Name {
			case "gorm":
				return true
			case "Callback":
				return false
			}
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			return vars[x.Name]
		default:
			return false
		}
	}
}
