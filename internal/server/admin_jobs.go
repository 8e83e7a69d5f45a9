package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"atrium/internal/app"
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
var adminJobStates = []component.Option{
	{Value: "", Label: "All failed jobs"},
	{Value: string(app.JobRetryable), Label: "Waiting for a retry"},
	{Value: string(app.JobDiscarded), Label: "Given up"},
}

func adminJobURL(id int64) string { return "/admin/jobs/" + strconv.FormatInt(id, 10) }

// handleAdminJobs handles "GET /admin/jobs?state=&before=": the queues'
// counts and the failed jobs, newest first, a page at a time.
func (s *Server) handleAdminJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := page.AdminJobsView{State: q.Get("state"), States: adminJobStates}
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
	for _, qu := range queues {
		row := page.AdminJobQueueRow{Queue: qu.Queue, Due: strconv.Itoa(qu.Due), Scheduled: strconv.Itoa(qu.Scheduled),
			Running: strconv.Itoa(qu.Running), GivenUp: strconv.Itoa(qu.GivenUp), Oldest: "—"}
		if !qu.OldestDue.IsZero() {
			row.Oldest = waited(now.Sub(qu.OldestDue))
			row.OldestTitle = "Due since " + s.formatTime(r.Context(), qu.OldestDue, tz)
		}
		v.Queues = append(v.Queues, row)
	}
	for _, j := range failed {
		row := page.AdminJobRow{URL: adminJobURL(j.ID), Name: fmt.Sprintf("Job %d", j.ID), Kind: j.Kind, Queue: j.Queue,
			State: yesNo(j.State == app.JobDiscarded, "Given up", "Waiting for a retry"), GivenUp: j.State == app.JobDiscarded, Attempts: attempts(j)}
		if e := j.LastError(); e != nil {
			row.Failed, row.FailedTitle = relativeTime(now, e.At), s.formatTime(r.Context(), e.At, tz)
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
	s.render(w, r, http.StatusOK, page.AdminJobs(s.adminPage(w, r, "Jobs", "admin-jobs"), v))
}

// query is "?" and the encoded values, or "" when there are none.
func query(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// attempts words a job's attempts: "3 of 5".
func attempts(j *app.Job) string { return fmt.Sprintf("%d of %d", j.Attempt, j.MaxAttempts) }

// waited words how long a job has been due: "40 seconds", "12 minutes",
// "3 hours", "2 days".
func waited(d time.Duration) string {
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return strconv.FormatInt(n, 10) + " " + name + "s"
	}
	switch {
	case d < time.Minute:
		return unit(max(int64(d/time.Second), 0), "second")
	case d < time.Hour:
		return unit(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return unit(int64(d/time.Hour), "hour")
	}
	return unit(int64(d/(24*time.Hour)), "day")
}

// handleAdminJob handles "GET /admin/jobs/{jobID}": one job, its errors,
// its arguments when its kind's hold nothing personal, and its actions.
func (s *Server) handleAdminJob(w http.ResponseWriter, r *http.Request) {
	j, ok := s.adminFindJob(w, r)
	if !ok {
		return
	}
	tz := staffTZ(r)
	when := func(t time.Time, none string) string {
		if t.IsZero() {
			return none
		}
		return s.formatTime(r.Context(), t, tz)
	}
	v := page.AdminJobView{Heading: fmt.Sprintf("Job %d", j.ID), Args: indentJSON(j.Args), Facts: []page.AdminFact{
		{Label: "Kind", Value: j.Kind, TestID: "admin-job-kind"},
		{Label: "Queue", Value: j.Queue},
		{Label: "State", Value: j.State.Label(), TestID: "admin-job-state"},
		{Label: "Attempts", Value: attempts(j), TestID: "admin-job-attempts"},
		{Label: "Created", Value: when(j.CreatedAt, "—")},
		{Label: scheduledLabel(j.State), Value: when(j.ScheduledAt, "—")},
		{Label: "Last attempt started", Value: when(j.AttemptedAt, "Not yet")},
		{Label: "Finished", Value: when(j.FinalizedAt, "Not yet")},
	}}
	for i := len(j.Errors) - 1; i >= 0; i-- {
		e := j.Errors[i]
		v.Errors = append(v.Errors, page.AdminJobErrorRow{Heading: fmt.Sprintf("Attempt %d", e.Attempt), When: s.formatTime(r.Context(), e.At, tz), Message: e.Message})
	}
	base := adminJobURL(j.ID)
	if j.State.CanRetry() {
		v.Actions = append(v.Actions, page.AdminAction{Label: "Run it again now", URL: base + "/retry", TestID: "admin-job-retry"})
	}
	if j.State.CanCancel() {
		v.Actions = append(v.Actions, page.AdminAction{Label: "Cancel the job", URL: base + "/cancel", TestID: "admin-job-cancel", Danger: true})
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
func scheduledLabel(st app.JobState) string {
	switch st {
	case app.JobRetryable:
		return "Next retry"
	case app.JobScheduled:
		return "Runs at"
	case app.JobAvailable, app.JobPending:
		return "Due since"
	}
	return "Last scheduled for"
}

// adminJobAction is Retry or Cancel of a job: when it applies, what it
// does, and the flash it leaves.
type adminJobAction struct {
	adminAction
	applies func(app.JobState) bool
	// refused says why it does not apply to a job in its state.
	refused string
	do      func(s *Server, r *http.Request, id int64, reason string) (*app.Job, error)
	done    func(j *app.Job) string
}

// adminJobActions are the job page's actions, by path.
var adminJobActions = map[string]adminJobAction{
	"retry": {
		adminAction: adminAction{title: "Run this job again", button: "Run it again now",
			consequence: func(job string) string {
				return job + " is queued to run now. Its work is done again from the start (every job kind is written to be " +
					"safe to repeat); if it fails again, it is retried with backoff until its attempts run out."
			}},
		applies: app.JobState.CanRetry,
		refused: "Only a job that failed (waiting for its retry or given up) or was cancelled can be run again.",
		do: func(s *Server, r *http.Request, id int64, reason string) (*app.Job, error) {
			return s.Jobs.RetryJob(r.Context(), id, reason)
		},
		done: func(j *app.Job) string { return fmt.Sprintf("Job %d (%s) is queued to run now.", j.ID, j.Kind) },
	},
	"cancel": {
		adminAction: adminAction{title: "Cancel this job", button: "Cancel the job", danger: true,
			consequence: func(job string) string {
				return job + " will not run again, and the work it has not done yet (an email, a webhook delivery) is not done. " +
					"If it is running now, it stops when its worker next checks. You can run it again later from this page."
			}},
		applies: app.JobState.CanCancel,
		refused: "Only a job that has not finished can be cancelled.",
		do: func(s *Server, r *http.Request, id int64, reason string) (*app.Job, error) {
			return s.Jobs.CancelJob(r.Context(), id, reason)
		},
		done: func(j *app.Job) string {
			if j.State == app.JobRunning {
				return fmt.Sprintf("Job %d (%s) is running: it is cancelled when its worker next checks.", j.ID, j.Kind)
			}
			return fmt.Sprintf("Job %d (%s) is cancelled: it will not run again.", j.ID, j.Kind)
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
	if !a.applies(j.State) {
		s.setFlash(w, "error", fmt.Sprintf("Job %d is %s. %s", j.ID, strings.ToLower(j.State.Label()), a.refused))
		redirect(w, r, adminJobURL(j.ID))
		return nil, "", false
	}
	subject := fmt.Sprintf("Job %d (%s on the %s queue, %s attempts made)", j.ID, j.Kind, j.Queue, attempts(j))
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
			s.renderAdminConfirm(w, r, http.StatusUnprocessableEntity, a.adminAction, subject, back, r.URL.Path, reason, app.ErrorMessage(err))
			return
		case app.ErrorCode(err) == app.ECONFLICT:
			s.setFlash(w, "error", app.ErrorMessage(err))
		case err != nil:
			s.Error(w, r, err)
			return
		default:
			s.setFlash(w, "success", a.done(done))
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
