package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// HousekeepingEvery is how often housekeeping runs, between all instances.
const HousekeepingEvery = time.Hour

// Housekeeper deletes what has expired; it returns what it did as log
// attributes.
type Housekeeper interface {
	Housekeep(ctx context.Context) ([]slog.Attr, error)
}

// Housekeeping deletes expired sessions, old sign-in links, delivered mail
// past its retention and old invite-mail records, and clears the bodies of
// failed mail whose link has expired. It is periodic: the leader instance
// queues it every hour, and its uniqueness per hour keeps it to one run in
// each clock hour however many instances start or take over.
type Housekeeping struct{}

// Kind names the job in the queue.
func (Housekeeping) Kind() string { return "housekeeping" }

// InsertOpts makes one housekeeping job per clock hour.
func (Housekeeping) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: HousekeepingEvery}}
}

// HousekeepingWorker runs Housekeeping with Keeper and logs what it did.
type HousekeepingWorker struct {
	river.WorkerDefaults[Housekeeping]
	Keeper Housekeeper
	Logger *slog.Logger
}

// Work runs one housekeeping pass.
func (w *HousekeepingWorker) Work(ctx context.Context, job *river.Job[Housekeeping]) error {
	attrs, err := w.Keeper.Housekeep(ctx)
	if err != nil {
		return err
	}
	w.Logger.LogAttrs(ctx, slog.LevelInfo, "housekeeping ran", append(attrs, slog.Int64("job_id", job.ID))...)
	return nil
}
