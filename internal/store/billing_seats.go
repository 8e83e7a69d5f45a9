package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"atrium/internal/app"
	"atrium/internal/jobs"
)

// Per-seat quantity sync: every membership change of a workspace with a
// Stripe subscription queues a jobs.SyncSeats in its own transaction
// (queueSeatSync); the job reads SeatState, asks Stripe, and records the
// quantity it wrote with RecordSeats.

// The seat sync's statements.
const (
	qSeatSubscription = "seat_subscription"
	qSeatSyncWaiting  = "seat_sync_waiting"
	qSeatUserSubs     = "seat_user_subscriptions"
)

var seatQueries = map[string]hotQuery{
	// Whether a workspace has a subscription whose quantity may follow
	// its members.
	qSeatSubscription: {SQL: `SELECT stripe_subscription_id FROM workspaces WHERE id = ?`},
	// A SyncSeats job of the workspace that has not started. On
	// PostgreSQL the row is locked until the change commits: River's fetch
	// skips locked rows, so the job cannot start (and count the members)
	// before the change it stands for is visible. SQLite runs one write
	// transaction at a time, River's fetch included.
	qSeatSyncWaiting: {SQL: `SELECT id FROM river_job WHERE kind = 'sync_seats'
		AND state IN ('available', 'scheduled', 'pending', 'retryable')
		AND json_extract(args, '$.workspace_id') = ? LIMIT 1`,
		PostgresSQL: `SELECT id FROM river_job WHERE kind = 'sync_seats'
		AND state IN ('available', 'scheduled', 'pending', 'retryable')
		AND (args->>'workspace_id')::bigint = ? LIMIT 1 FOR UPDATE`},
	// The workspaces with a subscription a user is a member of, whose
	// member count falls when the account is deleted.
	qSeatUserSubs: {SQL: `SELECT m.workspace_id FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
		WHERE m.user_id = ? AND w.stripe_subscription_id <> ''`},
}

// queueSeatSync queues a SyncSeats job for the workspace inside tx when it
// has a Stripe subscription and no job of it is waiting to start: the
// changes of a burst share the waiting job, scheduled SyncSeatsDelay
// ahead. A job already running does not count (it may have counted the
// members before tx), so a change while one runs queues the next.
func (db *DB) queueSeatSync(ctx context.Context, tx *gorm.DB, workspaceID int64) error {
	var sub string
	err := db.queryRow(ctx, tx, qSeatSubscription, workspaceID).Scan(&sub)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && sub == "") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the workspace's subscription: %w", err)
	}
	var waiting int64
	err = db.queryRow(ctx, tx, qSeatSyncWaiting, workspaceID).Scan(&waiting)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find a waiting seat sync: %w", err)
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return errors.New("queue seat sync: not inside a transaction")
	}
	// River schedules by the clock, not by the store's (a test's) clock.
	opts := &river.InsertOpts{ScheduledAt: time.Now().Add(jobs.SyncSeatsDelay)}
	if _, err := db.jobs.InsertTx(ctx, sqlTx, jobs.SyncSeats{WorkspaceID: workspaceID}, opts); err != nil {
		return fmt.Errorf("queue seat sync: %w", err)
	}
	return nil
}

// queueSeatSyncsOfUser queues a seat sync for every workspace with a
// subscription the user is a member of, before their account (and so
// their memberships) goes.
func (db *DB) queueSeatSyncsOfUser(ctx context.Context, tx *gorm.DB, userID int64) error {
	ids, err := db.idList(ctx, tx, qSeatUserSubs, userID)
	if err != nil {
		return fmt.Errorf("find the user's subscribed workspaces: %w", err)
	}
	for _, id := range ids {
		if err := db.queueSeatSync(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// SeatState returns a workspace as stored now and its billable seats: its
// members (pending invites do not count until accepted). It runs without
// a principal, for the seat sync.
func (s *BillingService) SeatState(ctx context.Context, workspaceID int64) (*app.Workspace, int, error) {
	ws, err := s.db.findWorkspace(ctx, nil, workspaceID)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.db.countOf(ctx, nil, qMemberCount, workspaceID)
	if err != nil {
		return nil, 0, fmt.Errorf("count members: %w", err)
	}
	return ws, int(n), nil
}

// RecordSeats stores the quantity Stripe now bills (to) and, when it
// changed, the audit entry billing.seats_synced with from and to, in one
// transaction. When the members no longer number to (one joined or left
// while Stripe was asked), it queues the next sync, unless one waits.
func (s *BillingService) RecordSeats(ctx context.Context, workspaceID int64, from, to int) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		if _, err := scanWorkspace(s.db.queryRow(ctx, tx, qWorkspaceLocked, workspaceID)); err != nil {
			return notFound(err, app.Errorf(app.ENOTFOUND, "Workspace not found."), "find workspace")
		}
		if err := tx.Model(&workspaceRecord{}).Where("id = ?", workspaceID).
			Updates(map[string]any{"seat_quantity": to, "updated_at": s.db.now()}).Error; err != nil {
			return fmt.Errorf("record seats: %w", err)
		}
		if from != to {
			if err := s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: workspaceID, Action: app.ActionSeatsSynced,
				TargetType: "workspace", TargetID: fmt.Sprint(workspaceID),
				Metadata: map[string]any{"from": from, "to": to}}); err != nil {
				return err
			}
		}
		members, err := s.db.countOf(ctx, tx, qMemberCount, workspaceID)
		if err != nil {
			return fmt.Errorf("count members: %w", err)
		}
		if int(members) != to {
			return s.db.queueSeatSync(ctx, tx, workspaceID)
		}
		return nil
	})
}
