package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
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

// fanOutKicker queues a FanOutWebhooks job after a change that queued a
// webhook event has committed. It runs beside the requests: a burst of
// changes shares one job (the kick is a channel of one), and the request
// never waits for the queue. An event whose kick is lost (the instance
// stopped first) is fanned out by the job's run every minute.
type fanOutKicker struct {
	start, end sync.Once
	kick       chan struct{}
	quit, done chan struct{}
}

// kickFanOut asks for a FanOutWebhooks job; it never blocks.
func (db *DB) kickFanOut() {
	k := &db.fanOut
	k.start.Do(func() {
		k.kick, k.quit, k.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go db.queueFanOuts()
	})
	select {
	case k.kick <- struct{}{}:
	default: // one is asked for already
	}
}

// queueFanOuts inserts a FanOutWebhooks job for each kick until stop; a
// kick waiting at stop is served first.
func (db *DB) queueFanOuts() {
	k := &db.fanOut
	defer close(k.done)
	insert := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.jobs.Insert(ctx, jobs.FanOutWebhooks{}, nil); err != nil {
			slog.Warn("queue the webhook fan-out; it runs within a minute anyway", "error", err.Error())
		}
	}
	for {
		select {
		case <-k.kick:
			insert()
		case <-k.quit:
			select {
			case <-k.kick:
				insert()
			default:
			}
			return
		}
	}
}

// stop ends queueFanOuts, when it was started, once its last kick is served.
func (k *fanOutKicker) stop() {
	k.end.Do(func() {
		k.start.Do(func() {}) // a kick from now on starts nothing
		if k.quit == nil {
			return
		}
		close(k.quit)
		<-k.done
	})
}

// Requeued counts the jobs QueueUnfinishedWork queued, by what they do.
type Requeued struct {
	Emails, WebhookEvents, WebhookDeliveries int
}

// QueueUnfinishedWork queues, in one transaction, a job for every email
// still waiting and every webhook delivery still to make, and the fan-out
// when events wait for it. It is for a database whose job queue does not
// hold them: one that migrate-data filled, whose source's jobs stayed in
// the source.
func (db *DB) QueueUnfinishedWork(ctx context.Context) (Requeued, error) {
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
		var events int
		if err := db.queryRow(ctx, tx, qWebhookEventsLeft).Scan(&events); err != nil {
			return fmt.Errorf("count the webhook events to fan out: %w", err)
		}
		args := make([]river.JobArgs, 0, len(emails)+len(deliveries)+1)
		for _, id := range emails {
			args = append(args, jobs.SendEmail{OutboxID: id})
		}
		for _, id := range deliveries {
			args = append(args, jobs.DeliverWebhook{DeliveryID: id})
		}
		if events > 0 {
			args = append(args, jobs.FanOutWebhooks{})
		}
		n = Requeued{Emails: len(emails), WebhookEvents: events, WebhookDeliveries: len(deliveries)}
		return db.enqueueAll(tx, args)
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
