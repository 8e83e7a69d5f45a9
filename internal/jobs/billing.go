package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// RestrictOverdueEvery is how often the dunning check runs, between all
// instances: a workspace is restricted at most this long after its grace
// period ran out.
const RestrictOverdueEvery = 10 * time.Minute

// Restricter restricts the workspaces whose overdue payment outlived the
// grace period; store.BillingService is one.
type Restricter interface {
	RestrictOverdue(ctx context.Context) (int, error)
}

// RestrictOverdue restricts the workspaces whose dunning grace period ran
// out (additions refused until the invoice is paid). It is periodic, one
// job per RestrictOverdueEvery; `atrium billing restrict` runs the same
// check on demand.
type RestrictOverdue struct{}

// Kind names the job in the queue.
func (RestrictOverdue) Kind() string { return "billing_restrict_overdue" }

// InsertOpts makes one job per period.
func (RestrictOverdue) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: RestrictOverdueEvery}}
}

// restrictWorker runs RestrictOverdue; without a Restricter (billing
// off) it does nothing.
type restrictWorker struct {
	river.WorkerDefaults[RestrictOverdue]
	restricter Restricter
	logger     *slog.Logger
}

// Work runs one dunning check.
func (w *restrictWorker) Work(ctx context.Context, job *river.Job[RestrictOverdue]) error {
	if w.restricter == nil {
		return nil
	}
	n, err := w.restricter.RestrictOverdue(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		w.logger.InfoContext(ctx, "workspaces restricted for overdue payments", "restricted", n, "job_id", job.ID)
	}
	return nil
}
