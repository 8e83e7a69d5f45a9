package store

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"atrium/migrations"
)

// MigrationStatus is one migration and whether it has been applied.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
}

// Migration is a migration that ran.
type Migration struct {
	Version   int64
	Name      string
	Direction string
}

// provider returns a goose provider over the embedded migrations of the
// database's dialect. On Postgres it takes an advisory lock so that two
// instances starting together do not migrate at once.
func (db *DB) provider() (*goose.Provider, error) { return db.newProvider(true) }

// newProvider is provider, with the Postgres advisory lock only when
// locked: reading the status needs none, and must not wait for an
// instance that is migrating (doctor would time out behind it).
func (db *DB) newProvider(locked bool) (*goose.Provider, error) {
	fsys, err := migrations.FS(db.dialect)
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	if db.dialect == Postgres && locked {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	goMigrations, err := migrations.Go(db.dialect)
	if err != nil {
		return nil, err
	}
	opts = append(opts, goose.WithGoMigrations(goMigrations...))
	p, err := goose.NewProvider(dialect, db.sql, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// auditChainVersion is the migration that adds the audit hash chain; the
// entries already written are hashed in Go right after it.
const auditChainVersion = 8

// auditCheckpointVersion is the migration after which audit.pruned entries
// name their chain's checkpoint; those of earlier prunes are written in Go
// right after it.
const auditCheckpointVersion = 15

// MigrateUp applies every pending migration and returns those it applied.
func (db *DB) MigrateUp(ctx context.Context) ([]Migration, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate up: %w", err)
	}
	for _, r := range results {
		if r.Source != nil && r.Source.Version == auditChainVersion {
			if err := db.backfillAuditChain(ctx); err != nil {
				return toMigrations(results), fmt.Errorf("migrate up: hash the existing audit entries: %w", err)
			}
		}
		if r.Source != nil && r.Source.Version == auditCheckpointVersion {
			if err := db.recordPruneCheckpoints(ctx); err != nil {
				return toMigrations(results), fmt.Errorf("migrate up: record the audit prune checkpoints: %w", err)
			}
		}
	}
	return toMigrations(results), nil
}

// MigrateDown rolls back the newest applied migration. It returns nil when
// nothing was applied.
func (db *DB) MigrateDown(ctx context.Context) (*Migration, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	res, err := p.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("migrate down: %w", err)
	}
	m := toMigrations([]*goose.MigrationResult{res})
	return &m[0], nil
}

// MigrationStatus lists every known migration, oldest first.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := db.newProvider(false)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationStatus{
			Version: s.Source.Version,
			Name:    sourceName(s.Source),
			Applied: s.State == goose.StateApplied,
		})
	}
	return out, nil
}

// PendingMigrations returns how many embedded migrations are not applied.
// It reads goose's version table directly, without the migration lock, so
// a readiness probe never waits behind another instance's migration; the
// embedded versions are listed once per process.
func (db *DB) PendingMigrations(ctx context.Context) (int, error) {
	versions, err := db.embeddedVersions()
	if err != nil {
		return 0, err
	}
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		if !db.hasVersionTable(ctx) {
			return len(versions), nil // a new database: nothing is applied
		}
		return 0, fmt.Errorf("read applied migrations: %w", err)
	}
	done := make(map[int64]bool, len(applied))
	for _, v := range applied {
		done[v] = true
	}
	pending := 0
	for _, v := range versions {
		if !done[v] {
			pending++
		}
	}
	return pending, nil
}

// The statements reading goose's version table (a row per migration).
const (
	qAppliedMigrations = "applied_migrations"
	qMigrationRows     = "migration_rows"
)

// migrateQueries are the catalog's statements about applied migrations.
var migrateQueries = map[string]hotQuery{
	qAppliedMigrations: {SQL: `SELECT version_id FROM goose_db_version WHERE version_id > 0`,
		WholeTable: "goose's version table, a row per migration"},
	qMigrationRows: {SQL: `SELECT COUNT(*) FROM goose_db_version`,
		WholeTable: "goose's version table, a row per migration"},
}

// appliedVersions lists the versions goose's table records as applied.
func (db *DB) appliedVersions(ctx context.Context) ([]int64, error) {
	rows, err := db.query(ctx, nil, qAppliedMigrations)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// hasVersionTable reports whether goose's version table exists.
func (db *DB) hasVersionTable(ctx context.Context) bool {
	var n int64
	return db.queryRow(ctx, nil, qMigrationRows).Scan(&n) == nil
}

// embeddedVersions lists the versions of the dialect's embedded
// migrations, once.
func (db *DB) embeddedVersions() ([]int64, error) {
	db.versionsOnce.Do(func() {
		p, err := db.provider()
		if err != nil {
			db.versionsErr = err
			return
		}
		for _, src := range p.ListSources() {
			db.versions = append(db.versions, src.Version)
		}
	})
	return db.versions, db.versionsErr
}

func toMigrations(results []*goose.MigrationResult) []Migration {
	out := make([]Migration, 0, len(results))
	for _, r := range results {
		out = append(out, Migration{Version: r.Source.Version, Name: sourceName(r.Source), Direction: r.Direction})
	}
	return out
}

// sourceName turns "sqlite/00002_workspaces.sql" into "workspaces", and
// names a Go migration (which has no file) by migrations.GoName.
func sourceName(s *goose.Source) string {
	if s.Path == "" {
		return migrations.GoName(s.Version)
	}
	name := path.Base(s.Path)
	name = strings.TrimSuffix(name, path.Ext(name))
	if _, rest, ok := strings.Cut(name, "_"); ok {
		return rest
	}
	return name
}
