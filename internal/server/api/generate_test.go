package api_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"atrium/internal/server/api"
)

// TestAPIGenerated fails while the server code or the client generated
// from openapi.yaml is stale: it generates both again, as go generate
// does, and compares them with the committed files.
func TestAPIGenerated(t *testing.T) {
	if _, err := api.Spec(); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ dir, file, args string }{
		{".", "api.gen.go", "types,chi-server,strict-server"},
		{"../apiclient", "client.gen.go", "types,client"},
	} {
		pkg := filepath.Base(g.dir)
		if g.dir == "." {
			pkg = "api"
		}
		out := filepath.Join(t.TempDir(), g.file)
		cmd := exec.Command("go", "tool", "oapi-codegen", "-generate", g.args, "-package", pkg, "-o", out, "openapi.yaml")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("oapi-codegen for %s: %v\n%s", g.file, err, msg)
		}
		fresh, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join(g.dir, g.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("%s is stale: run go generate ./internal/server/api/ ./internal/server/apiclient/", filepath.Join(g.dir, g.file))
		}
	}
}
