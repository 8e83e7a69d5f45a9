package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser_ConfirmDialog checks the confirmation step with scripts on:
// revoking an invite opens a dialog naming the consequence; Cancel leaves
// the invite pending, confirming revokes it. A member's row has one
// Actions menu whose Remove asks the same way.
func TestBrowser_ConfirmDialog(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	founder := newBrowserTabs(t, 90*time.Second, "founder")[0]
	const email = "founder@example.com"
	inviteRow := `[data-testid="invite-row"][data-email="late@example.com"]`
	founder.do("sign in", askForSignInLink(srv.URL, email)...)
	founder.do("open the link", signInWith(emailedLink(t, smtp, email, srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	founder.do("create Acme", createWorkspace("Acme")...)
	founder.do("invite late@example.com",
		chromedp.Navigate(srv.URL+"/w/acme/members"),
		chromedp.WaitVisible(byTestID("invite-form")),
		chromedp.SendKeys(byTestID("invite-email"), "late@example.com"),
		chromedp.Click(byTestID("invite-submit")),
		chromedp.WaitVisible(chromedp.CSS(inviteRow)),
	)

	founder.do("click Revoke",
		chromedp.Click(chromedp.CSS(inviteRow+` [data-testid="invite-revoke"]`)),
		chromedp.WaitVisible(byTestID("confirm-dialog")),
	)
	if got := founder.text(byTestID("confirm-dialog")); !strings.Contains(got, "late@example.com") || !strings.Contains(got, "link stops working") {
		t.Errorf("dialog says %q, want the address and the consequence", got)
	}
	founder.do("cancel", chromedp.Click(byTestID("confirm-dialog-cancel")), chromedp.WaitNotVisible(byTestID("confirm-dialog")))
	founder.do("reload", chromedp.Reload(), chromedp.WaitVisible(byTestID("invite-list")))
	if !founder.present(chromedp.CSS(inviteRow)) {
		t.Fatal("Cancel revoked the invite")
	}
	founder.do("revoke for real",
		chromedp.Click(chromedp.CSS(inviteRow+` [data-testid="invite-revoke"]`)),
		chromedp.WaitVisible(byTestID("confirm-dialog-ok")),
		chromedp.Click(byTestID("confirm-dialog-ok")),
		chromedp.WaitVisible(byTestID("flash")),
	)
	if got := founder.text(byTestID("flash")); !strings.Contains(got, "revoked") {
		t.Errorf("flash=%q, want it to say revoked", got)
	}
	if founder.present(chromedp.CSS(inviteRow)) {
		t.Error("the invite is still listed after confirming")
	}
}
