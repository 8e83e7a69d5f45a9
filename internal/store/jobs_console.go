package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"atrium/internal/app"
	"atrium/internal/jobs"
)

// JobQueueService is the operator console's view of the job queue
// (app.JobQueueService): River's own tables, read through its client, and
// retry and cancel through the same jobs.Retry and jobs.Cancel as `atrium
// jobs`, each with its audit entry in the system log in the same
// transaction.
type JobQueueService struct {
	db *DB
}

// NewJobQueueService returns the console's job queue service over db.
func NewJobQueueService(db *DB) *JobQueueService { return &JobQueueService{db: db} }

var _ app.JobQueueService = (*JobQueueService)(nil)

// JobQueues returns the state of every queue the instances work, and of
// any other queue that holds a job.
func (s *JobQueueService) JobQueues(ctx context.Context) ([]app.JobQueue, error) {
	stats, err := s.db.JobStats(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]JobQueueStats{}
	for _, q := range stats {
		byName[q.Queue] = q
	}
	names := jobs.Queues()
	for _, q := range stats {
		if !slices.Contains(names, q.Queue) {
			names = append(names, q.Queue)
		}
	}
	out := make([]app.JobQueue, 0, len(names))
	for _, name := range names {
		q := byName[name]
		out = append(out, app.JobQueue{Queue: name, Due: q.Waiting - q.Scheduled, Scheduled: q.Scheduled,
			Running: q.Running, GivenUp: q.GivenUp, OldestDue: q.OldestDue})
	}
	return out, nil
}

// FailedJobs lists the jobs waiting for a retry or given up, newest (by
// id) first, older than f.Before when it is set.
func (s *JobQueueService) FailedJobs(ctx context.Context, f app.FailedJobFilter) ([]*app.Job, bool, error) {
	states := []rivertype.JobState{rivertype.JobStateRetryable, rivertype.JobStateDiscarded}
	if f.State != "" {
		if !f.State.Failed() {
			return nil, false, app.FieldErrorf("state", "Choose failed jobs waiting for a retry, or given up.")
		}
		states = []rivertype.JobState{rivertype.JobState(f.State)}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = app.JobPageSize
	}
	params := river.NewJobListParams().States(states...).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(limit + 1)
	if f.Before > 0 {
		params = params.Where("id < @before", river.NamedArgs{"before": f.Before})
	}
	res, err := s.db.jobs.JobList(ctx, params)
	if err != nil {
		return nil, false, fmt.Errorf("list failed jobs: %w", err)
	}
	rows, more := res.Jobs, false
	if len(rows) > limit {
		rows, more = rows[:limit], true
	}
	out := make([]*app.Job, len(rows))
	for i, j := range rows {
		out[i] = appJob(j)
	}
	return out, more, nil
}

// FindJob returns one job, or ENOTFOUND.
func (s *JobQueueService) FindJob(ctx context.Context, id int64) (*app.Job, error) {
	j, err := jobs.Get(ctx, s.db.jobs, nil, id)
	if err != nil {
		return nil, err
	}
	return appJob(j), nil
}

// RetryJob runs a failed or cancelled job again now, with its
// "job.retried" entry in the system log.
func (s *JobQueueService) RetryJob(ctx context.Context, id int64, reason string) (*app.Job, error) {
	return s.change(ctx, id, reason, app.ActionJobRetried, jobs.Retry)
}

// CancelJob cancels an unfinished job, with its "job.cancelled" entry in
// the system log.
func (s *JobQueueService) CancelJob(ctx context.Context, id int64, reason string) (*app.Job, error) {
	return s.change(ctx, id, reason, app.ActionJobCancelled, jobs.Cancel)
}

// change runs a retry or a cancel and writes its audit entry in one
// transaction.
func (s *JobQueueService) change(ctx context.Context, id int64, reason, action string,
	do func(context.Context, *jobs.Client, *sql.Tx, int64) (*rivertype.JobRow, error)) (*app.Job, error) {
	reason, err := app.ValidateStaffReason(reason)
	if err != nil {
		return nil, err
	}
	var out *app.Job
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return fmt.Errorf("%s: not inside a transaction", action)
		}
		j, err := do(ctx, s.db.jobs, sqlTx, id)
		if err != nil {
			return err
		}
		out = appJob(j)
		return s.db.audit(ctx, tx, app.AuditEntry{Action: action, TargetType: "job", TargetID: strconv.FormatInt(id, 10),
			Metadata: map[string]any{"job": id, "kind": j.Kind, "queue": j.Queue, "attempts": j.Attempt, "reason": reason}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// appJob converts River's row.
func appJob(j *rivertype.JobRow) *app.Job {
	out := &app.Job{ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: app.JobState(j.State), Attempt: j.Attempt,
		MaxAttempts: j.MaxAttempts, CreatedAt: j.CreatedAt.UTC(), ScheduledAt: j.ScheduledAt.UTC()}
	if j.AttemptedAt != nil {
		out.AttemptedAt = j.AttemptedAt.UTC()
	}
	if j.FinalizedAt != nil {
		out.FinalizedAt = j.FinalizedAt.UTC()
	}
	for _, e := range j.Errors {
		out.Errors = append(out.Errors, app.JobError{At: e.At.UTC(), Attempt: e.Attempt, Message: e.Error})
	}
	if jobs.ArgsShown(j.Kind) {
		out.Args = string(j.EncodedArgs)
	}
	return out
}
