package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"atrium/internal/config"
)

// TestBrowser_DemoDowngrade is the development billing journey without
// Stripe: the demo upgrade puts the workspace on Pro, and the demo
// downgrade puts it back on Free.
func TestBrowser_DemoDowngrade(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, config.Env{"APP_ENV": "development"})
	owner := newBrowserTabs(t, 60*time.Second, "owner")[0]
	owner.do("sign in", askForSignInLink(srv.URL, "owner@example.com")...)
	owner.do("open the link", signInWith(emailedLink(t, smtp, "owner@example.com", srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	owner.do("create Acme", createWorkspace("Acme")...)
	owner.do("upgrade (demo)",
		chromedp.Navigate(srv.URL+"/w/acme/billing"),
		chromedp.Click(byTestID("billing-demo-upgrade")),
		chromedp.WaitVisible(byTestID("billing-demo-downgrade")),
	)
	if got := owner.words(byTestID("billing-plan")); !strings.HasPrefix(got, "Pro") {
		t.Fatalf("after the demo upgrade the plan is %q, want Pro", got)
	}
	owner.do("downgrade (demo)",
		chromedp.Click(byTestID("billing-demo-downgrade")),
		chromedp.WaitVisible(byTestID("billing-demo-upgrade")),
	)
	if got := owner.words(byTestID("billing-plan")); !strings.HasPrefix(got, "Free") {
		t.Errorf("after the demo downgrade the plan is %q, want Free", got)
	}
}
