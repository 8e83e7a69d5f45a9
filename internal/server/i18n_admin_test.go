package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"atrium/internal/store"
)

// TestI18n_Admin fetches every page of the operator console in the
// pseudo-locale as a staff member — the user and workspace lists and
// pages, the job queue and a job, a confirmation with its missing reason,
// the flashes after an action, and the view-as banner with its flashes
// and refusals — and finds no English left outside the fixture's data.
func TestI18n_Admin(t *testing.T) {
	f := newViewAsFixture(t, "sqlite")
	staff := f.staff.pseudo()
	allow := []string{"Bob Builders", "ticket"}
	admin := func(res *response) {
		t.Helper()
		if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status=%d\n%s", res.Request.URL, res.StatusCode, res.Body)
		}
		assertTranslated(t, res, allow...)
	}
	user := "/admin/users/" + strconv.FormatInt(f.bobID, 10)
	ws := "/admin/workspaces/" + strconv.FormatInt(f.wsID, 10)

	admin(staff.Get("/admin/users"))
	admin(staff.Get("/admin/users?q=nobody"))
	admin(staff.Get("/admin/users?q=" + url.QueryEscape("bo\xff")))
	admin(staff.Get(user))
	admin(staff.Get("/admin/workspaces"))
	admin(staff.Get("/admin/workspaces?q=nothing"))
	admin(staff.Get(ws))

	given := insertJob(t, f.a, jobSpec{kind: "send_email", args: `{"outbox_id": 1}`, state: rivertype.JobStateDiscarded, attempt: 3,
		errors: []string{"550 mailbox unavailable"}})
	retrying := insertJob(t, f.a, jobSpec{kind: "export_report", args: `{}`, state: rivertype.JobStateRetryable, attempt: 1,
		scheduled: -2 * time.Minute, errors: []string{"connection refused"}})
	insertJob(t, f.a, jobSpec{kind: "send_email", args: `{"outbox_id": 2}`, state: rivertype.JobStateAvailable, scheduled: 5 * time.Minute})
	admin(staff.Get("/admin/jobs"))
	admin(staff.Get("/admin/jobs?state=retryable"))
	admin(staff.Get("/admin/jobs?before=" + strconv.FormatInt(retrying, 10)))
	admin(staff.Get(jobPath(given, "")))
	admin(staff.Get(jobPath(retrying, "")))
	admin(staff.Get(jobPath(given, "/retry")))
	res := staff.Post(jobPath(given, "/retry"), url.Values{"confirm": {"yes"}, "reason": {"ticket 7"}})
	admin(staff.Follow(res))
	// Retry again: refused with the job's state in the flash.
	admin(staff.Follow(staff.Get(jobPath(given, "/retry"))))

	// A confirmation, its missing reason, and the flash after it.
	suspend := ws + "/suspend"
	admin(staff.Get(suspend))
	missing := staff.Post(suspend, url.Values{"confirm": {"yes"}, "reason": {" "}})
	if missing.StatusCode != http.StatusUnprocessableEntity || !missing.Has("field-reason-error") {
		t.Fatalf("no reason: %d, want 422 with the error beside the field", missing.StatusCode)
	}
	admin(missing)
	res = staff.Post(suspend, url.Values{"confirm": {"yes"}, "reason": {"ticket 42"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d", res.StatusCode)
	}
	admin(staff.Follow(res))
	admin(staff.Get(user + "/end-sessions"))
	admin(staff.Follow(staff.Post(user+"/end-sessions", url.Values{"confirm": {"yes"}, "reason": {"ticket 43"}})))
	admin(staff.Get(user + "/view-as"))

	// View as: the banner on the user's pages and on the console, the
	// flashes, and the refusals.
	home := f.start(t)
	assertTranslated(t, home, allow...)
	assertTranslated(t, home, allow...)
	admin(staff.Get("/admin/users"))
	admin(staff.Get("/admin/view-as/write"))
	refused := staff.Post("/w/"+f.slug+"/invites", url.Values{"email": {"new@example.com"}, "role": {"member"}})
	if refused.StatusCode != http.StatusForbidden {
		t.Fatalf("a change in a read-only view: %d, want 403", refused.StatusCode)
	}
	assertTranslated(t, refused, allow...)
	assertTranslated(t, staff.Get("/settings/account"), allow...)
	res = staff.Post("/admin/view-as/write", url.Values{"confirm": {"yes"}, "reason": {"ticket 9"}})
	assertTranslated(t, staff.Follow(res), allow...)
	admin(staff.Follow(staff.Post("/admin/view-as/stop", nil)))
	admin(staff.Follow(staff.Post("/admin/view-as/stop", nil)))

	// Staff without a second factor get the page that says so.
	noFactor := f.a.newBrowser(t).pseudo()
	noFactor.signIn("new-staff@example.com")
	if _, err := store.NewAdminService(f.a.DB).GrantStaff(context.Background(), "new-staff@example.com"); err != nil {
		t.Fatal(err)
	}
	page := noFactor.Get("/admin/users")
	if page.StatusCode != http.StatusForbidden || !page.Has("admin-two-factor") {
		t.Fatalf("staff without two-factor: %d", page.StatusCode)
	}
	assertTranslated(t, page, allow...)

	// German, to be read.
	de := staff.german()
	list := de.Get("/admin/users")
	if got, want := strings.TrimSpace(list.Doc.Find("h1").Text()), "Nutzer"; got != want {
		t.Errorf("German users page: h1=%q, want %q", got, want)
	}
	if got, want := list.Text("admin-search-submit"), "Suchen"; got != want {
		t.Errorf("German search button=%q, want %q", got, want)
	}
	if got, want := list.Text("admin-nav-app"), "Zurück zur App"; got != want {
		t.Errorf("German navigation=%q, want %q", got, want)
	}
	if got, want := de.Get(user).Text("admin-suspend"), "Sperren"; got != want {
		t.Errorf("German suspend action=%q, want %q", got, want)
	}
}

// TestI18n_Account fetches the account page in the pseudo-locale with two
// devices signed in, its delete confirmation's error, the sentence that
// blocks deleting while the user owns a workspace, and the flashes after
// signing devices out, and finds no English left outside the user's data.
func TestI18n_Account(t *testing.T) {
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t).pseudo()
	b.signIn("ada@example.com")
	other := a.newBrowser(t)
	other.Headers.Set("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Gecko/20100101 Firefox/128.0")
	other.signIn("ada@example.com")
	third := a.newBrowser(t)
	third.signIn("ada@example.com")
	account := func(res *response) {
		t.Helper()
		assertTranslated(t, res)
	}

	page := b.Get("/settings/account")
	if got := page.Doc.Find(`[data-testid="session-row"]`).Length(); got != 3 {
		t.Fatalf("%d devices listed, want 3", got)
	}
	account(page)

	res := b.Submit(page, "delete-account-form", url.Values{"confirm": {"DELETE"}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.Text("field-confirm-error") == "" {
		t.Fatalf("delete with the wrong confirmation: %d, want 422 with the error beside the field", res.StatusCode)
	}
	account(res)

	// One device signed out, then every other one.
	res = b.Submit(page, "revoke-session-form", url.Values{"confirm": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign a device out: %d", res.StatusCode)
	}
	res = b.Follow(res)
	if !res.Has("flash") {
		t.Fatal("no flash after signing a device out")
	}
	account(res)
	account(b.Follow(b.Post("/settings/account/sessions/revoke-others", url.Values{"confirm": {"yes"}})))
	account(b.Follow(b.Post("/settings/account/sessions/revoke-others", url.Values{"confirm": {"yes"}})))

	// The last owner of workspaces cannot delete the account yet.
	createWorkspace(t, b, "Analytical Engines")
	slug := createWorkspace(t, b, "Difference Engines")
	b.Get("/w/" + slug) // shows the workspace's own flash
	blocked := b.Get("/settings/account")
	if !blocked.Has("delete-account-blocked") {
		t.Fatal("the last owner is offered to delete the account")
	}
	account(blocked)

	// German, to be read.
	de := b.german().Get("/settings/account")
	for sel, want := range map[string]string{"h1": "Konto", "#devices-heading": "Geräte", "#delete-account-heading": "Konto löschen"} {
		if got := strings.TrimSpace(de.Doc.Find(sel).First().Text()); got != want {
			t.Errorf("German account page: %s=%q, want %q", sel, got, want)
		}
	}
	if got, want := de.Text("delete-account-blocked"), "Sie sind der letzte Inhaber von Analytical Engines und Difference Engines."; !strings.HasPrefix(got, want) {
		t.Errorf("German blocked sentence=%q, want it to start %q", got, want)
	}
}
