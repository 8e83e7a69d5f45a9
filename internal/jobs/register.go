package jobs

import (
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// register adds the worker of every job kind. A new kind adds its line
// here.
func register(workers *river.Workers, deps Deps, logger *slog.Logger, rescueAfter time.Duration) error {
	if deps.Mail == nil || deps.Housekeeper == nil || deps.Webhooks == nil {
		return errors.New("jobs: Deps.Mail, Deps.Housekeeper and Deps.Webhooks are required")
	}
	river.AddWorker(workers, &emailWorker{deliver: deps.Mail, timeout: emailTimeout(rescueAfter)})
	river.AddWorker(workers, &HousekeepingWorker{Keeper: deps.Housekeeper, Logger: logger})
	river.AddWorker(workers, &fanOutWorker{hooks: deps.Webhooks})
	river.AddWorker(workers, &webhookWorker{deliver: deps.Webhooks, timeout: min(30*time.Second, rescueAfter/2)})
	river.AddWorker(workers, &restrictWorker{restricter: deps.Dunning, logger: logger})
	river.AddWorker(workers, &seatWorker{seats: deps.Seats, logger: logger, timeout: min(50*time.Second, rescueAfter/2)})
	// scaffold:job-workers (make scaffold JOB=… adds its worker above this line)
	return nil
}

// periodic lists the jobs the leader instance queues on a schedule. A
// periodic kind makes itself unique per period (InsertOpts) so that a
// leader taking over does not run it twice.
func periodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(HousekeepingEvery),
			func() (river.JobArgs, *river.InsertOpts) { return Housekeeping{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(FanOutWebhooksEvery),
			func() (river.JobArgs, *river.InsertOpts) {
				return FanOutWebhooks{}, &river.InsertOpts{Queue: QueueWebhooks,
					UniqueOpts: river.UniqueOpts{ByPeriod: FanOutWebhooksEvery}}
			},
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(RestrictOverdueEvery),
			func() (river.JobArgs, *river.InsertOpts) { return RestrictOverdue{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		// scaffold:job-periodic (make scaffold JOB=… EVERY=… adds its schedule above this line)
	}
}
