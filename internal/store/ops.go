package store

import (
	"context"
	"fmt"
	"time"
)

// StripeEventSummary describes a received Stripe webhook event for
// operator checks.
type StripeEventSummary struct {
	ID         string
	Type       string
	Status     string // an app.Event* result, or "received" while it is applied
	Error      string
	ReceivedAt time.Time
}

// LastStripeEvent returns the most recently received Stripe event, or nil
// when none has been received.
func (db *DB) LastStripeEvent(ctx context.Context) (*StripeEventSummary, error) {
	var rows []StripeEventSummary
	err := db.gorm.WithContext(ctx).Raw(`SELECT id, type, status, error, received_at
		FROM stripe_events ORDER BY received_at DESC, id DESC LIMIT 1`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find the last stripe event: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ev := rows[0]
	ev.ReceivedAt = ev.ReceivedAt.UTC()
	return &ev, nil
}

// PostgresRestoreTarget returns how many tables the current schema holds
// and how many other sessions are connected to the database, the two
// things a restore into it must know. It is for Postgres only.
func (db *DB) PostgresRestoreTarget(ctx context.Context) (tables, otherSessions int64, err error) {
	if db.dialect != Postgres {
		return 0, 0, fmt.Errorf("restore target: not a Postgres database")
	}
	// current_schema() is NULL while search_path names a schema that does
	// not exist yet: no tables.
	err = db.sql.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()),
		(SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid())`).
		Scan(&tables, &otherSessions)
	if err != nil {
		return 0, 0, fmt.Errorf("inspect the restore target: %w", err)
	}
	return tables, otherSessions, nil
}
