package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"atrium/internal/mail"
)

// SendEmail delivers one email of the outbox (mail_outbox), queued in the
// transaction that stored it.
type SendEmail struct {
	// OutboxID is the message's row.
	OutboxID int64 `json:"outbox_id"`
}

// Kind names the job in the queue.
func (SendEmail) Kind() string { return "send_email" }

// InsertOpts puts mail on its own queue with the outbox's attempt limit.
func (SendEmail) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMail, MaxAttempts: mail.MaxAttempts}
}

// emailWorker sends a SendEmail job's message.
type emailWorker struct {
	river.WorkerDefaults[SendEmail]
	deliver *mail.Deliverer
	timeout time.Duration
}

// Work sends the message; a failure is recorded on the outbox row with the
// time of the next try, or as given up on the last attempt.
func (w *emailWorker) Work(ctx context.Context, job *river.Job[SendEmail]) error {
	var retryAt time.Time
	if job.Attempt < job.MaxAttempts {
		retryAt = time.Now().Add(mail.Backoff(job.Attempt))
	}
	return w.deliver.Deliver(ctx, job.Args.OutboxID, job.Attempt, retryAt)
}

// NextRetry follows the outbox's schedule: 30 s after the first failure,
// doubling up to an hour.
func (w *emailWorker) NextRetry(job *river.Job[SendEmail]) time.Time {
	return time.Now().Add(mail.Backoff(job.Attempt))
}

// Timeout leaves the send its 30 seconds and the record its moment, but
// at most half the rescue delay, so that a send always ends before its job
// could be taken as abandoned and sent by another instance.
func (w *emailWorker) Timeout(*river.Job[SendEmail]) time.Duration { return w.timeout }

// emailTimeout is the email job's timeout for a rescue delay.
func emailTimeout(rescueAfter time.Duration) time.Duration {
	return min(mail.SendTimeout+10*time.Second, rescueAfter/2)
}
