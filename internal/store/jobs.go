package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// jobLockClass is the first half of the advisory lock key of every
// periodic job; the second is a hash of the schema and the job's name, so
// that installations sharing one PostgreSQL database in separate schemas
// never block each other.
const jobLockClass = "atrium.jobs"

type jobRunRecord struct {
	Name      string `gorm:"primaryKey"`
	LastRunAt time.Time
	Instance  string
}

func (jobRunRecord) TableName() string { return "job_runs" }

// qJobLastRun names the statement reading when a job last ran.
const qJobLastRun = "job_last_run"

// jobQueries are the catalog's periodic job statements.
var jobQueries = map[string]hotQuery{
	qJobLastRun: {SQL: `SELECT last_run_at FROM job_runs WHERE name = ?`},
}

// JobRun says what RunJob did.
type JobRun struct {
	Ran bool
	// Skipped says why the job did not run: "locked" (another instance is
	// running it) or "recent" (it ran less than an interval ago).
	Skipped string
}

// RunJob runs fn as the periodic job name on at most one instance at a
// time and at most once per every between all instances. On PostgreSQL it
// holds an advisory lock (per database and schema) for the run; SQLite has
// one instance and needs none. instance is recorded with the run.
func (db *DB) RunJob(ctx context.Context, name, instance string, every time.Duration, fn func(context.Context) error) (JobRun, error) {
	if db.dialect == Postgres {
		conn, err := db.sql.Conn(ctx)
		if err != nil {
			return JobRun{}, fmt.Errorf("job %s: connection for the lock: %w", name, err)
		}
		defer conn.Close()
		var got bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(hashtext($1), hashtext(current_schema() || ':' || $2))",
			jobLockClass, name).Scan(&got); err != nil {
			return JobRun{}, fmt.Errorf("job %s: take the lock: %w", name, err)
		}
		if !got {
			return JobRun{Skipped: "locked"}, nil
		}
		defer unlockJob(conn, name)
	}
	var last time.Time
	err := db.queryRow(ctx, nil, qJobLastRun, name).Scan(&last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return JobRun{}, fmt.Errorf("job %s: read last run: %w", name, err)
	case db.now().Sub(last) < every:
		return JobRun{Skipped: "recent"}, nil
	}
	if err := fn(ctx); err != nil {
		return JobRun{Ran: true}, err
	}
	rec := jobRunRecord{Name: name, LastRunAt: db.now(), Instance: instance}
	if err := db.gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "name"}}, DoUpdates: clause.AssignmentColumns([]string{"last_run_at", "instance"}),
	}).Create(&rec).Error; err != nil {
		return JobRun{Ran: true}, fmt.Errorf("job %s: record the run: %w", name, err)
	}
	return JobRun{Ran: true}, nil
}

// unlockJob releases the job's advisory lock; a connection that is gone
// released it already.
func unlockJob(conn *sql.Conn, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = conn.ExecContext(ctx, "SELECT pg_advisory_unlock(hashtext($1), hashtext(current_schema() || ':' || $2))", jobLockClass, name)
}
