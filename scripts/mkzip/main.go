// Command mkzip writes a reproducible ZIP of a folder: entries sorted by
// name, every timestamp set to one fixed time, modes normalised (0755 for
// folders and executables, 0644 for the rest), and a NAME.zip.sha256 in
// sha256sum format beside it. It refuses files that must never ship:
// .env files, databases, backups and keys.
//
// Usage: go run ./scripts/mkzip -o dist/NAME.zip -mtime UNIX_SECONDS DIR
//
// The entries are DIR's contents, named relative to DIR.
package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mkzip:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mkzip", flag.ContinueOnError)
	out := fs.String("o", "", "the ZIP file to write")
	mtime := fs.String("mtime", "315532800", "the modification time of every entry, in Unix seconds (SOURCE_DATE_EPOCH)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		return errors.New("usage: mkzip -o OUT.zip [-mtime UNIX_SECONDS] DIR")
	}
	secs, err := strconv.ParseInt(*mtime, 10, 64)
	if err != nil {
		return fmt.Errorf("-mtime %q: %w", *mtime, err)
	}
	// DOS timestamps start in 1980; clamp so every entry is representable.
	when := time.Unix(max(secs, 315532800), 0).UTC()
	sum, err := Write(*out, fs.Arg(0), when)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s  %s\n", sum, *out)
	return nil
}

// Forbidden reports why a file must not be packaged, or "" when it may be.
// rel is its slash-separated path inside the package.
func Forbidden(rel string) string {
	base := strings.ToLower(path.Base(rel))
	for _, dir := range strings.Split(path.Dir(rel), "/") {
		switch dir {
		case "data", ".git", "backups":
			return "it is under " + dir + "/"
		}
	}
	switch {
	case base == ".env" || (strings.HasPrefix(base, ".env.") && base != ".env.example"):
		return "an .env file holds secrets"
	case hasSuffix(base, ".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite", ".sqlite3", ".pre-restore", ".dump"):
		return "it is a database or a backup"
	case hasSuffix(base, ".pem", ".key", ".p12", ".pfx", ".jks") || strings.HasPrefix(base, "id_rsa") || strings.HasPrefix(base, "id_ed25519"):
		return "it is a key"
	}
	return ""
}

func hasSuffix(s string, suffixes ...string) bool {
	for _, suf := range suffixes {
		if strings.HasSuffix(s, suf) {
			return true
		}
	}
	return false
}

type entry struct {
	rel  string // slash-separated, folders end in "/"
	full string
	mode fs.FileMode
}

// Write zips dir into out with every entry dated when, writes
// out.sha256, and returns the ZIP's SHA-256.
func Write(out, dir string, when time.Time) (string, error) {
	var entries []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if why := Forbidden(rel); why != "" {
			return fmt.Errorf("refusing to package %s: %s", rel, why)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			entries = append(entries, entry{rel: rel + "/", full: p, mode: fs.ModeDir | 0o755})
		case info.Mode().IsRegular():
			mode := fs.FileMode(0o644)
			if info.Mode()&0o111 != 0 {
				mode = 0o755
			}
			entries = append(entries, entry{rel: rel, full: p, mode: mode})
		default:
			return fmt.Errorf("refusing to package %s: not a regular file", rel)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.rel, b.rel) })

	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	tmp := out + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	h := sha256.New()
	zw := zip.NewWriter(io.MultiWriter(f, h))
	for _, e := range entries {
		fh := &zip.FileHeader{Name: e.rel, Method: zip.Deflate, Modified: when}
		if e.mode.IsDir() {
			fh.Method = zip.Store
		}
		fh.SetMode(e.mode)
		w, err := zw.CreateHeader(fh)
		if err != nil {
			_ = f.Close()
			return "", err
		}
		if e.mode.IsDir() {
			continue
		}
		if err := copyFile(w, e.full); err != nil {
			_ = f.Close()
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		_ = f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	line := sum + "  " + filepath.Base(out) + "\n"
	if err := os.WriteFile(out+".sha256", []byte(line), 0o644); err != nil {
		return "", err
	}
	return sum, nil
}

func copyFile(w io.Writer, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
