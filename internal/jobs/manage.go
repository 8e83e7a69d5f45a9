package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"atrium/internal/app"
)

// Managing jobs by hand: `atrium jobs retry|cancel` and the operator
// console's job pages (internal/store/jobs_console.go) both call Retry and
// Cancel, so the rules of app.JobState.CanRetry and CanCancel and the
// words of their refusals have one home.

// Queues are the queues every instance works, in the order the console
// lists them.
func Queues() []string { return []string{QueueDefault, QueueMail, QueueWebhooks} }

// argsShown are the kinds whose arguments the console shows: they hold
// only ids and nothing personal or secret. A kind missing here (a
// scaffolded one, say) has its arguments hidden until someone checks what
// they hold and lists it.
var argsShown = map[string]bool{
	SendEmail{}.Kind():      true, // outbox_id: the message's row, not its address or body
	DeliverWebhook{}.Kind(): true, // delivery_id: the delivery's row, not its URL or payload
	FanOutWebhooks{}.Kind(): true, // no arguments
	Housekeeping{}.Kind():   true, // no arguments
}

// ArgsShown reports whether the console may show a job kind's arguments.
func ArgsShown(kind string) bool { return argsShown[kind] }

// Retry runs job id again now, in tx when tx is not nil: only a job
// waiting for its retry, given up or cancelled (app.JobState.CanRetry).
// ENOTFOUND when there is no such job, ECONFLICT for another state.
func Retry(ctx context.Context, c *Client, tx *sql.Tx, id int64) (*rivertype.JobRow, error) {
	j, err := Get(ctx, c, tx, id)
	if err != nil {
		return nil, err
	}
	if !app.JobState(j.State).CanRetry() {
		return nil, app.Errorf(app.ECONFLICT, "Job %d is %s: only a job that failed (waiting for its retry or given up) or was cancelled can be run again. Nothing was changed.",
			id, stateWords(j.State))
	}
	if tx == nil {
		j, err = c.JobRetry(ctx, id)
	} else {
		j, err = c.JobRetryTx(ctx, tx, id)
	}
	if err != nil {
		return nil, notFound(err, id, "retry")
	}
	if j.State == rivertype.JobStateRunning {
		return nil, app.Errorf(app.ECONFLICT, "Job %d started running meanwhile. Nothing was changed.", id)
	}
	return j, nil
}

// Cancel stops job id from running again, in tx when tx is not nil: only
// an unfinished job (app.JobState.CanCancel). A running job comes back
// still running, and is cancelled when its worker next checks.
func Cancel(ctx context.Context, c *Client, tx *sql.Tx, id int64) (*rivertype.JobRow, error) {
	j, err := Get(ctx, c, tx, id)
	if err != nil {
		return nil, err
	}
	if !app.JobState(j.State).CanCancel() {
		return nil, app.Errorf(app.ECONFLICT, "Job %d has already finished (%s). Nothing was changed.", id, stateWords(j.State))
	}
	if tx == nil {
		j, err = c.JobCancel(ctx, id)
	} else {
		j, err = c.JobCancelTx(ctx, tx, id)
	}
	if err != nil {
		return nil, notFound(err, id, "cancel")
	}
	return j, nil
}

// Get returns job id, in tx when tx is not nil; ENOTFOUND when there is
// none.
func Get(ctx context.Context, c *Client, tx *sql.Tx, id int64) (*rivertype.JobRow, error) {
	var j *rivertype.JobRow
	var err error
	if tx == nil {
		j, err = c.JobGet(ctx, id)
	} else {
		j, err = c.JobGetTx(ctx, tx, id)
	}
	if err != nil {
		return nil, notFound(err, id, "find")
	}
	return j, nil
}

// notFound maps River's missing job to ENOTFOUND.
func notFound(err error, id int64, verb string) error {
	if errors.Is(err, river.ErrNotFound) {
		return app.Errorf(app.ENOTFOUND, "There is no job %d: it never existed, or it finished and was deleted (finished jobs are kept for a day, given-up ones for a week).", id)
	}
	return fmt.Errorf("%s job %d: %w", verb, id, err)
}

// stateWords is a state's label in a sentence.
func stateWords(s rivertype.JobState) string {
	l := app.JobState(s).Label()
	if l == "" {
		return ""
	}
	return strings.ToLower(l[:1]) + l[1:]
}
