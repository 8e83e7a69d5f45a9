package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowser_InviteBanner is the first run of someone invited who signs
// in directly: their browser is in Tokyo, the invitation waits on the page
// they land on, Accept joins the workspace, and the account has taken the
// browser's time zone.
func TestBrowser_InviteBanner(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	tabs := newBrowserTabs(t, 90*time.Second, "founder", "teammate")
	founder, teammate := tabs[0], tabs[1]
	founder.do("sign in", askForSignInLink(srv.URL, "founder@example.com")...)
	founder.do("open the link", signInWith(emailedLink(t, smtp, "founder@example.com", srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	founder.do("create Acme", createWorkspace("Acme")...)
	founder.do("invite the teammate",
		chromedp.Navigate(srv.URL+"/w/acme/members"),
		chromedp.WaitVisible(byTestID("invite-form")),
		chromedp.SendKeys(byTestID("invite-email"), "teammate@example.com"),
		chromedp.Click(byTestID("invite-submit")),
		chromedp.WaitVisible(byTestID("invite-list")),
	)
	smtp.WaitForMessage(t, "teammate@example.com", 10*time.Second) // the invitation, left unopened

	if _, err := chromedp.Call(teammate.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	teammate.do("sign in directly", askForSignInLink(srv.URL, "teammate@example.com")...)
	teammate.do("open the link", signInWith(emailedLink(t, smtp, "teammate@example.com", srv.URL+"/auth/verify?token="), byTestID("invite-banner"))...)
	if got := teammate.words(byTestID("invite-banner")); !strings.Contains(got, "Acme") || !strings.Contains(got, "Member") {
		t.Errorf("banner says %q, want the workspace and the role", got)
	}
	teammate.do("accept from the banner", chromedp.Click(byTestID("invite-banner-accept")), chromedp.WaitVisible(byTestID("dashboard")))
	if got, want := teammate.location(), srv.URL+"/w/acme"; got != want {
		t.Errorf("accepted into %s, want %s", got, want)
	}
	teammate.do("open the account page", chromedp.Navigate(srv.URL+"/settings/account"), chromedp.WaitVisible(byTestID("profile-tz")))
	if got, want := teammate.value(byTestID("profile-tz")), "Asia/Tokyo"; got != want {
		t.Errorf("time zone after the first sign-in is %q, want the browser's %q", got, want)
	}
}
