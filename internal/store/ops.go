package store

import (
	"context"
	"database/sql"
	"errors"
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

// The operator checks' statements.
const (
	qLastStripeEvent = "last_stripe_event"
	qRestoreTarget   = "restore_target"
)

// opsQueries are the catalog's statements of operator checks.
// The newest event is found through stripe_events_received_idx (MAX), and
// only the events received at that instant are sorted by id. SQLite is
// told to use the index for them too: its statistics, after a burst of
// events in one second, would have it read the table.
var opsQueries = map[string]hotQuery{
	qLastStripeEvent: {SQL: fmt.Sprintf(lastStripeEvent, "INDEXED BY stripe_events_received_idx"),
		PostgresSQL: fmt.Sprintf(lastStripeEvent, ""), BoundedSort: "the events received at the newest instant"},
	// What a restore into a PostgreSQL schema must know: its tables and
	// the other sessions connected. current_schema() is NULL while
	// search_path names a schema that does not exist yet: no tables.
	qRestoreTarget: {PostgresSQL: `SELECT
		(SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()),
		(SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid())`,
		NoPlan: "PostgreSQL's system views, read once before a restore"},
}

// lastStripeEvent is the newest event's statement, with room for an index hint.
const lastStripeEvent = `SELECT id, type, status, error, received_at FROM stripe_events %s
	WHERE received_at = (SELECT MAX(received_at) FROM stripe_events) ORDER BY id DESC LIMIT 1`

// LastStripeEvent returns the most recently received Stripe event, or nil
// when none has been received.
func (db *DB) LastStripeEvent(ctx context.Context) (*StripeEventSummary, error) {
	var ev StripeEventSummary
	err := db.queryRow(ctx, nil, qLastStripeEvent).Scan(&ev.ID, &ev.Type, &ev.Status, &ev.Error, &ev.ReceivedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("find the last stripe event: %w", err)
	}
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
	err = db.queryRow(ctx, nil, qRestoreTarget).Scan(&tables, &otherSessions)
	if err != nil {
		return 0, 0, fmt.Errorf("inspect the restore target: %w", err)
	}
	return tables, otherSessions, nil
}
