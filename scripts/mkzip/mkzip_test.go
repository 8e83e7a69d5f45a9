package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// stage writes files (path → content; a trailing "*" on the path marks it
// executable) under a new folder.
func stage(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestWrite_Reproducible zips the same files twice, created at different
// times and in a different order: the bytes match, entries are sorted and
// carry the fixed time and normalised modes.
func TestWrite_Reproducible(t *testing.T) {
	t.Parallel()
	files := map[string]string{"pkg/atrium*": "binary", "pkg/README.md": "# Atrium", "pkg/migrations/sqlite/00001_a.sql": "-- a",
		"pkg/migrations/postgres/00001_a.sql": "-- a", "pkg/.env.example": "APP_ENV=development"}
	a := stage(t, files)
	time.Sleep(10 * time.Millisecond)
	b := stage(t, files)
	if err := os.Chmod(filepath.Join(b, "pkg", "README.md"), 0o600); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	out := t.TempDir()
	sumA, err := Write(filepath.Join(out, "a.zip"), a, when)
	if err != nil {
		t.Fatal(err)
	}
	sumB, err := Write(filepath.Join(out, "b.zip"), b, when)
	if err != nil {
		t.Fatal(err)
	}
	za, _ := os.ReadFile(filepath.Join(out, "a.zip"))
	zb, _ := os.ReadFile(filepath.Join(out, "b.zip"))
	if !bytes.Equal(za, zb) || sumA != sumB {
		t.Fatalf("two ZIPs of the same files differ (sha256 %s vs %s)", sumA, sumB)
	}
	if got, want := readFile(t, filepath.Join(out, "a.zip.sha256")), sumA+"  a.zip\n"; got != want {
		t.Errorf("a.zip.sha256 = %q, want %q", got, want)
	}

	zr, err := zip.NewReader(bytes.NewReader(za), int64(len(za)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(when) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, when)
		}
		want := os.FileMode(0o644)
		if strings.HasSuffix(f.Name, "/") {
			want = os.ModeDir | 0o755
		} else if f.Name == "pkg/atrium" {
			want = 0o755
		}
		if f.Mode() != want {
			t.Errorf("%s: mode %v, want %v", f.Name, f.Mode(), want)
		}
	}
	want := []string{"pkg/", "pkg/.env.example", "pkg/README.md", "pkg/atrium", "pkg/migrations/", "pkg/migrations/postgres/",
		"pkg/migrations/postgres/00001_a.sql", "pkg/migrations/sqlite/", "pkg/migrations/sqlite/00001_a.sql"}
	if !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
}

// TestWrite_Refuses checks that secrets, databases and keys stop the ZIP.
func TestWrite_Refuses(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{".env", "pkg/.env.production", "pkg/data/atrium.db", "atrium.db", "atrium.db-wal",
		"data/backups/x.db", "backups/atrium.dump", "atrium.db.20261125T090000Z.pre-restore", "server.pem", "tls.key", "id_rsa",
		"pkg/.git/config"} {
		t.Run(bad, func(t *testing.T) {
			t.Parallel()
			dir := stage(t, map[string]string{"pkg/README.md": "ok", bad: "secret"})
			out := filepath.Join(t.TempDir(), "x.zip")
			_, err := Write(out, dir, time.Unix(315532800, 0))
			if err == nil || !strings.Contains(err.Error(), "refusing to package") {
				t.Fatalf("Write with %s: err=%v, want a refusal", bad, err)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused ZIP was written")
			}
		})
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
