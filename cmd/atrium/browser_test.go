package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser_SignInJourney is the browser smoke: headless Chromium signs
// in with the emailed magic link against the binary's serve command, lands
// on the first-workspace page, looks at the account page and signs out.
func TestBrowser_SignInJourney(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	user := newBrowserTabs(t, 60*time.Second, "user")[0]

	const email = "margaret@example.com"
	user.do("ask for a sign-in link", askForSignInLink(srv.URL, email)...)
	if got := user.text(byTestID("check-email-address")); got != email {
		t.Fatalf("check-email page names %q, want %q", got, email)
	}

	msg := smtp.WaitForMessage(t, email, 10*time.Second)
	links := msg.Links()
	if len(links) == 0 || !strings.HasPrefix(links[0], srv.URL+"/auth/verify?token=") {
		t.Fatalf("sign-in email has no link to %s/auth/verify:\n%s", srv.URL, msg.Text)
	}
	user.do("open the link and sign in", signInWith(links[0], byTestID("workspace-new"))...)
	// A new user goes through /app to the form for their first workspace.
	if got, want := user.location(), srv.URL+firstWorkspacePath; got != want {
		t.Errorf("signed in at %s, want %s", got, want)
	}
	if got := user.textContent(byTestID("nav-email")); !strings.Contains(got, email) {
		t.Errorf("header shows %q, want it to show %q", got, email)
	}

	user.do("open the account page",
		chromedp.Navigate(srv.URL+"/settings/account"),
		chromedp.WaitVisible(byTestID("sessions")),
	)
	rows, err := chromedp.Run(user.ctx, chromedp.Nodes(chromedp.CSSAll(`[data-testid="session-row"]`)))
	if err != nil {
		t.Fatalf("find session rows: %v", err)
	}
	if got, want := len(rows), 1; got != want {
		t.Errorf("%d session rows, want %d", got, want)
	}
	if got, want := user.text(byTestID("this-device")), "This device"; got != want {
		t.Errorf("session badge %q, want %q", got, want)
	}

	user.do("sign out",
		chromedp.Click(byTestID("user-menu-button")),
		chromedp.Click(chromedp.CSS(`form[data-testid="logout"] [data-testid="logout-submit"]`)),
		chromedp.WaitVisible(byTestID("login")),
	)
	if got, want := user.location(), srv.URL+"/login"; got != want {
		t.Errorf("signed out at %s, want %s", got, want)
	}
	if got := user.text(byTestID("flash")); !strings.Contains(got, "signed out") {
		t.Errorf("flash after signing out is %q, want it to say \"signed out\"", got)
	}
}
