package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create databases

	"atrium/internal/store"
	"atrium/internal/store/demo"
)

// dataSet names the data set one binary runs on: the binary that seeds and
// migrates it, what its cache is keyed by beyond the seed's version and
// the volume ("" in the normal mode; the binary's newest migration in an
// A/B run) and the suffix of its working copy ("" or the side, a or b).
type dataSet struct {
	bin  string
	key  string
	side string
}

// prepareDatabase returns the DATABASE_URL of a fresh working copy of the
// seeded data set. The seeded original is cached, named by the seed's
// version, the volume and ds.key: a SQLite file in the bench folder, or a
// Postgres database that serves as the template of the working one.
func prepareDatabase(ctx context.Context, o *options, ds dataSet, stdout io.Writer) (string, error) {
	name := fmt.Sprintf("seed-v%d-%s", demo.VolumeVersion, o.volume.Name)
	if ds.key != "" {
		name += "-" + ds.key
	}
	if o.db == store.Postgres {
		return preparePostgres(ctx, o, ds, strings.ReplaceAll(o.pgPrefix+"_"+name, "-", "_"), stdout)
	}
	cache := filepath.Join(o.dir, "atrium-"+name+".db")
	if _, err := os.Stat(cache); err == nil {
		stale, err := sessionsExpiring(ctx, "sqlite:"+cache, stdout)
		if err != nil {
			return "", err
		}
		if stale {
			removeSQLite(cache)
		}
	}
	if _, err := os.Stat(cache); errors.Is(err, os.ErrNotExist) {
		tmp := cache + ".tmp"
		removeSQLite(tmp)
		if err := seed(ctx, o, ds.bin, "sqlite:"+tmp, stdout); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, cache); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	} else {
		fmt.Fprintf(stdout, "bench: reusing the cached data set %s\n", cache)
		if err := migrate(ctx, ds.bin, "sqlite:"+cache); err != nil {
			return "", err
		}
	}
	work := filepath.Join(o.dir, "run-"+o.volume.Name+".db")
	if ds.side != "" {
		work = filepath.Join(o.dir, "run-"+o.volume.Name+"-"+ds.side+".db")
	}
	removeSQLite(work)
	if err := copyFile(cache, work); err != nil {
		return "", fmt.Errorf("copy the data set: %w", err)
	}
	// A write-ahead log left beside the cache holds committed pages too.
	if _, err := os.Stat(cache + "-wal"); err == nil {
		if err := copyFile(cache+"-wal", work+"-wal"); err != nil {
			return "", fmt.Errorf("copy the data set: %w", err)
		}
	}
	return "sqlite:" + work, nil
}

// seed runs "atrium seed --volume" on dbURL with the binary under test.
func seed(ctx context.Context, o *options, bin, dbURL string, stdout io.Writer) error {
	fmt.Fprintf(stdout, "bench: seeding the %s data set with %s (cached for later runs)\n", o.volume.Name, bin)
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, "--env-file", "", "seed", "--volume", o.volume.Name)
	cmd.Env = append(baseEnv(), "APP_ENV=development", "DATABASE_URL="+dbURL)
	cmd.Stdout, cmd.Stderr = stdout, stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("atrium seed --volume %s: %w", o.volume.Name, err)
	}
	fmt.Fprintf(stdout, "bench: seeded in %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// sessionsExpiring reports whether the cached data set's sessions end
// within a week: they are live for 30 days from the seed, so a cache that
// old is seeded again rather than have the server purge them mid-run.
func sessionsExpiring(ctx context.Context, dbURL string, stdout io.Writer) (bool, error) {
	db, err := openStore(ctx, dbURL)
	if err != nil {
		return false, err
	}
	defer db.Close()
	q := "SELECT COUNT(*) FROM sessions WHERE expires_at < ?"
	if db.Dialect() == store.Postgres {
		q = strings.ReplaceAll(q, "?", "$1")
	}
	var n int64
	if err := db.SQL().QueryRowContext(ctx, q, time.Now().UTC().Add(7*24*time.Hour)).Scan(&n); err != nil {
		return false, fmt.Errorf("check the cached data set: %w", err)
	}
	if n > 0 {
		fmt.Fprintf(stdout, "bench: %d sessions of the cached data set expire within a week: seeding it again\n", n)
	}
	return n > 0, nil
}

// migrate brings a cached data set up to the binary's schema, so that the
// server under test never spends its start-up applying migrations (the
// cache is keyed by the seed's version, not the schema's).
func migrate(ctx context.Context, bin, dbURL string) error {
	cmd := exec.CommandContext(ctx, bin, "--env-file", "", "migrate", "up")
	cmd.Env = append(baseEnv(), "APP_ENV=development", "DATABASE_URL="+dbURL)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("atrium migrate up on the cached data set: %w\n%s", err, out)
	}
	return nil
}

// baseEnv is the part of the harness's environment a child process keeps.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func removeSQLite(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// preparePostgres seeds database cache once (under a temporary name, so a
// failed seed is never cached) and creates the working database run from
// it as a template.
func preparePostgres(ctx context.Context, o *options, ds dataSet, cache string, stdout io.Writer) (string, error) {
	admin, err := sql.Open("pgx", o.pgURL)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", cache).
		Scan(&exists); err != nil {
		return "", fmt.Errorf("TEST_DATABASE_URL: %w", err)
	}
	if exists {
		stale, err := sessionsExpiring(ctx, withDatabase(o.pgURL, cache), stdout)
		if err != nil {
			return "", err
		}
		if stale {
			if _, err := admin.ExecContext(ctx, "DROP DATABASE "+cache+" WITH (FORCE)"); err != nil {
				return "", fmt.Errorf("drop the stale data set: %w", err)
			}
			exists = false
		}
	}
	if !exists {
		tmp := cache + "_tmp"
		if err := recreate(ctx, admin, tmp, ""); err != nil {
			return "", err
		}
		if err := seed(ctx, o, ds.bin, withDatabase(o.pgURL, tmp), stdout); err != nil {
			return "", err
		}
		if _, err := admin.ExecContext(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", tmp, cache)); err != nil {
			return "", fmt.Errorf("keep the seeded database: %w", err)
		}
	} else {
		fmt.Fprintf(stdout, "bench: reusing the cached data set in database %s\n", cache)
		if err := migrate(ctx, ds.bin, withDatabase(o.pgURL, cache)); err != nil {
			return "", err
		}
	}
	work := cache + "_run"
	if ds.side != "" {
		work += "_" + ds.side
	}
	if err := recreate(ctx, admin, work, cache); err != nil {
		return "", err
	}
	return withDatabase(o.pgURL, work), nil
}

// recreate drops database name and creates it again, empty or as a copy
// of template.
func recreate(ctx context.Context, admin *sql.DB, name, template string) error {
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	q := "CREATE DATABASE " + name
	if template != "" {
		q += " TEMPLATE " + template
	}
	if _, err := admin.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create database %s (does the TEST_DATABASE_URL role have CREATEDB?): %w", name, err)
	}
	return nil
}

// withDatabase returns the Postgres URL u pointing at database name.
func withDatabase(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.Path = "/" + name
	q := p.Query()
	q.Del("search_path")
	p.RawQuery = q.Encode()
	return p.String()
}

// openStore opens the working database to count rows.
func openStore(ctx context.Context, dbURL string) (*store.DB, error) {
	if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		return store.Open(ctx, store.SQLite, path, store.Options{MaxOpenConns: 2})
	}
	return store.Open(ctx, store.Postgres, dbURL, store.Options{MaxOpenConns: 2})
}

var migrationLine = regexp.MustCompile(`(?m)^\s+(?:applied|pending)\s+(\d+)\s`)

// schemaKey names a binary's schema for the cache of its data set: "m" and
// its newest migration's number, read from "atrium migrate status" on a
// scratch SQLite file, so that binaries with the same migrations share a
// data set and a binary with more never migrates one another still uses;
// where the status cannot be read, "bin-" and the start of the binary's
// SHA-256.
func schemaKey(ctx context.Context, bin, dir string) (string, error) {
	scratch, err := os.MkdirTemp(dir, "probe-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(scratch)
	cmd := exec.CommandContext(ctx, bin, "--env-file", "", "migrate", "status")
	cmd.Env = append(baseEnv(), "APP_ENV=development", "DATABASE_URL=sqlite:"+filepath.Join(scratch, "probe.db"))
	out, err := cmd.CombinedOutput()
	newest := -1
	for _, m := range migrationLine.FindAllStringSubmatch(string(out), -1) {
		if n, err := strconv.Atoi(m[1]); err == nil && n > newest {
			newest = n
		}
	}
	if err == nil && newest >= 0 {
		return fmt.Sprintf("m%05d", newest), nil
	}
	f, err := os.Open(bin)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return "", err
	}
	return "bin-" + hex.EncodeToString(sum.Sum(nil))[:12], nil
}
