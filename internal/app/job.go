package app

import (
	"context"
	"strings"
	"time"
)

// JobState is a background job's state, as the job queue (River) names
// it.
type JobState string

// The job states.
const (
	JobAvailable JobState = "available"
	JobPending   JobState = "pending"
	JobScheduled JobState = "scheduled"
	JobRetryable JobState = "retryable"
	JobRunning   JobState = "running"
	JobCompleted JobState = "completed"
	JobDiscarded JobState = "discarded"
	JobCancelled JobState = "cancelled"
)

// Label words the state for the operator console.
func (s JobState) Label() string {
	switch s {
	case JobAvailable:
		return "Waiting to run"
	case JobPending:
		return "Waiting for another job"
	case JobScheduled:
		return "Scheduled for later"
	case JobRetryable:
		return "Failed, waiting for its retry"
	case JobRunning:
		return "Running"
	case JobCompleted:
		return "Completed"
	case JobDiscarded:
		return "Given up after its last attempt"
	case JobCancelled:
		return "Cancelled"
	}
	return string(s)
}

// CanRetry reports whether a job in this state may be run again by hand
// (the console's Retry, `atrium jobs retry`): one waiting for its retry,
// given up or cancelled. A waiting or running job runs anyway; a completed
// one did its work.
func (s JobState) CanRetry() bool {
	return s == JobRetryable || s == JobDiscarded || s == JobCancelled
}

// CanCancel reports whether a job in this state may be cancelled: any job
// that has not finished.
func (s JobState) CanCancel() bool {
	switch s {
	case JobAvailable, JobPending, JobScheduled, JobRetryable, JobRunning:
		return true
	}
	return false
}

// Failed reports whether the state is one the console lists as failed.
func (s JobState) Failed() bool { return s == JobRetryable || s == JobDiscarded }

// JobError is one recorded failure of a job.
type JobError struct {
	At      time.Time
	Attempt int
	Message string
}

// Line is the error on one line, cut to at most n characters with an
// ellipsis: a list's preview (`atrium jobs list`, the console's Jobs
// page).
func (e JobError) Line(n int) string {
	s := strings.Join(strings.Fields(e.Message), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Job is one background job, as the operator console shows it.
type Job struct {
	ID                   int64
	Kind, Queue          string
	State                JobState
	Attempt, MaxAttempts int
	CreatedAt            time.Time
	ScheduledAt          time.Time
	// AttemptedAt and FinalizedAt are zero when it has not happened.
	AttemptedAt, FinalizedAt time.Time
	// Errors are its failures, oldest first.
	Errors []JobError
	// Args are the job's arguments as JSON, only for the kinds whose
	// arguments hold no personal data or secret (jobs.ArgsShown); empty
	// otherwise.
	Args string
}

// LastError is the job's newest error, or nil.
func (j *Job) LastError() *JobError {
	if len(j.Errors) == 0 {
		return nil
	}
	return &j.Errors[len(j.Errors)-1]
}

// JobQueue is the state of one job queue.
type JobQueue struct {
	Queue string
	// Due counts the jobs waiting to run now; Scheduled those scheduled
	// for later or waiting for a retry.
	Due, Scheduled int
	Running        int
	// GivenUp counts the jobs that failed every attempt (discarded).
	GivenUp int
	// OldestDue is when the oldest due job became due; zero when none is.
	OldestDue time.Time
}

// JobPageSize is how many failed jobs a console page lists.
const JobPageSize = 25

// FailedJobFilter selects failed jobs, newest first.
type FailedJobFilter struct {
	// State is JobRetryable or JobDiscarded; empty for both.
	State JobState
	// Before, when set, lists the jobs older than this job id (the next
	// page).
	Before int64
	// Limit is the page's size.
	Limit int
}

// JobQueueService is the operator console's view of the background job
// queue. Retry and cancel write their audit entry, with the staff
// member's reason, to the system log in the same transaction.
type JobQueueService interface {
	// JobQueues returns the state of every queue.
	JobQueues(ctx context.Context) ([]JobQueue, error)
	// FailedJobs lists failed jobs (retryable or discarded), newest first;
	// more says an older page exists.
	FailedJobs(ctx context.Context, f FailedJobFilter) (jobs []*Job, more bool, err error)
	// FindJob returns one job, or ENOTFOUND.
	FindJob(ctx context.Context, id int64) (*Job, error)
	// RetryJob runs a job again now ("job.retried"); ECONFLICT unless its
	// state CanRetry.
	RetryJob(ctx context.Context, id int64, reason string) (*Job, error)
	// CancelJob cancels an unfinished job ("job.cancelled"); one running
	// now stops when its worker next checks. ECONFLICT unless its state
	// CanCancel.
	CancelJob(ctx context.Context, id int64, reason string) (*Job, error)
}
