package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"atrium/internal/mail/mailtest"
)

// TestBrowser_InviteJourney is the team journey in headless Chromium: a
// founder signs in, creates a workspace and invites a teammate; the
// teammate, in a browser context of their own, follows the emailed invite
// through signing in and accepts it; the founder then sees them on the
// members page.
func TestBrowser_InviteJourney(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	tabs := newBrowserTabs(t, 90*time.Second, "founder", "teammate")
	founder, teammate := tabs[0], tabs[1]

	const (
		founderEmail  = "founder@example.com"
		teammateEmail = "teammate@example.com"
	)
	teammateRow := `[data-testid="member-row"][data-email="` + teammateEmail + `"]`
	inviteRow := `[data-testid="invite-row"][data-email="` + teammateEmail + `"]`

	// 1. The founder signs in and creates Acme.
	founder.do("ask for a sign-in link", askForSignInLink(srv.URL, founderEmail)...)
	founder.do("open the sign-in link and sign in",
		signInWith(emailedLink(t, smtp, founderEmail, srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	if got, want := founder.location(), srv.URL+firstWorkspacePath; got != want {
		t.Errorf("founder signed in at %s, want %s", got, want)
	}
	founder.do("create Acme", createWorkspace("Acme")...)
	if got, want := founder.location(), srv.URL+"/w/acme"; got != want {
		t.Errorf("founder's new workspace is at %s, want %s", got, want)
	}
	if got, want := founder.text(byTestID("dashboard-name")), "Acme"; got != want {
		t.Errorf("dashboard names %q, want %q", got, want)
	}

	// 2. The founder invites the teammate as a member.
	founder.do("open Members and invite the teammate",
		chromedp.Click(byTestID("nav-ws-members")),
		chromedp.WaitVisible(byTestID("invite-form")),
		chromedp.SendKeys(byTestID("invite-email"), teammateEmail),
		chromedp.SetValue(byTestID("invite-role"), "member"),
		chromedp.Click(byTestID("invite-submit")),
		chromedp.WaitVisible(chromedp.CSS(inviteRow)),
	)
	if got, want := founder.text(byTestID("flash")), "Invite sent to "+teammateEmail+"."; !strings.Contains(got, want) {
		t.Errorf("flash after inviting is %q, want it to say %q", got, want)
	}
	if got, want := founder.text(chromedp.CSS(inviteRow+" .badge")), "Member"; got != want {
		t.Errorf("pending invite's role is %q, want %q", got, want)
	}

	// 3. The teammate, with cookies of their own, follows the invite.
	teammate.do("open the invite link",
		chromedp.Navigate(emailedLink(t, smtp, teammateEmail, srv.URL+"/invites/")),
		chromedp.WaitVisible(byTestID("login-email")),
	)
	if got, want := teammate.value(byTestID("login-email")), teammateEmail; got != want {
		t.Errorf("sign-in form after the invite link holds %q, want %q", got, want)
	}
	teammate.do("ask for a sign-in link",
		chromedp.Click(byTestID("login-submit")),
		chromedp.WaitVisible(byTestID("check-email")),
	)
	teammate.do("open the sign-in link and sign in",
		signInWith(emailedLink(t, smtp, teammateEmail, srv.URL+"/auth/verify?token="), byTestID("invite-page"))...)
	if got, want := teammate.attr(byTestID("invite-page"), "data-state"), "ok"; got != want {
		t.Fatalf("invite page after signing in is in state %q, want %q", got, want)
	}
	summary := teammate.text(byTestID("invite-summary"))
	for _, want := range []string{"Acme", founderEmail, teammateEmail, "Member"} {
		if !strings.Contains(summary, want) {
			t.Errorf("invite summary %q does not name %q", summary, want)
		}
	}
	// A newcomer is asked their name once they have joined; an empty
	// Save is refused beside the field, then the name goes through.
	teammate.do("accept the invite",
		chromedp.Click(byTestID("invite-accept")),
		chromedp.WaitVisible(byTestID("name-step")),
		chromedp.Click(byTestID("name-step-save")),
		chromedp.WaitVisible(chromedp.CSS("#field-name-error")),
	)
	if got := teammate.text(chromedp.CSS("#field-name-error")); !strings.Contains(got, "Skip") {
		t.Errorf("empty name's error %q, want it to offer Skip", got)
	}
	teammate.do("give a name",
		chromedp.SendKeys(byTestID("name-step-name"), "Tess Teammate"),
		chromedp.Click(byTestID("name-step-save")),
		chromedp.WaitVisible(byTestID("dashboard")),
	)
	if got, want := teammate.text(byTestID("nav-workspace")), "Acme"; got != want {
		t.Errorf("teammate's workspace bar names %q, want %q", got, want)
	}
	if got, want := teammate.textContent(byTestID("nav-email")), teammateEmail; !strings.Contains(got, want) {
		t.Errorf("teammate's header shows %q, want it to show %q", got, want)
	}

	// 4. The founder sees the teammate as a member, and no pending invite.
	founder.do("reload Members",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(teammateRow)),
	)
	if got, want := founder.text(chromedp.CSS(teammateRow+` [data-testid="member-role"]`)), "Member"; got != want {
		t.Errorf("teammate's role on Members is %q, want %q", got, want)
	}
	if got := founder.words(chromedp.CSS(teammateRow)); !strings.Contains(got, "Tess Teammate") {
		t.Errorf("teammate's row on Members says %q, want their name", got)
	}
	if n := founder.count(chromedp.CSS(inviteRow)); n != 0 {
		t.Errorf("%d pending invites for %s after they joined, want 0", n, teammateEmail)
	}
	founder.do("see no pending invites", chromedp.WaitVisible(byTestID("invites-empty")))
}

// emailedLink waits for the next email to to and returns its first link
// that starts with prefix.
func emailedLink(t *testing.T, smtp *mailtest.Server, to, prefix string) string {
	t.Helper()
	msg := smtp.WaitForMessageMatching(t, to, 10*time.Second, mailtest.LinkTo(prefix))
	for _, l := range msg.Links() {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("email %q to %s has no link starting with %s:\n%s", msg.Subject, to, prefix, msg.Text)
	return ""
}
