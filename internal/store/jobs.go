package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"atrium/internal/jobs"
)

// JobDriver returns River's driver over the store's pool: the job queue
// lives in the same database as the data, so a job is inserted in the
// transaction of the change that causes it.
func (db *DB) JobDriver() jobs.Driver {
	if db.dialect == Postgres {
		return riverdatabasesql.New(db.sql)
	}
	return riversqlite.New(db.sql)
}

// Jobs returns the client that inserts and manages jobs (it works none).
func (db *DB) Jobs() *jobs.Client { return db.jobs }

// enqueue inserts a job inside tx, so that it is queued exactly when tx
// commits.
func (db *DB) enqueue(tx *gorm.DB, args river.JobArgs) error {
	return db.enqueueAll(tx, []river.JobArgs{args})
}

// enqueueAll inserts a job of each args inside tx.
func (db *DB) enqueueAll(tx *gorm.DB, args []river.JobArgs) error {
	if len(args) == 0 {
		return nil
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return fmt.Errorf("queue %s jobs: not inside a transaction", args[0].Kind())
	}
	params := make([]river.InsertManyParams, len(args))
	for i, a := range args {
		params[i] = river.InsertManyParams{Args: a}
	}
	if _, err := db.jobs.InsertManyTx(tx.Statement.Context, sqlTx, params); err != nil {
		return fmt.Errorf("queue %s jobs: %w", args[0].Kind(), err)
	}
	return nil
}

// Requeued counts the jobs QueueUnfinishedWork queued, by what they do.
type Requeued struct {
	Emails, WebhookEvents, WebhookDeliveries int
}

// QueueUnfinishedWork queues, in one transaction, a job for every email
// still waiting, every webhook delivery still to make and every event the
// queue of from had not fanned out yet. It is for a database whose job
// queue does not hold them: one that migrate-data filled from from, whose
// jobs stayed there (from's own queue is read, never changed).
func (db *DB) QueueUnfinishedWork(ctx context.Context, from *DB) (Requeued, error) {
	var events []river.JobArgs
	params := river.NewJobListParams().Kinds(jobs.WebhookEvent{}.Kind()).First(10000).
		States(rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled)
	for {
		res, err := from.jobs.JobList(ctx, params)
		if err != nil {
			return Requeued{}, fmt.Errorf("list the source's webhook events: %w", err)
		}
		for _, j := range res.Jobs {
			var ev jobs.WebhookEvent
			if err := json.Unmarshal(j.EncodedArgs, &ev); err != nil {
				return Requeued{}, fmt.Errorf("read webhook event job %d: %w", j.ID, err)
			}
			events = append(events, ev)
		}
		if res.LastCursor == nil || len(res.Jobs) == 0 {
			break
		}
		params = params.After(res.LastCursor)
	}
	var n Requeued
	err := db.transact(ctx, func(tx *gorm.DB) error {
		emails, err := db.idList(ctx, tx, qOutboxPendingIDs)
		if err != nil {
			return fmt.Errorf("find pending emails: %w", err)
		}
		deliveries, err := db.idList(ctx, tx, qWebhookUnfinished)
		if err != nil {
			return fmt.Errorf("find unfinished webhook deliveries: %w", err)
		}
		args := make([]river.JobArgs, 0, len(emails)+len(events)+len(deliveries))
		for _, id := range emails {
			args = append(args, jobs.SendEmail{OutboxID: id})
		}
		for _, id := range deliveries {
			args = append(args, jobs.DeliverWebhook{DeliveryID: id})
		}
		n = Requeued{Emails: len(emails), WebhookEvents: len(events), WebhookDeliveries: len(deliveries)}
		return db.enqueueAll(tx, append(args, events...))
	})
	if err != nil {
		return Requeued{}, err
	}
	return n, nil
}

// Housekeep runs PurgeExpired for the housekeeping job and says what it
// removed.
func (db *DB) Housekeep(ctx context.Context) ([]slog.Attr, error) {
	p, err := db.PurgeExpired(ctx)
	if err != nil {
		return nil, err
	}
	return []slog.Attr{slog.Int64("sessions", p.Sessions), slog.Int64("login_tokens", p.LoginTokens),
		slog.Int64("sent_mail", p.SentMail), slog.Int64("failed_mail_bodies", p.FailedMailBodies),
		slog.Int64("invite_sends", p.InviteSends), slog.Int64("challenges", p.Challenges),
		slog.Int64("webhook_deliveries", p.WebhookDeliveries)}, nil
}

// JobQueueStats is the state of one queue, for metrics.
type JobQueueStats struct {
	Queue            string
	Waiting, Running int
	// Scheduled counts the waiting jobs that are not due yet: scheduled
	// for later or waiting for a retry.
	Scheduled int
	GivenUp   int
	// OldestDue is when the oldest due job became due (zero when none is).
	OldestDue time.Time
}

// The statements reading the job queue's state.
const (
	qJobCounts    = "job_counts"
	qJobOldestDue = "job_oldest_due"
)

// jobQueries are the catalog's job queue statements. River's own index on
// (state, queue, priority, scheduled_at, id) serves them; the counts read
// only unfinished and given-up jobs, never the completed ones River keeps
// for a day.
var jobQueries = map[string]hotQuery{
	qJobCounts: {SQL: `SELECT queue, state, COUNT(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'pending', 'running', 'discarded')
		GROUP BY queue, state`, WholeTable: "the job queue's gauges at each metrics scrape, unfinished jobs only"},
	qJobOldestDue: {SQL: `SELECT scheduled_at FROM river_job
		WHERE state = 'available' AND queue = ? ORDER BY priority, scheduled_at, id LIMIT 1`},
}

// JobStats returns the state of every queue that holds a job.
func (db *DB) JobStats(ctx context.Context) ([]JobQueueStats, error) {
	rows, err := db.query(ctx, nil, qJobCounts)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer func() { _ = rows.Close() }()
	byQueue := map[string]*JobQueueStats{}
	var order []string
	for rows.Next() {
		var queue, state string
		var n int
		if err := rows.Scan(&queue, &state, &n); err != nil {
			return nil, fmt.Errorf("count jobs: %w", err)
		}
		q := byQueue[queue]
		if q == nil {
			q = &JobQueueStats{Queue: queue}
			byQueue[queue] = q
			order = append(order, queue)
		}
		switch state {
		case "running":
			q.Running += n
		case "discarded":
			q.GivenUp += n
		case "scheduled", "retryable":
			q.Waiting += n
			q.Scheduled += n
		default:
			q.Waiting += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	out := make([]JobQueueStats, 0, len(order))
	for _, name := range order {
		q := byQueue[name]
		var at time.Time
		err := db.queryRow(ctx, nil, qJobOldestDue, name).Scan(&at)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("oldest job of %s: %w", name, err)
		default:
			q.OldestDue = at.UTC()
		}
		out = append(out, *q)
	}
	return out, nil
}
