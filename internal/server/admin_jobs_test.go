package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"atrium/internal/app"
	"atrium/internal/store/storetest"
)

// heldQueue is a queue no instance works, so the jobs the tests put there
// stay in the state they are given.
const heldQueue = "held"

// jobSpec is a job to insert in a given state.
type jobSpec struct {
	kind, args string
	state      rivertype.JobState
	attempt    int
	errors     []string
	// scheduled is how long before now the job was due (negative: after).
	scheduled time.Duration
}

// insertJob writes a job in any state, with its recorded errors, through
// River's own driver (JobInsertFull, the insert River's test factories
// use), on the held queue.
func insertJob(t *testing.T, a *testApp, s jobSpec) int64 {
	t.Helper()
	now := time.Now().UTC()
	sched := now.Add(-s.scheduled)
	p := &riverdriver.JobInsertFullParams{Kind: s.kind, EncodedArgs: []byte(s.args), Queue: heldQueue, State: s.state,
		Attempt: s.attempt, MaxAttempts: 3, Priority: 1, ScheduledAt: &sched, CreatedAt: &sched, Metadata: []byte("{}")}
	if s.attempt > 0 {
		at := sched.Add(time.Second)
		p.AttemptedAt, p.AttemptedBy = &at, []string{"test"}
	}
	if s.state == rivertype.JobStateDiscarded || s.state == rivertype.JobStateCancelled || s.state == rivertype.JobStateCompleted {
		fin := sched.Add(2 * time.Second)
		p.FinalizedAt = &fin
	}
	for i, msg := range s.errors {
		b, err := json.Marshal(rivertype.AttemptError{At: sched.Add(time.Duration(i) * time.Second), Attempt: i + 1, Error: msg, Trace: "trace"})
		if err != nil {
			t.Fatal(err)
		}
		p.Errors = append(p.Errors, b)
	}
	j, err := a.DB.JobDriver().GetExecutor().JobInsertFull(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return j.ID
}

func jobState(t *testing.T, a *testApp, id int64) rivertype.JobState {
	t.Helper()
	j, err := a.DB.Jobs().JobGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j.State
}

func jobPath(id int64, rest string) string { return "/admin/jobs/" + strconv.FormatInt(id, 10) + rest }

// TestAdminJobs_Page: staff see each queue's counts as the jobs stand,
// the failed jobs newest first with their last error, a filter, pages,
// one job's errors and (for a kind that holds nothing personal) its
// arguments; a job that really failed on a worker is listed too.
func TestAdminJobs_Page(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000"))
			staff := newStaff(t, a, "ops@example.com")

			empty := staff.Get("/admin/jobs")
			if empty.StatusCode != http.StatusOK || !strings.Contains(empty.Text("empty-state"), "No failed jobs") {
				t.Fatalf("no failed jobs: %d, want the empty state\n%s", empty.StatusCode, empty.Body)
			}
			if !empty.Has("admin-nav-jobs") || empty.Doc.Find(`[data-testid="admin-nav-jobs"][aria-current="page"]`).Length() != 1 {
				t.Error("the console's navigation lacks Jobs as the current page")
			}

			insertJob(t, a, jobSpec{kind: "send_email", args: `{"outbox_id": 1}`, state: rivertype.JobStateAvailable, scheduled: 10 * time.Minute})
			insertJob(t, a, jobSpec{kind: "send_email", args: `{"outbox_id": 2}`, state: rivertype.JobStateAvailable, scheduled: time.Minute})
			insertJob(t, a, jobSpec{kind: "send_email", args: `{"outbox_id": 3}`, state: rivertype.JobStateScheduled, scheduled: -time.Hour})
			insertJob(t, a, jobSpec{kind: "send_email", args: `{"outbox_id": 4}`, state: rivertype.JobStateRunning, attempt: 1})
			retrying := insertJob(t, a, jobSpec{kind: "send_email", args: `{"outbox_id": 5}`, state: rivertype.JobStateRetryable, attempt: 1,
				scheduled: -time.Minute, errors: []string{"dial tcp 192.0.2.1:587: connection refused"}})
			long := strings.Repeat("a very long SMTP answer ", 20) + "THE END"
			given := insertJob(t, a, jobSpec{kind: "export_report", args: `{"email": "secret-person@example.com"}`, state: rivertype.JobStateDiscarded,
				attempt: 3, errors: []string{"first failure", "second failure", long}})

			// One that really fails: a kind no worker knows, on a queue the
			// instances work, given up after its single attempt.
			real, err := a.DB.Jobs().Insert(context.Background(), unknownKind{}, &river.InsertOpts{MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "the unknown kind's job to be given up", func() bool { return jobState(t, a, real.Job.ID) == rivertype.JobStateDiscarded })

			res := staff.Get("/admin/jobs")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("jobs page: %d", res.StatusCode)
			}
			held := res.Doc.Find(`[data-testid="admin-job-queue"][data-queue="held"]`)
			for testID, want := range map[string]string{"queue-due": "2", "queue-scheduled": "2", "queue-running": "1", "queue-given-up": "1", "queue-oldest": "10 minutes"} {
				if got := strings.TrimSpace(held.Find(`[data-testid="` + testID + `"]`).Text()); got != want {
					t.Errorf("held queue %s=%q, want %q", testID, got, want)
				}
			}
			def := res.Doc.Find(`[data-testid="admin-job-queue"][data-queue="default"]`)
			if got := strings.TrimSpace(def.Find(`[data-testid="queue-given-up"]`).Text()); got != "1" {
				t.Errorf("default queue given up=%q, want 1 (the unknown kind)", got)
			}
			if res.Doc.Find(`[data-testid="admin-job-queue"][data-queue="mail"]`).Length() != 1 {
				t.Error("the mail queue is not listed while it holds no job")
			}
			rows := res.Doc.Find(`[data-testid="admin-job-row"]`)
			if rows.Length() != 3 {
				t.Fatalf("%d failed jobs listed, want 3\n%s", rows.Length(), res.Body)
			}
			// Newest first: the real failure, the given-up export, the retrying email.
			first := rows.Eq(1)
			if got := strings.TrimSpace(first.Find(`[data-testid="admin-job-link"]`).Text()); got != "Job "+strconv.FormatInt(given, 10) {
				t.Errorf("second row is %q, want the given-up job", got)
			}
			if got := strings.TrimSpace(first.Find(`[data-testid="admin-job-row-attempts"]`).Text()); got != "3 of 3" {
				t.Errorf("attempts=%q", got)
			}
			preview := strings.TrimSpace(first.Find(`[data-testid="admin-job-row-error"]`).Text())
			if !strings.HasPrefix(preview, "a very long SMTP answer") || !strings.HasSuffix(preview, "…") || strings.Contains(preview, "THE END") {
				t.Errorf("the list's error is not the last one cut short: %q", preview)
			}
			if !strings.Contains(rows.Eq(0).Text(), "not registered") {
				t.Errorf("the real failure's row lacks River's error: %q", rows.Eq(0).Text())
			}

			only := staff.Get("/admin/jobs?state=retryable")
			if r := only.Doc.Find(`[data-testid="admin-job-row"]`); r.Length() != 1 || !strings.Contains(r.Text(), "connection refused") {
				t.Errorf("state=retryable lists %d rows, want the retrying email", r.Length())
			}
			if bad := staff.Get("/admin/jobs?state=completed"); bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.Text("error-message"), "not a state") {
				t.Errorf("unknown filter: %d %q, want 400 with a sentence", bad.StatusCode, bad.Text("error-message"))
			}
			if bad := staff.Get("/admin/jobs?before=x"); bad.StatusCode != http.StatusBadRequest {
				t.Errorf("bad page: %d, want 400", bad.StatusCode)
			}
			// Paging: older than the given-up job is the retrying one only.
			older := staff.Get("/admin/jobs?before=" + strconv.FormatInt(given, 10))
			if r := older.Doc.Find(`[data-testid="admin-job-row"]`); r.Length() != 1 || !older.Has("admin-jobs-newest") {
				t.Errorf("older page: %d rows, newest link %v", r.Length(), older.Has("admin-jobs-newest"))
			}
			if none := staff.Get("/admin/jobs?before=" + strconv.FormatInt(retrying, 10)); !strings.Contains(none.Text("empty-state"), "No older failed jobs") {
				t.Errorf("past the oldest: %q", none.Text("empty-state"))
			}

			page := staff.Get(jobPath(given, ""))
			if page.StatusCode != http.StatusOK || page.Text("admin-job-kind") != "export_report" ||
				page.Text("admin-job-state") != app.JobDiscarded.Label() || page.Text("admin-job-attempts") != "3 of 3" {
				t.Fatalf("job page: %d kind %q state %q attempts %q", page.StatusCode, page.Text("admin-job-kind"), page.Text("admin-job-state"), page.Text("admin-job-attempts"))
			}
			if n := page.Doc.Find(`[data-testid="admin-job-error"]`).Length(); n != 3 || !strings.Contains(page.Text("admin-job-errors"), "THE END") {
				t.Errorf("job page shows %d errors, want all 3 in full", n)
			}
			if strings.Contains(page.Body, "secret-person") || !page.Has("admin-job-args-hidden") {
				t.Error("an unlisted kind's arguments are shown")
			}
			if !page.Has("admin-job-retry") || page.Has("admin-job-cancel") {
				t.Error("a given-up job should offer Retry and not Cancel")
			}
			email := staff.Get(jobPath(retrying, ""))
			if !strings.Contains(email.Text("admin-job-args"), `"outbox_id": 5`) && !strings.Contains(email.Text("admin-job-args"), `"outbox_id":5`) {
				t.Errorf("send_email's arguments are not shown: %q", email.Text("admin-job-args"))
			}
			if !email.Has("admin-job-retry") || !email.Has("admin-job-cancel") {
				t.Error("a retrying job should offer Retry and Cancel")
			}

			for path, want := range map[string]int{"/admin/jobs/999999": 404, "/admin/jobs/abc": 404, "/admin/jobs/0": 404, "/admin/jobs/-1": 404,
				"/admin/jobs/99999999999999999999": 404, "/admin/jobs/999999/retry": 404, "/admin/jobs/999999/cancel": 404} {
				if res := staff.Get(path); res.StatusCode != want {
					t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
				}
			}
			if res := staff.Get("/admin/jobs/999999"); !strings.Contains(res.Text("error-message"), "There is no job 999999") {
				t.Errorf("missing job's page: %q", res.Text("error-message"))
			}
		})
	}
}

// unknownKind is a job no worker is registered for: River records the
// error and gives it up.
type unknownKind struct{}

func (unknownKind) Kind() string { return "console_test_unknown" }

// waitUntil polls cond for up to ten seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAdminJobs_RetryAndCancel: Retry and Cancel confirm, need a reason
// (422 with the error beside the field), refuse a cross-site form, act
// through River, answer 303 with a flash and write their entry with the
// reason to the system log; they refuse a job in the wrong state and a
// job that does not exist.
func TestAdminJobs_RetryAndCancel(t *testing.T) {
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			a := newTestApp(t, dialect, withEnv("RATE_LIMIT_MAX", "100000"))
			staff := newStaff(t, a, "ops@example.com")
			staffID := userIDOf(t, a, "ops@example.com")
			given := insertJob(t, a, jobSpec{kind: "send_email", args: `{"outbox_id": 9}`, state: rivertype.JobStateDiscarded, attempt: 3,
				errors: []string{"550 mailbox unavailable"}})
			waiting := insertJob(t, a, jobSpec{kind: "send_email", args: `{"outbox_id": 10}`, state: rivertype.JobStateAvailable})

			retry := jobPath(given, "/retry")
			confirm := staff.Get(retry)
			if confirm.StatusCode != http.StatusOK || !strings.Contains(confirm.Text("admin-consequence"), "queued to run now") ||
				!strings.Contains(confirm.Text("admin-consequence"), "send_email") {
				t.Fatalf("retry confirmation: %d %q", confirm.StatusCode, confirm.Text("admin-consequence"))
			}
			if res := staff.Post(retry, url.Values{"reason": {"ticket 77"}}); res.StatusCode != http.StatusOK || !res.Has("admin-confirm") {
				t.Errorf("unconfirmed POST: %d, want the confirmation", res.StatusCode)
			}
			missing := staff.Submit(confirm, "admin-confirm-submit", url.Values{"reason": {"  "}})
			if missing.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(missing.Text("field-reason-error"), "Give the reason") {
				t.Errorf("no reason: %d %q, want 422 with the error beside the field\n%s", missing.StatusCode, missing.Text("field-reason-error"), missing.Body)
			}
			cross := a.newBrowser(t)
			cross.client.Jar = staff.client.Jar
			cross.Origin = "https://evil.example"
			if res := cross.Post(retry, url.Values{"confirm": {"yes"}, "reason": {"csrf"}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("cross-site retry: %d, want 403", res.StatusCode)
			}
			if got := jobState(t, a, given); got != rivertype.JobStateDiscarded {
				t.Fatalf("refused requests changed the job to %s", got)
			}

			res := staff.Submit(confirm, "admin-confirm-submit", url.Values{"reason": {"ticket 77: mailbox fixed"}})
			if res.StatusCode != http.StatusSeeOther || res.Location() != jobPath(given, "") {
				t.Fatalf("retry: %d → %q", res.StatusCode, res.Location())
			}
			if got := jobState(t, a, given); got != rivertype.JobStateAvailable {
				t.Errorf("retried job is %s, want available", got)
			}
			after := staff.Get(res.Location())
			if !strings.Contains(after.Text("flash"), "queued to run now") || after.Text("admin-job-state") != app.JobAvailable.Label() {
				t.Errorf("after the retry: flash %q, state %q", after.Text("flash"), after.Text("admin-job-state"))
			}
			assertJobAudit(t, a, app.ActionJobRetried, given, staffID, "ticket 77: mailbox fixed")

			// Retry again: the job waits to run, so the confirmation is
			// refused with the reason, and nothing is written.
			again := staff.Get(retry)
			if again.StatusCode != http.StatusSeeOther {
				t.Errorf("retry of a waiting job: %d, want 303 back", again.StatusCode)
			}
			if page := staff.Get(again.Location()); !strings.Contains(page.Text("flash"), "Only a job that failed") {
				t.Errorf("refused retry's flash: %q", page.Text("flash"))
			}

			cancel := jobPath(waiting, "/cancel")
			cc := staff.Get(cancel)
			if !strings.Contains(cc.Text("admin-consequence"), "will not run again") {
				t.Fatalf("cancel confirmation: %q", cc.Text("admin-consequence"))
			}
			res = staff.Submit(cc, "admin-confirm-submit", url.Values{"reason": {"duplicate send"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("cancel: %d", res.StatusCode)
			}
			if got := jobState(t, a, waiting); got != rivertype.JobStateCancelled {
				t.Errorf("cancelled job is %s", got)
			}
			if page := staff.Get(res.Location()); !strings.Contains(page.Text("flash"), "is cancelled") || page.Has("admin-job-cancel") || !page.Has("admin-job-retry") {
				t.Errorf("after the cancel: flash %q", page.Text("flash"))
			}
			assertJobAudit(t, a, app.ActionJobCancelled, waiting, staffID, "duplicate send")
			// A finished job cannot be cancelled, even by a forged POST.
			if res := staff.Post(cancel, url.Values{"confirm": {"yes"}, "reason": {"again"}}); res.StatusCode != http.StatusSeeOther {
				t.Errorf("cancel of a cancelled job: %d, want 303 back with a flash", res.StatusCode)
			}
			if n := storetest.Count(t, a.DB, "SELECT COUNT(*) FROM audit_logs WHERE action = ? AND target_id = ?", app.ActionJobCancelled,
				strconv.FormatInt(waiting, 10)); n != 1 {
				t.Errorf("%d cancel entries for the job, want 1", n)
			}
			// A running job is asked to stop: it stays running until its
			// worker next checks, and the flash says so.
			running := insertJob(t, a, jobSpec{kind: "send_email", args: `{"outbox_id": 11}`, state: rivertype.JobStateRunning, attempt: 1})
			res = staff.Post(jobPath(running, "/cancel"), url.Values{"confirm": {"yes"}, "reason": {"stuck"}})
			if page := staff.Get(res.Location()); res.StatusCode != http.StatusSeeOther || !strings.Contains(page.Text("flash"), "cancelled when its worker next checks") {
				t.Errorf("cancel of a running job: %d, flash %q", res.StatusCode, page.Text("flash"))
			}
			if res := staff.Post("/admin/jobs/999999/retry", url.Values{"confirm": {"yes"}, "reason": {"x"}}); res.StatusCode != http.StatusNotFound {
				t.Errorf("retry of a missing job: %d, want 404", res.StatusCode)
			}
			if res := staff.Post("/admin/jobs/abc/cancel", url.Values{"confirm": {"yes"}, "reason": {"x"}}); res.StatusCode != http.StatusNotFound {
				t.Errorf("cancel of an invalid id: %d, want 404", res.StatusCode)
			}
		})
	}
}

// assertJobAudit checks the one entry of action on job id: in the system
// log, by the staff member, with the reason.
func assertJobAudit(t *testing.T, a *testApp, action string, id, staffID int64, reason string) {
	t.Helper()
	var meta string
	err := a.DB.SQL().QueryRowContext(context.Background(), a.DB.Rebind(
		"SELECT metadata FROM audit_logs WHERE workspace_id IS NULL AND action = ? AND target_type = 'job' AND target_id = ? AND actor_user_id = ?"),
		action, strconv.FormatInt(id, 10), staffID).Scan(&meta)
	if err != nil {
		t.Fatalf("no %s entry for job %d by the staff member in the system log: %v", action, id, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(meta), &m); err != nil {
		t.Fatal(err)
	}
	if m["reason"] != reason || m["kind"] != "send_email" {
		t.Errorf("%s metadata %v, want the reason %q and the kind", action, m, reason)
	}
}
