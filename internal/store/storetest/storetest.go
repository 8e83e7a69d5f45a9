// Package storetest opens real, migrated databases for tests: a SQLite file
// in t.TempDir() always, and a private schema on the Postgres server named
// by TEST_DATABASE_URL when it is set. Under CI=true a missing or
// unreachable Postgres fails the test instead of skipping it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver for schema set-up

	"atrium/internal/store"
)

// Dialects returns the databases the store tests run on.
func Dialects(t testing.TB) []string {
	t.Helper()
	if PostgresURL(t) == "" {
		return []string{store.SQLite}
	}
	return []string{store.SQLite, store.Postgres}
}

// PostgresURL returns TEST_DATABASE_URL, failing under CI=true when it is empty.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" && os.Getenv("CI") == "true" {
		t.Fatal("CI=true but TEST_DATABASE_URL is not set: the Postgres suite must run in CI")
	}
	return u
}

// Run runs fn as a subtest on each dialect with a fresh, migrated database.
func Run(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects(t) {
		t.Run(d, func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh, migrated database of the dialect, closed (and for
// Postgres dropped) when the test ends.
func Open(t testing.TB, dialect string) *store.DB {
	t.Helper()
	driver, dsn := DSN(t, dialect)
	ctx := context.Background()
	db, err := store.Open(ctx, driver, dsn, store.Options{MaxOpenConns: 8, MaxIdleConns: 4})
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatalf("migrate %s: %v", dialect, err)
	}
	return db
}

// DSN returns a driver and DSN for an empty database of the dialect: a new
// SQLite file, or a new Postgres schema (dropped at cleanup) selected
// through search_path.
func DSN(t testing.TB, dialect string) (driver, dsn string) {
	t.Helper()
	switch dialect {
	case store.SQLite:
		return store.SQLite, filepath.Join(t.TempDir(), "atrium.db")
	case store.Postgres:
		base := PostgresURL(t)
		if base == "" {
			t.Skip("TEST_DATABASE_URL is not set: skipping the Postgres run")
		}
		return store.Postgres, newSchema(t, base)
	}
	t.Fatalf("unknown dialect %q", dialect)
	return "", ""
}

func newSchema(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open TEST_DATABASE_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		t.Fatalf("Postgres at TEST_DATABASE_URL is unreachable or refused CREATE SCHEMA: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
