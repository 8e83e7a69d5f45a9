package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"atrium/internal/config"
	"atrium/internal/store"
)

// TestBrowser_StaffConsole is the support journey in Chromium: a staff
// member granted with `atrium staff grant` sets up an authenticator app,
// signs in with it, finds a customer in the console, views as them (the
// banner names the staff member on every page), and stops, back to their
// own identity. axe-core checks every console page on a desktop and a
// phone, light and dark, and the app's pages with the banner.
func TestBrowser_StaffConsole(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	dbPath := filepath.Join(t.TempDir(), "atrium.db")
	dbURL := "sqlite:" + dbPath
	srv, smtp := startServeWithMail(t, config.Env{"DATABASE_URL": dbURL})
	tabs := newBrowserTabs(t, 8*time.Minute, "staff", "customer")
	staff, customer := tabs[0], tabs[1]
	// axe checks the page in each viewport's colour scheme, or in each of
	// schemes when given.
	axe := func(where string, schemes ...string) {
		t.Helper()
		for _, vp := range []struct {
			name, scheme string
			w, h         int64
			mobile       bool
		}{{"desktop", "light", 1280, 800, false}, {"phone", "dark", 390, 844, true}} {
			list := schemes
			if len(list) == 0 {
				list = []string{vp.scheme}
			}
			for _, scheme := range list {
				if err := chromedp.Do(staff.ctx, chromedp.EmulateViewport(vp.w, vp.h, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
					p.Mobile = vp.mobile
				})); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Call(staff.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
					t.Fatal(err)
				}
				// Reloaded, so no colour transition is caught half-way.
				staff.do("reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("body")))
				for _, v := range runAxe(t, staff) {
					t.Errorf("%s (%s, %s): %s: %s\n  %s", where, vp.name, scheme, v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
				}
				// Kept with go test -artifacts, to look at.
				saveScreenshot(staff.ctx, t, strings.ReplaceAll(where, " ", "-")+"-"+vp.name+"-"+scheme)
			}
		}
		if err := chromedp.Do(staff.ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
			t.Fatal(err)
		}
	}
	code := func(secret string) string {
		t.Helper()
		c, err := totp.GenerateCodeCustom(secret, time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	link := func(a browserActor, email string) string {
		a.do("ask for a link", askForSignInLink(srv.URL, email)...)
		return emailedLink(t, smtp, email, srv.URL+"/auth/verify?token=")
	}

	customer.do("customer signs in", signInWith(link(customer, "customer@example.com"), byTestID("workspace-new"))...)
	customer.do("customer creates Acme", createWorkspace("Acme")...)

	staff.do("staff signs in", signInWith(link(staff, "ops@example.com"), byTestID("workspace-new"))...)
	if res := runAtrium(t, config.Env{"DATABASE_URL": dbURL, "APP_URL": srv.URL}, "staff", "grant", "--email", "ops@example.com"); res.Code != 0 {
		t.Fatalf("staff grant: exit %d\n%s", res.Code, res.Output())
	}
	staff.do("the console waits for a second factor",
		chromedp.Navigate(srv.URL+"/admin"),
		chromedp.WaitVisible(byTestID("admin-two-factor")),
	)
	axe("two-factor needed")
	staff.do("set up an authenticator app",
		chromedp.Click(byTestID("admin-two-factor-setup")),
		chromedp.Click(byTestID("totp-setup")),
		chromedp.WaitVisible(byTestID("totp-qr")),
	)
	secret := strings.ReplaceAll(staff.text(byTestID("totp-secret")), " ", "")
	staff.do("confirm the app",
		chromedp.SendKeys(byTestID("totp-code"), code(secret)),
		chromedp.Click(byTestID("totp-confirm")),
		chromedp.WaitVisible(byTestID("recovery-continue")),
		chromedp.Click(byTestID("user-menu-button")),
		chromedp.Click(chromedp.CSS(`form[data-testid="logout"] [data-testid="logout-submit"]`)),
		chromedp.WaitVisible(byTestID("login")),
	)
	staff.do("sign in with the link", signInWith(link(staff, "ops@example.com"), byTestID("second-factor"))...)
	time.Sleep(time.Until(time.Unix((time.Now().Unix()/30+1)*30, 0)) + 100*time.Millisecond)
	staff.do("and the app's code",
		chromedp.SendKeys(byTestID("second-factor-code"), code(secret)),
		chromedp.Click(byTestID("second-factor-submit")),
		chromedp.WaitVisible(byTestID("user-menu-button")),
	)

	staff.do("open the console and find the customer",
		chromedp.Navigate(srv.URL+"/admin"),
		chromedp.WaitVisible(byTestID("admin-user-list")),
	)
	axe("user list")
	staff.do("search",
		chromedp.SendKeys(byTestID("admin-search-q"), "cust"),
		chromedp.Click(byTestID("admin-search-submit")),
		chromedp.WaitVisible(byTestID("admin-user-link")),
	)
	if got := staff.count(byTestID("admin-user-row")); got != 1 {
		t.Fatalf("searching %q lists %d users, want 1", "cust", got)
	}
	staff.do("open the customer", chromedp.Click(byTestID("admin-user-link")), chromedp.WaitVisible(byTestID("admin-user")))
	axe("user page")
	staff.do("the workspaces", chromedp.Navigate(srv.URL+"/admin/workspaces"), chromedp.WaitVisible(byTestID("admin-workspace-list")),
		chromedp.Click(byTestID("admin-workspace-link")), chromedp.WaitVisible(byTestID("admin-workspace")))
	axe("workspace page")
	staff.do("suspend's confirmation", chromedp.Click(byTestID("admin-suspend")), chromedp.WaitVisible(byTestID("admin-confirm")))
	axe("confirmation")

	// The job queue: a job that failed for real (a kind no worker knows)
	// and an email given up after its attempts; Retry through the
	// confirmation.
	emailJob := failJobs(t, dbPath)
	staff.do("the jobs page",
		chromedp.Click(byTestID("admin-nav-jobs")),
		chromedp.WaitVisible(byTestID("admin-job-list")),
	)
	if got := staff.count(byTestID("admin-job-row")); got != 2 {
		t.Errorf("the jobs page lists %d failed jobs, want 2", got)
	}
	axe("jobs", "light", "dark")
	staff.do("a given-up email's page",
		chromedp.Navigate(srv.URL+"/admin/jobs/"+strconv.FormatInt(emailJob, 10)),
		chromedp.WaitVisible(byTestID("admin-job")),
	)
	axe("job page", "light", "dark")
	staff.do("retry's confirmation", chromedp.Click(byTestID("admin-job-retry")), chromedp.WaitVisible(byTestID("admin-reason")))
	axe("job retry confirmation")
	staff.do("retry it",
		chromedp.SendKeys(byTestID("admin-reason"), "ticket 81: the mailbox is back"),
		chromedp.Click(byTestID("admin-confirm-submit")),
		chromedp.WaitVisible(byTestID("flash")),
	)
	if got := staff.text(byTestID("flash")); !strings.Contains(got, "queued to run now") {
		t.Errorf("after Retry the flash says %q", got)
	}

	staff.do("view as the customer",
		chromedp.Navigate(srv.URL+"/admin/users?q=customer"),
		chromedp.Click(byTestID("admin-user-link")),
		chromedp.WaitVisible(byTestID("admin-view-as")),
		chromedp.Click(byTestID("admin-view-as")),
		chromedp.WaitVisible(byTestID("admin-reason")),
		chromedp.SendKeys(byTestID("admin-reason"), "ticket 77: cannot find the members page"),
		chromedp.Click(byTestID("admin-confirm-submit")),
		chromedp.WaitVisible(byTestID("dashboard")),
	)
	if got := staff.text(byTestID("view-as-user")); !strings.Contains(got, "customer@example.com") {
		t.Errorf("banner names %q, want the customer", got)
	}
	if got := staff.text(byTestID("view-as-staff")); got != "ops@example.com" {
		t.Errorf("banner names the staff member %q", got)
	}
	axe("dashboard viewed as the customer")
	staff.do("members, still with the banner", chromedp.Navigate(srv.URL+"/w/acme/members"), chromedp.WaitVisible(byTestID("view-as-banner")))
	staff.do("stop",
		chromedp.Click(byTestID("view-as-stop")),
		chromedp.WaitVisible(byTestID("admin-user")),
	)
	if staff.present(byTestID("view-as-banner")) {
		t.Error("the banner stays after Stop")
	}
	if got := staff.text(byTestID("admin-who")); got != "ops@example.com" {
		t.Errorf("after Stop the console is %q's", got)
	}
	// The customer's own browser was never signed out.
	customer.do("customer still in", chromedp.Navigate(srv.URL+"/w/acme"), chromedp.WaitVisible(byTestID("dashboard")))
	if customer.present(byTestID("view-as-banner")) {
		t.Error("the customer sees the banner")
	}
}

// failJobs gives the job queue of the database at path two failed jobs:
// one River gives up for real (a kind no worker knows, one attempt) and an
// email given up after three refused attempts, written through River's
// driver as its test factories do.
// It returns the email's job id.
func failJobs(t *testing.T, path string) int64 {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.SQLite, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	real, err := db.Jobs().Insert(ctx, unregisteredJob{}, &river.InsertOpts{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	p := &riverdriver.JobInsertFullParams{Kind: "send_email", EncodedArgs: []byte(`{"outbox_id": 12}`), Queue: "mail",
		State: rivertype.JobStateDiscarded, Attempt: 3, MaxAttempts: 3, Priority: 1, CreatedAt: ptr(now.Add(-2 * time.Hour)),
		ScheduledAt: ptr(now.Add(-30 * time.Minute)), AttemptedAt: ptr(now.Add(-20 * time.Minute)), FinalizedAt: ptr(now.Add(-20 * time.Minute)),
		AttemptedBy: []string{"web-1"}, Metadata: []byte("{}")}
	for i, msg := range []string{"dial tcp 192.0.2.10:587: connect: connection refused",
		"dial tcp 192.0.2.10:587: connect: connection refused",
		"550 5.1.1 <someone@example.net>: Recipient address rejected: User unknown in virtual mailbox table"} {
		b, _ := json.Marshal(rivertype.AttemptError{At: now.Add(time.Duration(i-2) * 10 * time.Minute).Add(-20 * time.Minute), Attempt: i + 1, Error: msg})
		p.Errors = append(p.Errors, b)
	}
	email, err := db.JobDriver().GetExecutor().JobInsertFull(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := db.Jobs().JobGet(ctx, real.Job.ID)
		if err == nil && j.State == rivertype.JobStateDiscarded {
			return email.ID
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unregistered kind's job was not given up: %v %v", j, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// unregisteredJob is a kind no worker is registered for.
type unregisteredJob struct{}

func (unregisteredJob) Kind() string { return "nightly_report" }

func ptr[T any](v T) *T { return &v }
