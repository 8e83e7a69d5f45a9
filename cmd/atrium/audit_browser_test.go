package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowser_AuditJourney: a founder invites a teammate, who joins; the
// founder's dashboard reads the activity as sentences with names; on the
// audit page the founder filters by the teammate, exports the filtered
// entries as CSV and opens the downloaded file, which holds only the
// teammate's entries.
func TestBrowser_AuditJourney(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	tabs := newBrowserTabs(t, 90*time.Second, "founder", "teammate")
	founder, teammate := tabs[0], tabs[1]
	const founderEmail, teammateEmail = "founder@example.com", "teammate@example.com"

	founder.do("ask for a sign-in link", askForSignInLink(srv.URL, founderEmail)...)
	founder.do("sign in", signInWith(emailedLink(t, smtp, founderEmail, srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	founder.do("create Acme", createWorkspace("Acme")...)
	founder.do("invite the teammate",
		chromedp.Navigate(srv.URL+"/w/acme/members"),
		chromedp.WaitVisible(byTestID("invite-form")),
		chromedp.SendKeys(byTestID("invite-email"), teammateEmail),
		chromedp.SetValue(byTestID("invite-role"), "member"),
		chromedp.Click(byTestID("invite-submit")),
		chromedp.WaitVisible(byTestID("flash")),
	)
	teammate.do("open the invite link",
		chromedp.Navigate(emailedLink(t, smtp, teammateEmail, srv.URL+"/invites/")),
		chromedp.WaitVisible(byTestID("login-email")),
		chromedp.Click(byTestID("login-submit")),
		chromedp.WaitVisible(byTestID("check-email")),
	)
	teammate.do("sign in", signInWith(emailedLink(t, smtp, teammateEmail, srv.URL+"/auth/verify?token="), byTestID("invite-page"))...)
	teammate.do("accept", chromedp.Click(byTestID("invite-accept")), chromedp.WaitVisible(byTestID("name-step")),
		skipNameStep(), chromedp.WaitVisible(byTestID("dashboard")))

	founder.do("open the dashboard", chromedp.Navigate(srv.URL+"/w/acme"), chromedp.WaitVisible(byTestID("activity")))
	if got, want := founder.words(byTestID("activity")), teammateEmail+" joined as Member"; !strings.Contains(got, want) {
		t.Errorf("dashboard activity %q does not say %q", got, want)
	}
	if got := founder.attr(chromedp.CSS(`[data-testid="activity"] time`), "title"); !strings.Contains(got, "UTC") {
		t.Errorf("activity time's hover %q, want the time in the viewer's zone", got)
	}

	// Exporting is part of Pro: the development server's demo upgrade
	// puts Acme on it.
	founder.do("put Acme on Pro",
		chromedp.Navigate(srv.URL+"/w/acme/billing"),
		chromedp.Click(byTestID("billing-demo-upgrade")),
		chromedp.WaitVisible(byTestID("billing-demo-downgrade")),
	)
	founder.do("open the audit log", chromedp.Navigate(srv.URL+"/w/acme/audit"), chromedp.WaitVisible(byTestID("audit-filter")))
	founder.do("filter the audit log by the teammate",
		chromedp.SetValue(byTestID("audit-actor"), founder.optionValue(byTestID("audit-actor"), teammateEmail)),
		chromedp.Click(byTestID("audit-filter-submit")),
		chromedp.WaitVisible(byTestID("audit-clear")),
	)
	if loc := founder.location(); !strings.Contains(loc, "actor=") {
		t.Errorf("the filter is not in the address: %s", loc)
	}
	if got := founder.words(byTestID("audit-table")); !strings.Contains(got, "joined as Member") || strings.Contains(got, "invited") {
		t.Errorf("filtered log %q: want the teammate's entries only", got)
	}

	dir := t.TempDir()
	progress := chromedp.Events(founder.ctx, browser.DownloadProgress)
	founder.do("export the filtered entries",
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)})
			return err
		}),
		chromedp.Click(byTestID("audit-export-csv")),
	)
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was canceled")
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("open the downloaded file: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read the downloaded CSV: %v", err)
	}
	if len(recs) < 2 {
		t.Fatalf("the export holds %d lines, want a header and the teammate's entries", len(recs))
	}
	for _, r := range recs[1:] {
		if r[4] != teammateEmail {
			t.Errorf("exported row by %q, want only %s's", r[4], teammateEmail)
		}
	}
}

// optionValue returns the value of the option of the select sel whose
// text contains label.
func (a browserActor) optionValue(sel chromedp.CSS, label string) string {
	a.t.Helper()
	v, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](`(() => { for (const o of document.querySelectorAll('`+string(sel)+
		` option')) { if (o.textContent.includes(`+"`"+label+"`"+`)) return o.value } return "" })()`))
	if err != nil || v == "" {
		a.t.Fatalf("%s: no option %q in %s: %v", a.who, label, sel, err)
	}
	return v
}
