package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/jobs"
	"atrium/internal/store"
)

const jobsSynopsis = `jobs list [--state STATE] [--queue QUEUE] [--kind KIND] [--limit N] | retry ID --reason TEXT | cancel ID --reason TEXT

  list    the newest jobs, with their state, attempts and last error (default: those not finished)
  retry   run a job again now: one that is waiting for its retry, given up (discarded) or cancelled
  cancel  stop an unfinished job from running again; one running now is cancelled when it next checks

A retry or a cancel is written to the system audit log (job.retried, job.cancelled) with its reason, as
the operator console's Jobs page (/admin/jobs) does.`

// jobStates are the states `jobs list --state` takes; "unfinished" is every
// state that will still run.
var jobStates = map[string][]rivertype.JobState{
	"unfinished": {rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStatePending},
	"available": {rivertype.JobStateAvailable}, "scheduled": {rivertype.JobStateScheduled},
	"retryable": {rivertype.JobStateRetryable}, "running": {rivertype.JobStateRunning},
	"completed": {rivertype.JobStateCompleted}, "discarded": {rivertype.JobStateDiscarded},
	"cancelled": {rivertype.JobStateCancelled},
}

// runJobs handles "atrium jobs": the operator's view of the job queue.
func runJobs(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("jobs", jobsSynopsis, stderr)
	state := fs.String("state", "unfinished", "list jobs in this `state`: unfinished, available, scheduled, retryable, running, completed, discarded or cancelled")
	queue := fs.String("queue", "", "list only this `queue` (default, mail)")
	kind := fs.String("kind", "", "list only this job `kind` (send_email, housekeeping, …)")
	limit := fs.Int("limit", 50, "list at most `N` jobs")
	reason := fs.String("reason", "", "why the job is retried or cancelled (a support ticket, an incident), kept in the audit log")
	action, err := parseAction(fs, args, "an action: list, retry ID or cancel ID")
	if err != nil {
		return err
	}
	var id int64
	switch action {
	case "list":
		if fs.NArg() > 0 {
			return usagef("jobs list takes no arguments")
		}
		if _, ok := jobStates[*state]; !ok {
			return usagef("jobs list: --state %q is not a state (want unfinished, available, scheduled, retryable, running, completed, discarded or cancelled)", *state)
		}
		if *limit < 1 || *limit > 10000 {
			return usagef("jobs list: --limit must be from 1 to 10000")
		}
	case "retry", "cancel":
		if fs.NArg() < 1 {
			return usagef("jobs %s takes one job ID (see `atrium jobs list`)", action)
		}
		arg := fs.Arg(0)
		// The flags may follow the ID too: jobs retry 42 --reason "…".
		if err := parseFlags(fs, fs.Args()[1:]); err != nil {
			return err
		}
		if fs.NArg() != 0 {
			return usagef("jobs %s takes one job ID (see `atrium jobs list`)", action)
		}
		if id, err = strconv.ParseInt(arg, 10, 64); err != nil || id < 1 {
			return usagef("jobs %s: %q is not a job ID (a whole number, from `atrium jobs list`)", action, arg)
		}
		if strings.TrimSpace(*reason) == "" {
			return usagef("jobs %s needs --reason TEXT (say why, e.g. the support ticket or incident)", action)
		}
		if _, err := app.ValidateStaffReason(*reason); err != nil {
			return usagef("jobs %s: --reason: %s", action, app.ErrorMessage(err))
		}
	default:
		return usagef("jobs: unknown action %q (want list, retry or cancel)", action)
	}
	_, db, err := openConfigured(ctx, env, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	queueSvc := store.NewJobQueueService(db)
	switch action {
	case "list":
		return listJobs(ctx, db.Jobs(), *state, *queue, *kind, *limit, stdout)
	case "retry":
		return retryJob(ctx, queueSvc, id, *reason, stdout)
	default:
		return cancelJob(ctx, queueSvc, id, *reason, stdout)
	}
}

// listJobs prints the newest jobs matching the filters, a line each.
func listJobs(ctx context.Context, client *jobs.Client, state, queue, kind string, limit int, stdout io.Writer) error {
	params := river.NewJobListParams().States(jobStates[state]...).First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if queue != "" {
		params = params.Queues(queue)
	}
	if kind != "" {
		params = params.Kinds(kind)
	}
	res, err := client.JobList(ctx, params)
	if err != nil {
		return fmt.Errorf("list jobs: %w (run `atrium migrate` if the job tables are missing)", err)
	}
	if len(res.Jobs) == 0 {
		fmt.Fprintf(stdout, "No %s jobs%s.\n", state, filterText(queue, kind))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tQUEUE\tSTATE\tATTEMPTS\tSCHEDULED\tLAST ERROR")
	now := time.Now()
	for _, j := range res.Jobs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Kind, j.Queue, j.State, j.Attempt, j.MaxAttempts,
			relative(now, j.ScheduledAt), lastError(j))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%d %s jobs shown, newest first%s.", len(res.Jobs), state, filterText(queue, kind))
	if len(res.Jobs) == limit {
		fmt.Fprint(stdout, " There may be more: raise --limit or filter by --queue or --kind.")
	}
	fmt.Fprintln(stdout, "\nRun a job again now with `atrium jobs retry ID --reason TEXT`; stop one with `atrium jobs cancel ID --reason TEXT`.")
	return nil
}

// retryJob runs a failed or cancelled job again now, by the rule the
// console's Retry follows, with its audit entry.
func retryJob(ctx context.Context, svc app.JobQueueService, id int64, reason string, stdout io.Writer) error {
	j, err := svc.RetryJob(ctx, id, reason)
	if err != nil {
		return jobError(err)
	}
	fmt.Fprintf(stdout, "Job %d (%s) is queued to run now (attempt %d of %d); the audit log has it as job.retried.\n",
		id, j.Kind, j.Attempt+1, max(j.MaxAttempts, j.Attempt+1))
	fmt.Fprintln(stdout, "Watch it with `atrium jobs list --state unfinished`.")
	return nil
}

// cancelJob cancels an unfinished job, by the rule the console's Cancel
// follows, with its audit entry.
func cancelJob(ctx context.Context, svc app.JobQueueService, id int64, reason string, stdout io.Writer) error {
	j, err := svc.CancelJob(ctx, id, reason)
	if err != nil {
		return jobError(err)
	}
	if j.State == app.JobCancelled {
		fmt.Fprintf(stdout, "Job %d (%s) is cancelled: it will not run again. The audit log has it as job.cancelled.\n", id, j.Kind)
	} else {
		fmt.Fprintf(stdout, "Job %d (%s) is running: it is cancelled when its worker next checks. The audit log has it as job.cancelled.\n", id, j.Kind)
	}
	fmt.Fprintln(stdout, "Run it again later with `atrium jobs retry ID --reason TEXT`.")
	return nil
}

// jobError prints a refused retry or cancel's sentence as it is.
func jobError(err error) error {
	if code := app.ErrorCode(err); code == app.ENOTFOUND || code == app.ECONFLICT {
		return fmt.Errorf("%s", app.ErrorMessage(err))
	}
	return err
}

func filterText(queue, kind string) string {
	var parts []string
	if queue != "" {
		parts = append(parts, "on queue "+queue)
	}
	if kind != "" {
		parts = append(parts, "of kind "+kind)
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, " ")
}

// relative says when t is from now, in whole seconds.
func relative(now, t time.Time) string {
	d := t.Sub(now).Round(time.Second)
	switch {
	case d > 0:
		return "in " + d.String()
	case d < 0:
		return (-d).String() + " ago"
	default:
		return "now"
	}
}

// lastError is a job's newest error on one line, at most 80 characters.
func lastError(j *rivertype.JobRow) string {
	if len(j.Errors) == 0 {
		return ""
	}
	return app.JobError{Message: j.Errors[len(j.Errors)-1].Error}.Line(80)
}
