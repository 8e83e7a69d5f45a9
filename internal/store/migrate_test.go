package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/pressly/goose/v3/lock"

	"atrium/internal/store"
	"atrium/internal/store/storetest"
	"atrium/migrations"
)

func TestMigrations(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			driver, dsn := storetest.DSN(t, dialect)
			db, err := store.Open(ctx, driver, dsn, store.Options{MaxOpenConns: 4})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()

			pending, err := db.PendingMigrations(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if pending == 0 {
				t.Fatal("an empty database reports no pending migrations")
			}
			applied, err := db.MigrateUp(ctx)
			if err != nil {
				t.Fatalf("up on empty database: %v", err)
			}
			if got, want := len(applied), pending; got != want {
				t.Fatalf("applied %d migrations, want %d", got, want)
			}
			// Idempotent: a second run applies nothing and fails on nothing.
			again, err := db.MigrateUp(ctx)
			if err != nil {
				t.Fatalf("second up: %v", err)
			}
			if len(again) != 0 {
				t.Fatalf("second up applied %d migrations, want 0", len(again))
			}
			if n, _ := db.PendingMigrations(ctx); n != 0 {
				t.Fatalf("pending after up = %d, want 0", n)
			}

			// Every migration rolls back and re-applies cleanly.
			for range applied {
				m, err := db.MigrateDown(ctx)
				if err != nil || m == nil {
					t.Fatalf("down: %v (migration %v)", err, m)
				}
			}
			if m, err := db.MigrateDown(ctx); err != nil || m != nil {
				t.Fatalf("down with nothing applied = %v, %v; want nil, nil", m, err)
			}
			if _, err := db.MigrateUp(ctx); err != nil {
				t.Fatalf("up after down: %v", err)
			}
			st, err := db.MigrationStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range st {
				if !s.Applied {
					t.Errorf("migration %d %s not applied", s.Version, s.Name)
				}
			}
		})
	}
}

// TestMigrationStatus_DoesNotWaitForMigrationLock holds the migration
// lock that an instance applying migrations holds, and reads the status:
// doctor must answer, not time out behind it.
func TestMigrationStatus_DoesNotWaitForMigrationLock(t *testing.T) {
	ctx := context.Background()
	driver, dsn := storetest.DSN(t, store.Postgres)
	db, err := store.Open(ctx, driver, dsn, store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lock.DefaultLockID); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", lock.DefaultLockID) //nolint:errcheck

	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	st, err := db.MigrationStatus(sctx)
	if err != nil {
		t.Fatalf("status while another instance migrates: %v", err)
	}
	for _, s := range st {
		if !s.Applied {
			t.Errorf("migration %d reported pending", s.Version)
		}
	}
}

// TestRiverSchemaCurrent checks that the migrations bring River's tables to
// the newest schema the linked River knows: upgrading River to a release
// with a new schema version fails here until a migration applies it.
func TestRiverSchemaCurrent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		m, err := migrations.RiverMigrator(db.Dialect(), db.SQL())
		if err != nil {
			t.Fatal(err)
		}
		all := m.AllVersions()
		if got, want := migrations.RiverSchemaVersion, all[len(all)-1].Version; got != want {
			t.Fatalf("migrations.RiverSchemaVersion = %d, but the linked River's newest schema is %d: add a migration", got, want)
		}
		res, err := m.Validate(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK {
			t.Fatalf("River's schema after the migrations: %v", res.Messages)
		}
	})
}
