package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser_WorkspaceSwitcher is the navigation journey: a founder with
// two workspaces opens the header's switcher, sees both with the current
// one marked, switches, creates a third from the switcher, and on a phone
// finds the header one row high with the workspace's pages behind Menu.
func TestBrowser_WorkspaceSwitcher(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	founder := newBrowserTabs(t, 90*time.Second, "founder")[0]
	const email = "founder@example.com"
	founder.do("sign in", askForSignInLink(srv.URL, email)...)
	founder.do("open the link", signInWith(emailedLink(t, smtp, email, srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	founder.do("create Acme", createWorkspace("Acme")...)
	founder.do("create Beta", chromedp.Navigate(srv.URL+"/workspaces/new"), chromedp.WaitVisible(byTestID("workspace-name")))
	founder.do("create Beta", createWorkspace("Beta")...)

	founder.do("open the switcher", chromedp.Click(byTestID("ws-switcher-button")), chromedp.WaitVisible(byTestID("ws-switch-create")))
	if got, want := founder.count(`[data-testid="ws-switcher"] [data-testid="ws-switch-item"]`), 2; got != want {
		t.Fatalf("switcher lists %d workspaces, want %d", got, want)
	}
	if got, want := founder.attr(`[data-testid="ws-switch-item"][aria-current="page"]`, "data-slug"), "beta"; got != want {
		t.Errorf("current workspace in the switcher is %q, want %q", got, want)
	}
	founder.do("switch to Acme",
		chromedp.Click(chromedp.CSS(`[data-testid="ws-switcher"] [data-testid="ws-switch-item"][data-slug="acme"]`)),
		chromedp.WaitVisible(byTestID("dashboard")),
	)
	if got, want := founder.location(), srv.URL+"/w/acme"; got != want {
		t.Errorf("switched to %s, want %s", got, want)
	}
	founder.do("Escape closes the switcher",
		chromedp.Click(byTestID("ws-switcher-button")),
		chromedp.WaitVisible(byTestID("ws-switch-create")),
		chromedp.KeyEvent("\x1b"),
		chromedp.Sleep(100*time.Millisecond),
	)
	if founder.present(`[data-testid="ws-switcher"][open]`) {
		t.Error("Escape left the switcher open")
	}
	founder.do("create a workspace from the switcher",
		chromedp.Click(byTestID("ws-switcher-button")),
		chromedp.Click(byTestID("ws-switch-create")),
		chromedp.WaitVisible(byTestID("workspace-name")),
	)

	// A phone: the header is one row and the pages sit behind Menu.
	founder.do("open Acme on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(srv.URL+"/w/acme"),
		chromedp.WaitVisible(byTestID("phone-menu-button")),
	)
	height, err := chromedp.Run(founder.ctx, chromedp.Evaluate[float64](`document.querySelector(".site-header").getBoundingClientRect().height`))
	if err != nil {
		t.Fatal(err)
	}
	if height > 72 {
		t.Errorf("phone header is %.0fpx high, want one row (≤ 72px)", height)
	}
	founder.do("open the phone menu and go to Members",
		chromedp.Click(byTestID("phone-menu-button")),
		chromedp.Click(byTestID("m-nav-ws-members")),
		chromedp.WaitVisible(byTestID("members")),
	)
}
