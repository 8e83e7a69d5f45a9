package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// RiverVersion is the migration that creates the tables of River, the job
// queue (internal/jobs): a Go migration, because River ships its schema
// for each database with its driver and applies it itself, one version
// per transaction (a PostgreSQL enum value added by one version is used by
// the next, which one transaction does not allow). goose's lock keeps two
// instances from running it at once, and River records each version it
// applied, so a run cut short continues where it stopped.
//
// RiverSchemaVersion is the version of River's own schema it migrates to,
// the newest the linked River knows. Upgrading River to a release with a
// newer schema adds a migration that calls River with the new target
// (TestRiverSchemaCurrent fails until then). On SQLite some of River's
// versions rebuild river_job, which drops the indexes Atrium adds to it
// (river_job_sync_seats_waiting_idx, migration 00029): such a migration
// creates them again (TestHotQueryPlans fails until then).
const (
	RiverVersion       = 21
	RiverSchemaVersion = 8
)

// Go returns the Go migrations of one dialect.
func Go(dialect string) ([]*goose.Migration, error) {
	if _, err := riverDriver(dialect, nil); err != nil {
		return nil, err
	}
	river := func(direction rivermigrate.Direction, target int) func(ctx context.Context, db *sql.DB) error {
		return func(ctx context.Context, db *sql.DB) error {
			m, err := RiverMigrator(dialect, db)
			if err != nil {
				return err
			}
			if _, err := m.Migrate(ctx, direction, &rivermigrate.MigrateOpts{TargetVersion: target}); err != nil {
				return fmt.Errorf("river schema: %w", err)
			}
			return nil
		}
	}
	return []*goose.Migration{
		goose.NewGoMigration(RiverVersion,
			&goose.GoFunc{RunDB: river(rivermigrate.DirectionUp, RiverSchemaVersion)},
			&goose.GoFunc{RunDB: river(rivermigrate.DirectionDown, -1)}),
	}, nil
}

// GoName is the name of the Go migration version, as a file's name would
// give it.
func GoName(version int64) string {
	if version == RiverVersion {
		return "river"
	}
	return ""
}

// RiverMigrator returns River's migrator for the dialect's driver, to check
// which of River's versions a database holds.
func RiverMigrator(dialect string, db *sql.DB) (*rivermigrate.Migrator[*sql.Tx], error) {
	d, err := riverDriver(dialect, db)
	if err != nil {
		return nil, err
	}
	return rivermigrate.New(d, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
}

func riverDriver(dialect string, db *sql.DB) (riverdriver.Driver[*sql.Tx], error) {
	switch dialect {
	case "sqlite":
		return riversqlite.New(db), nil
	case "postgres":
		return riverdatabasesql.New(db), nil
	default:
		return nil, fmt.Errorf("no migrations for dialect %q", dialect)
	}
}
