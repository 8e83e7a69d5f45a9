package wire_test

import (
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayers_Imports checks the layering that makes this package the one
// place joining the store to the handlers: the domain imports no other
// package of the module, the handlers never import the store (or this
// package), and the templates import only templates and the message
// catalogs (internal/i18n), where their words live.
func TestLayers_Imports(t *testing.T) {
	root := filepath.Join("..", "..")
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mod := ""
	for _, line := range strings.Split(string(gomod), "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			mod = strings.Trim(strings.TrimSpace(m), `"`)
		}
	}
	if mod == "" {
		t.Fatal("go.mod names no module")
	}
	for _, tc := range []struct {
		dir     string
		allowed func(path string) bool
	}{
		{"internal/app", func(string) bool { return false }},
		{"internal/server", func(p string) bool {
			return !under(p, mod+"/internal/store") && !under(p, mod+"/internal/wire")
		}},
		{"web", func(p string) bool { return under(p, mod+"/web") || p == mod+"/internal/i18n" }},
	} {
		t.Run(strings.ReplaceAll(tc.dir, "/", "_"), func(t *testing.T) {
			err := filepath.WalkDir(filepath.Join(root, tc.dir), func(dir string, d fs.DirEntry, err error) error {
				if err != nil || !d.IsDir() {
					return err
				}
				pkg, err := build.ImportDir(dir, 0)
				if err != nil {
					return nil // no Go files here
				}
				for _, imp := range pkg.Imports {
					if under(imp, mod) && !tc.allowed(imp) {
						rel, _ := filepath.Rel(root, dir)
						t.Errorf("%s imports %s", filepath.ToSlash(rel), imp)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// under reports whether the import path p is pkg or one of its
// subpackages.
func under(p, pkg string) bool { return p == pkg || strings.HasPrefix(p, pkg+"/") }
