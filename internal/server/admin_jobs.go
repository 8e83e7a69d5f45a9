package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/component"
	"atrium/web/page"
)

// The console's job queue pages (/admin/jobs): the queues' counts, the
// failed jobs, one job with its errors, and Retry and Cancel through the
// console's confirmation with a reason (admin_actions.go). They read and
// change River's tables through s.Jobs, which shares its rules with
// `atrium jobs` (internal/jobs/manage.go).

// jobErrorPreview is how many characters of a job's last error the list
// shows; the job's page shows all of it.
const jobErrorPreview = 160

// adminJobStates are the list's state filters: value and label.
func adminJobStates(ctx context.Context) []component.Option {
	return []component.Option{
		{Value: "", Label: i18n.T(ctx, "admin.jobs.filter.all")},
		{Value: string(app.JobRetryable), Label: i18n.T(ctx, "admin.jobs.retrying")},
		{Value: string(app.JobDiscarded), Label: i18n.T(ctx, "admin.jobs.given_up")},
	}
}

// jobStateLabel words a job's state for the console, as app.JobState's
// Label does in English.
func jobStateLabel(ctx context.Context, st app.JobState) string {
	switch st {
	case app.JobAvailable, app.JobPending, app.JobScheduled, app.JobRetryable, app.JobRunning, app.JobCompleted,
		app.JobDiscarded, app.JobCancelled:
		return i18n.T(ctx, "admin.job_state."+string(st))
	}
	return string(st)
}

// jobStateInSentence words a job's state inside a sentence ("Job 5 is
// given up after its last attempt.").
func jobStateInSentence(ctx context.Context, st app.JobState) string {
	switch st {
	case app.JobAvailable, app.JobPending, app.JobScheduled, app.JobRetryable, app.JobRunning, app.JobCompleted,
		app.JobDiscarded, app.JobCancelled:
		return i18n.T(ctx, "admin.job_state_in_sentence."+string(st))
	}
	return string(st)
}

// jobName names a job on the console: "Job 12".
func jobName(ctx context.Context, id int64) string {
	return i18n.T(ctx, "admin.jobs.name", "ID", strconv.FormatInt(id, 10))
}

func adminJobURL(id int64) string { return "/admin/jobs/" + strconv.FormatInt(id, 10) }

// handleAdminJobs handles "GET /admin/jobs?state=&before=": the queues'
// counts and the failed jobs, newest first, a page at a time.
func (s *Server) handleAdminJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ctx := r.Context()
	v := page.AdminJobsView{State: q.Get("state"), States: adminJobStates(ctx)}
	f := app.FailedJobFilter{State: app.JobState(v.State), Limit: app.JobPageSize}
	if v.State != "" && !f.State.Failed() {
		s.Error(w, r, app.Errorf(app.EINVALID, "“%s” is not a state this list filters by: choose waiting for a retry, or given up.", v.State))
		return
	}
	if b := q.Get("before"); b != "" {
		id, err := strconv.ParseInt(b, 10, 64)
		if err != nil || id < 1 {
			s.Error(w, r, app.Errorf(app.EINVALID, "That page of the list does not exist: start again from the newest failed jobs."))
			return
		}
		f.Before = id
	}
	queues, err := s.Jobs.JobQueues(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	failed, more, err := s.Jobs.FailedJobs(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	now, tz := s.Now(), staffTZ(r)
	count := func(n int) string { return i18n.Number(ctx, int64(n)) }
	for _, qu := range queues {
		row := page.AdminJobQueueRow{Queue: qu.Queue, Due: count(qu.Due), Scheduled: count(qu.Scheduled),
			Running: count(qu.Running), GivenUp: count(qu.GivenUp), Oldest: "—"}
		if !qu.OldestDue.IsZero() {
			row.Oldest = waited(ctx, now.Sub(qu.OldestDue))
			row.OldestTitle = i18n.T(ctx, "admin.jobs.due_since", "Time", s.formatTime(ctx, qu.OldestDue, tz))
		}
		v.Queues = append(v.Queues, row)
	}
	for _, j := range failed {
		row := page.AdminJobRow{URL: adminJobURL(j.ID), Name: jobName(ctx, j.ID), Kind: j.Kind, Queue: j.Queue,
			State:   i18n.T(ctx, yesNo(j.State == app.JobDiscarded, "admin.jobs.given_up", "admin.jobs.retrying")),
			GivenUp: j.State == app.JobDiscarded, Attempts: attempts(ctx, j)}
		if e := j.LastError(); e != nil {
			row.Failed, row.FailedTitle = i18n.Ago(ctx, now, e.At), s.formatTime(ctx, e.At, tz)
			row.Error = e.Line(jobErrorPreview)
		}
		v.Jobs = append(v.Jobs, row)
	}
	base := url.Values{}
	if v.State != "" {
		base.Set("state", v.State)
	}
	if f.Before > 0 {
		v.NewestURL = "/admin/jobs" + query(base)
	}
	if more && len(failed) > 0 {
		older := url.Values{"before": {strconv.FormatInt(failed[len(failed)-1].ID, 10)}}
		if v.State != "" {
			older.Set("state", v.State)
		}
		v.OlderURL = "/admin/jobs?" + older.Encode()
	}
	v.Paged = f.Before > 0
	s.render(w, r, http.StatusOK, page.AdminJobs(s.adminPage(w, r, i18n.T(ctx, "admin.jobs.title"), "admin-jobs"), v))
}

// query is "?" and the encoded values, or "" when there are none.
func query(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// attempts words a job's attempts: "3 of 5".
func attempts(ctx context.Context, j *app.Job) string {
	return i18n.T(ctx, "admin.jobs.attempts", "Attempt", i18n.Number(ctx, int64(j.Attempt)), "Max", i18n.Number(ctx, int64(j.MaxAttempts)))
}

// waited words how long a job has been due: "40 seconds", "12 minutes",
// "3 hours", "2 days".
func waited(ctx context.Context, d time.Duration) string {
	switch {
	case d < time.Minute:
		return i18n.N(ctx, "admin.jobs.waited.seconds", int(max(d/time.Second, 0)))
	case d < time.Hour:
		return i18n.N(ctx, "admin.jobs.waited.minutes", int(d/time.Minute))
	case d < 48*time.Hour:
		return i18n.N(ctx, "admin.jobs.waited.hours", int(d/time.Hour))
	}
	return i18n.N(ctx, "admin.jobs.waited.days", int(d/(24*time.Hour)))
}

// handleAdminJob handles "GET /admin/jobs/{jobID}": one job, its errors,
// its arguments when its kind's hold nothing personal, and its actions.
func (s *Server) handleAdminJob(w http.ResponseWriter, r *http.Request) {
	j, ok := s.adminFindJob(w, r)
	if !ok {
		return
	}
	ctx, tz := r.Context(), staffTZ(r)
	when := func(t time.Time, none string) string {
		if t.IsZero() {
			return none
		}
		return s.formatTime(ctx, t, tz)
	}
	notYet := i18n.T(ctx, "admin.jobs.not_yet")
	v := page.AdminJobView{Heading: jobName(ctx, j.ID), Args: indentJSON(j.Args), Facts: []page.AdminFact{
		{Label: i18n.T(ctx, "admin.jobs.kind"), Value: j.Kind, TestID: "admin-job-kind", Data: true},
		{Label: i18n.T(ctx, "admin.jobs.queue"), Value: j.Queue, Data: true},
		{Label: i18n.T(ctx, "admin.jobs.state"), Value: jobStateLabel(ctx, j.State), TestID: "admin-job-state"},
		{Label: i18n.T(ctx, "admin.jobs.attempts_label"), Value: attempts(ctx, j), TestID: "admin-job-attempts"},
		{Label: i18n.T(ctx, "admin.created"), Value: when(j.CreatedAt, "—")},
		{Label: scheduledLabel(ctx, j.State), Value: when(j.ScheduledAt, "—")},
		{Label: i18n.T(ctx, "admin.jobs.attempted_at"), Value: when(j.AttemptedAt, notYet)},
		{Label: i18n.T(ctx, "admin.jobs.finished_at"), Value: when(j.FinalizedAt, notYet)},
	}}
	for i := len(j.Errors) - 1; i >= 0; i-- {
		e := j.Errors[i]
		v.Errors = append(v.Errors, page.AdminJobErrorRow{Heading: i18n.T(ctx, "admin.jobs.attempt", "Attempt", i18n.Number(ctx, int64(e.Attempt))),
			When: s.formatTime(ctx, e.At, tz), Message: e.Message})
	}
	base := adminJobURL(j.ID)
	if j.State.CanRetry() {
		v.Actions = append(v.Actions, page.AdminAction{Label: i18n.T(ctx, "admin.jobs.retry.button"), URL: base + "/retry", TestID: "admin-job-retry"})
	}
	if j.State.CanCancel() {
		v.Actions = append(v.Actions, page.AdminAction{Label: i18n.T(ctx, "admin.jobs.cancel.button"), URL: base + "/cancel", TestID: "admin-job-cancel", Danger: true})
	}
	s.render(w, r, http.StatusOK, page.AdminJob(s.adminPage(w, r, v.Heading, "admin-jobs"), v))
}

// indentJSON lays out a job's arguments one field a line; as they are
// when they are not JSON.
func indentJSON(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		return s
	}
	return b.String()
}

// adminFindJob reads the job of the path, or answers 404: the page of an
// unknown address for an id that is not one, the missing job's sentence
// for an unknown job.
func (s *Server) adminFindJob(w http.ResponseWriter, r *http.Request) (*app.Job, bool) {
	id := pathID(r, "jobID")
	if id == 0 {
		s.handleNotFound(w, r)
		return nil, false
	}
	j, err := s.Jobs.FindJob(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return nil, false
	}
	return j, true
}

// scheduledLabel names a job's scheduled time by what it means in its
// state.
func scheduledLabel(ctx context.Context, st app.JobState) string {
	switch st {
	case app.JobRetryable:
		return i18n.T(ctx, "admin.jobs.scheduled.retry")
	case app.JobScheduled:
		return i18n.T(ctx, "admin.jobs.scheduled.runs_at")
	case app.JobAvailable, app.JobPending:
		return i18n.T(ctx, "admin.jobs.scheduled.due")
	}
	return i18n.T(ctx, "admin.jobs.scheduled.last")
}

// adminJobAction is Retry or Cancel of a job: when it applies, what it
// does, and the flash it leaves.
type adminJobAction struct {
	adminAction
	applies func(app.JobState) bool
	// refused is the key of why it does not apply to a job in its state.
	refused string
	do      func(s *Server, r *http.Request, id int64, reason string) (*app.Job, error)
	done    func(ctx context.Context, j *app.Job) string
}

// adminJobActions are the job page's actions, by path.
var adminJobActions = map[string]adminJobAction{
	"retry": {
		adminAction: adminAction{title: "admin.jobs.retry.title", button: "admin.jobs.retry.button",
			consequence: "admin.jobs.retry.consequence"},
		applies: app.JobState.CanRetry,
		refused: "admin.jobs.retry.refused",
		do: func(s *Server, r *http.Request, id int64, reason string) (*app.Job, error) {
			return s.Jobs.RetryJob(r.Context(), id, reason)
		},
		done: func(ctx context.Context, j *app.Job) string {
			return i18n.T(ctx, "admin.jobs.retry.done", "Job", jobName(ctx, j.ID), "Kind", j.Kind)
		},
	},
	"cancel": {
		adminAction: adminAction{title: "admin.jobs.cancel.title", button: "admin.jobs.cancel.button", danger: true,
			consequence: "admin.jobs.cancel.consequence"},
		applies: app.JobState.CanCancel,
		refused: "admin.jobs.cancel.refused",
		do: func(s *Server, r *http.Request, id int64, reason string) (*app.Job, error) {
			return s.Jobs.CancelJob(r.Context(), id, reason)
		},
		done: func(ctx context.Context, j *app.Job) string {
			if j.State == app.JobRunning {
				return i18n.T(ctx, "admin.jobs.cancel.done_running", "Job", jobName(ctx, j.ID), "Kind", j.Kind)
			}
			return i18n.T(ctx, "admin.jobs.cancel.done", "Job", jobName(ctx, j.ID), "Kind", j.Kind)
		},
	},
}

// adminJobSubject finds the job of an action and checks the action
// applies: a missing job answers 404, one in another state goes back to
// its page with the reason in a flash.
func (s *Server) adminJobSubject(w http.ResponseWriter, r *http.Request, a adminJobAction) (*app.Job, string, bool) {
	j, ok := s.adminFindJob(w, r)
	if !ok {
		return nil, "", false
	}
	ctx := r.Context()
	if !a.applies(j.State) {
		s.setFlash(w, "error", i18n.T(ctx, a.refused, "Job", jobName(ctx, j.ID), "State", jobStateInSentence(ctx, j.State)))
		redirect(w, r, adminJobURL(j.ID))
		return nil, "", false
	}
	subject := i18n.T(ctx, "admin.jobs.subject", "Job", jobName(ctx, j.ID), "Kind", j.Kind, "Queue", j.Queue, "Attempts", attempts(ctx, j))
	return j, subject, true
}

// adminJobConfirm returns the handler of "GET /admin/jobs/{jobID}/<name>".
func (s *Server) adminJobConfirm(name string) http.HandlerFunc {
	a := adminJobActionOf(name)
	return func(w http.ResponseWriter, r *http.Request) {
		j, subject, ok := s.adminJobSubject(w, r, a)
		if !ok {
			return
		}
		s.renderAdminConfirm(w, r, http.StatusOK, a.adminAction, subject, adminJobURL(j.ID), r.URL.Path, "", "")
	}
}

// adminJobDo returns the handler of "POST /admin/jobs/{jobID}/<name>":
// without the confirmation's field it shows the confirmation; a missing
// reason shows it again with the error beside the field (422).
func (s *Server) adminJobDo(name string) http.HandlerFunc {
	a := adminJobActionOf(name)
	return func(w http.ResponseWriter, r *http.Request) {
		j, subject, ok := s.adminJobSubject(w, r, a)
		if !ok {
			return
		}
		back, reason := adminJobURL(j.ID), r.PostFormValue("reason")
		if r.PostFormValue("confirm") != "yes" {
			s.renderAdminConfirm(w, r, http.StatusOK, a.adminAction, subject, back, r.URL.Path, reason, "")
			return
		}
		done, err := a.do(s, r, j.ID, reason)
		switch {
		case app.ErrorCode(err) == app.EINVALID:
			s.renderAdminConfirm(w, r, http.StatusUnprocessableEntity, a.adminAction, subject, back, r.URL.Path, reason, i18n.ErrorText(r.Context(), err))
			return
		case app.ErrorCode(err) == app.ECONFLICT:
			s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
		case err != nil:
			s.Error(w, r, err)
			return
		default:
			s.setFlash(w, "success", a.done(r.Context(), done))
		}
		redirect(w, r, back)
	}
}

func adminJobActionOf(name string) adminJobAction {
	a, ok := adminJobActions[name]
	if !ok {
		panic("server: no job action " + name)
	}
	return a
}
