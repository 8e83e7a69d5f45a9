// Package jobs runs Atrium's background work on River
// (github.com/riverqueue/river), on SQLite or PostgreSQL: the job kinds
// (their arguments and the queue each runs on), their workers, the
// periodic schedule and the client that `atrium serve` starts on every
// instance.
//
// A job is inserted in the transaction of the change that causes it (the
// store's enqueue, internal/store/jobs.go), so it exists exactly when the
// change committed. Workers run on any instance; a job that fails is
// retried with backoff; a job whose instance died is rescued after
// RescueAfter and run again, so workers must be safe to repeat.
//
// To add a job: declare its arguments here (a struct with a Kind method
// and, when it needs one, InsertOpts), write its worker (river.Worker),
// register it in register, and queue it from a store transaction with
// enqueue or from anywhere with Runner.Client().Insert. README "Extend it"
// walks through an example.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"atrium/internal/mail"
	"atrium/internal/metrics"
)

// Client is River's client over database/sql transactions, the kind both
// of Atrium's databases use.
type Client = river.Client[*sql.Tx]

// Driver is River's driver for one of Atrium's databases.
type Driver = riverdriver.Driver[*sql.Tx]

// Queues. Mail has its own so that a burst of other work never delays a
// sign-in link (QueueWebhooks is the third).
const (
	QueueDefault = river.QueueDefault
	QueueMail    = "mail"
)

// WebhookWorkersPer is how many webhook deliveries an instance makes at
// once for each of its Workers: a delivery mostly waits on a customer's
// server (up to 10 s), and a queue fetches at most its free workers' worth
// of jobs each tenth of a second, so ten workers would cap an instance at
// about a hundred deliveries a second whatever the database can do.
const WebhookWorkersPer = 5

// Defaults for the zero fields of Config.
const (
	DefaultWorkers      = 10
	DefaultPollInterval = 500 * time.Millisecond
	DefaultRescueAfter  = 2 * time.Minute
)

// Config tunes the client.
type Config struct {
	// Workers is how many jobs of each queue one instance runs at once
	// (JOB_WORKERS); the webhooks queue runs WebhookWorkersPer times as
	// many.
	Workers int
	// PollInterval is how often each queue looks for due jobs
	// (JOB_POLL_INTERVAL_MS): how long a job queued in a transaction may
	// wait before it starts.
	PollInterval time.Duration
	// RescueAfter is how long a job may run before it is taken as
	// abandoned by an instance that died and run again
	// (JOB_RESCUE_AFTER_SECONDS). It must exceed the longest job's timeout.
	RescueAfter time.Duration
	// Logger receives River's own warnings and the workers' lines.
	Logger *slog.Logger
	// Metrics counts failed attempts; optional.
	Metrics *metrics.Metrics
}

// Deps are what the workers need.
type Deps struct {
	// Mail sends queued email (SendEmail).
	Mail *mail.Deliverer
	// Housekeeper deletes what has expired (Housekeeping).
	Housekeeper Housekeeper
	// Webhooks fans events out and delivers outgoing webhooks
	// (FanOutWebhooks, DeliverWebhook).
	Webhooks WebhookDeliverer
	// Dunning restricts workspaces whose payment is overdue past the
	// grace period (RestrictOverdue); nil skips the check.
	Dunning Restricter
	// Seats syncs per-seat subscription quantities (SyncSeats); nil when
	// billing is off, and a SyncSeats job is then cancelled.
	Seats SeatSyncer
}

// Runner is the client that works jobs on this instance.
type Runner struct {
	client  *Client
	logger  *slog.Logger
	metrics *metrics.Metrics
	events  func()
	done    chan struct{}
}

// New returns a Runner over driver with every job kind registered; Start
// begins working.
func New(driver Driver, deps Deps, cfg Config) (*Runner, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rescue := cfg.RescueAfter
	if rescue <= 0 {
		rescue = DefaultRescueAfter
	}
	workers := river.NewWorkers()
	if err := register(workers, deps, logger, rescue); err != nil {
		return nil, err
	}
	n := cfg.Workers
	if n <= 0 {
		n = DefaultWorkers
	}
	poll := cfg.PollInterval
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	client, err := river.NewClient(driver, &river.Config{
		Queues: map[string]river.QueueConfig{
			QueueDefault:  {MaxWorkers: n},
			QueueMail:     {MaxWorkers: n},
			QueueWebhooks: {MaxWorkers: WebhookWorkersPer * n},
		},
		Workers:              workers,
		PeriodicJobs:         periodic(),
		FetchCooldown:        min(poll, 100*time.Millisecond),
		FetchPollInterval:    poll,
		JobTimeout:           min(time.Minute, rescue),
		RescueStuckJobsAfter: rescue,
		Logger:               riverLogger(logger),
		ErrorHandler:         &errorHandler{logger: logger},
	})
	if err != nil {
		return nil, fmt.Errorf("job client: %w", err)
	}
	return &Runner{client: client, logger: logger, metrics: cfg.Metrics}, nil
}

// Client returns the River client, to insert jobs outside a store
// transaction or to list them.
func (r *Runner) Client() *Client { return r.client }

// Start begins working jobs until Stop.
func (r *Runner) Start(ctx context.Context) error {
	events, cancel := r.client.Subscribe(river.EventKindJobFailed)
	r.events, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		for ev := range events {
			r.metrics.JobFailed(ev.Job.Queue, ev.Job.Kind)
		}
	}()
	if err := r.client.Start(ctx); err != nil {
		cancel()
		return fmt.Errorf("start jobs: %w", err)
	}
	return nil
}

// Stop lets the jobs running now finish, waiting at most timeout, then
// cancels the rest (their next try runs elsewhere or after a restart).
func (r *Runner) Stop(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := r.client.Stop(ctx); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			r.logger.Warn("stop jobs", "error", err.Error())
		} else {
			r.logger.Warn("jobs did not finish in time; they run again on another instance or after a restart")
		}
		hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.client.StopAndCancel(hard)
	}
	if r.events != nil {
		r.events()
		<-r.done
	}
}

// NewInserter returns a client that only inserts and manages jobs, for the
// store and the CLI: it works none.
func NewInserter(driver Driver) (*Client, error) {
	c, err := river.NewClient(driver, &river.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("job client: %w", err)
	}
	return c, nil
}

// errorHandler logs a job's error or panic with its kind and attempt; the
// retry follows the worker's NextRetry.
type errorHandler struct{ logger *slog.Logger }

func (h *errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	h.logger.WarnContext(ctx, "job failed", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt,
		"max_attempts", job.MaxAttempts, "error", err.Error())
	return nil
}

func (h *errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	h.logger.ErrorContext(ctx, "job panicked", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt,
		"panic", fmt.Sprint(panicVal), "trace", trace)
	return nil
}

// riverLogger passes River's own lines at warning and above: its debug and
// info lines (leader elections, each fetch) are noise in the app's log.
func riverLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFloor{l.Handler(), slog.LevelWarn})
}

type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(a), h.min}
}

func (h levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(n), h.min}
}
