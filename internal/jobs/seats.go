package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// SyncSeatsDelay is how far ahead a SyncSeats job is scheduled: the joins,
// leaves and removals of a burst (ten invitees accepting within seconds)
// find the job still waiting and share it, so Stripe hears one quantity.
const SyncSeatsDelay = 5 * time.Second

// SeatSyncer brings a workspace's Stripe subscription quantity to its
// billable seats (billing.SeatSync is one). jobID makes the Stripe
// request's Idempotency-Key: every attempt of one job sends the same key.
type SeatSyncer interface {
	SyncSeats(ctx context.Context, workspaceID, jobID int64) error
}

// SyncSeats sends a workspace's member count to its per-seat Stripe
// subscription. The store queues it in the transaction of every
// membership change of a workspace with a subscription, scheduled
// SyncSeatsDelay ahead, unless one is still waiting to run (a change while
// one runs queues another, so the last count always reaches Stripe). The
// job reads the workspace afresh: its arguments carry only the id.
type SyncSeats struct {
	WorkspaceID int64 `json:"workspace_id"`
}

// Kind names the job in the queue.
func (SyncSeats) Kind() string { return "sync_seats" }

// seatWorker runs SyncSeats jobs.
type seatWorker struct {
	river.WorkerDefaults[SyncSeats]
	seats   SeatSyncer
	logger  *slog.Logger
	timeout time.Duration
}

// Work syncs the workspace's quantity. A Stripe failure returns the error
// and River retries with backoff; a refusal that no retry can change (the
// error says Permanent, e.g. Stripe's 400 or 404) cancels the job with a
// log line.
func (w *seatWorker) Work(ctx context.Context, job *river.Job[SyncSeats]) error {
	if w.seats == nil {
		w.logger.Warn("seat sync skipped: billing is off", "workspace_id", job.Args.WorkspaceID)
		return river.JobCancel(errors.New("billing is off"))
	}
	err := w.seats.SyncSeats(ctx, job.Args.WorkspaceID, job.ID)
	var p interface{ Permanent() bool }
	if errors.As(err, &p) && p.Permanent() {
		w.logger.Error("seat sync refused by Stripe; cancelled, run `atrium billing sync` once it is fixed",
			"workspace_id", job.Args.WorkspaceID, "job_id", job.ID, "error", err.Error())
		return river.JobCancel(err)
	}
	return err
}

// Timeout leaves the Stripe read and update (20 s each at most) their
// time, at most half the rescue delay.
func (w *seatWorker) Timeout(*river.Job[SyncSeats]) time.Duration { return w.timeout }
