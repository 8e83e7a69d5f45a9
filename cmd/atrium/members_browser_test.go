package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"atrium/internal/mail/mailtest"
)

// joinAs are the steps in which owner, on the members page of the
// workspace slug, invites email as role, and teammate (a tab of their own)
// signs in through the invite and accepts it.
func joinAs(t *testing.T, owner, teammate browserActor, baseURL string, smtp *mailtest.Server, slug, email, role string) {
	t.Helper()
	owner.do("invite "+email,
		chromedp.Navigate(baseURL+"/w/"+slug+"/members"),
		chromedp.WaitVisible(byTestID("invite-form")),
		chromedp.SendKeys(byTestID("invite-email"), email),
		chromedp.SetValue(byTestID("invite-role"), role),
		chromedp.Click(byTestID("invite-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="invite-row"][data-email="`+email+`"]`)),
	)
	teammate.do("open the invite link",
		chromedp.Navigate(emailedLink(t, smtp, email, baseURL+"/invites/")),
		chromedp.WaitVisible(byTestID("login-submit")),
		chromedp.Click(byTestID("login-submit")),
		chromedp.WaitVisible(byTestID("check-email")),
	)
	teammate.do("sign in", signInWith(emailedLink(t, smtp, email, baseURL+"/auth/verify?token="), byTestID("invite-page"))...)
	// A new account meets the optional name step right after accepting.
	teammate.do("accept", chromedp.Click(byTestID("invite-accept")),
		chromedp.WaitVisible(byTestID("dashboard")+", "+byTestID("name-step")),
		skipNameStep(),
		chromedp.WaitVisible(byTestID("dashboard")))
}

// menuItem is one item of an open member menu as the browser lays it out.
type menuItem struct {
	ID    string  `json:"id"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	OnTop bool    `json:"onTop"`
	Top   string  `json:"top"` // what is on top at the item's centre
}

// openMenuItems scrolls the page to each shown item of the open member menu
// and reports whether it is the topmost element at its own centre, where a
// mouse would click it.
func openMenuItems(t *testing.T, a browserActor) []menuItem {
	t.Helper()
	return menuItemsMatching(t, a, `[data-testid^="member-make-"], [data-testid="member-transfer"], [data-testid="member-remove"]`)
}

// menuItemsMatching measures the shown elements sel matches as
// openMenuItems does; the last one measured is the one in view.
func menuItemsMatching(t *testing.T, a browserActor, sel string) []menuItem {
	t.Helper()
	out, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](`JSON.stringify(Array.from(document.querySelectorAll(`+"`"+sel+"`"+`))
		.filter(b => b.getClientRects().length > 0)
		.map(b => {
			// Scroll the page only, as a person would: scrollIntoView would
			// also scroll a box that clips its content, which no wheel can.
			const before = b.getBoundingClientRect();
			window.scrollBy(0, before.top + before.height / 2 - innerHeight / 2);
			const r = b.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
			const top = document.elementFromPoint(x, y);
			return {id: b.dataset.testid, x, y, onTop: top === b || b.contains(top),
				top: top ? top.tagName + "." + top.className + "[" + (top.dataset.testid || "") + "]" : "nothing"};
		}))`))
	if err != nil {
		t.Fatalf("%s: read the menu: %v", a.who, err)
	}
	var items []menuItem
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatalf("menu items %q: %v", out, err)
	}
	return items
}

// TestBrowser_MemberMenuReachable opens the Actions menu of the last row of
// a two-person workspace's members page, on a desktop and on a phone, and
// checks that every item is the topmost element at its centre (not clipped
// by the card nor covered by what follows), then clicks them by position:
// Transfer and Remove ask in a dialog naming the member, a role item
// changes the role.
func TestBrowser_MemberMenuReachable(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	tabs := newBrowserTabs(t, 3*time.Minute, "owner", "teammate")
	owner, teammate := tabs[0], tabs[1]
	owner.do("sign in", askForSignInLink(srv.URL, "owner@example.com")...)
	owner.do("open the link", signInWith(emailedLink(t, smtp, "owner@example.com", srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	owner.do("create Acme", createWorkspace("Acme")...)
	joinAs(t, owner, teammate, srv.URL, smtp, "acme", "teammate@example.com", "admin")

	lastRow := `[data-testid="member-row"]:last-of-type`
	// clickAt scrolls the item to the middle of the screen again (the
	// items were measured one after another) and clicks its centre.
	clickAt := func(what string, it menuItem) {
		t.Helper()
		it = menuItemsMatching(t, owner, `[data-testid="`+it.ID+`"]`)[0]
		owner.do(what, chromedp.MouseClickXY(it.X, it.Y))
	}
	for _, vp := range []struct {
		name   string
		w, h   int64
		mobile bool
		toRole string // the role item clicked, and the role it gives
	}{{"desktop", 1280, 800, false, "member"}, {"phone", 390, 844, true, "admin"}} {
		open := func() []menuItem {
			t.Helper()
			owner.do("open the last row's menu ("+vp.name+")",
				chromedp.Navigate(srv.URL+"/w/acme/members"),
				chromedp.WaitVisible(byTestID("member-list")),
				chromedp.ScrollIntoView(chromedp.CSS(lastRow+` [data-testid="member-actions-button"]`)),
				chromedp.Click(chromedp.CSS(lastRow+` [data-testid="member-actions-button"]`)),
				chromedp.Sleep(200*time.Millisecond),
			)
			items := openMenuItems(t, owner)
			if len(items) != 4 {
				t.Fatalf("%s: the menu shows %d items, want 4 (two roles, transfer, remove): %+v", vp.name, len(items), items)
			}
			return items
		}
		owner.do("viewport "+vp.name, chromedp.EmulateViewport(vp.w, vp.h, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
			p.Mobile = vp.mobile
		}))
		items := open()
		for _, it := range items {
			if !it.OnTop {
				t.Errorf("%s: %s is covered at its centre (%.0f, %.0f) by %s: a mouse cannot click it", vp.name, it.ID, it.X, it.Y, it.Top)
			}
		}
		shot(t, owner, "member-menu-"+vp.name)
		byID := func(items []menuItem, id string) menuItem {
			for _, it := range items {
				if it.ID == id {
					return it
				}
			}
			t.Fatalf("%s: no %s in the menu: %+v", vp.name, id, items)
			return menuItem{}
		}
		for _, id := range []string{"member-transfer", "member-remove"} {
			clickAt("click "+id, byID(items, id))
			owner.do("see the dialog", chromedp.WaitVisible(byTestID("confirm-dialog")))
			if got := owner.text(byTestID("confirm-dialog")); !strings.Contains(got, "teammate@example.com") {
				t.Errorf("%s: %s's dialog says %q, want it to name the member", vp.name, id, got)
			}
			owner.do("cancel", chromedp.Click(byTestID("confirm-dialog-cancel")), chromedp.WaitNotVisible(byTestID("confirm-dialog")))
			items = open()
		}
		clickAt("click Make "+vp.toRole, byID(items, "member-make-"+vp.toRole))
		owner.do("see the flash", chromedp.WaitVisible(byTestID("flash")))
		if got, want := owner.text(chromedp.CSS(lastRow+` [data-testid="member-role"]`)), strings.ToUpper(vp.toRole[:1])+vp.toRole[1:]; got != want {
			t.Errorf("%s: role after clicking Make %s is %q, want %q", vp.name, vp.toRole, got, want)
		}
	}
}

// shot saves a screenshot of the tab's viewport as NAME.png in the
// directory SCREENSHOT_DIR names, when it is set: pictures to look at by
// hand, which nothing checks.
func shot(t *testing.T, a browserActor, name string) {
	t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(a.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("no screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Logf("no screenshot %s: %v", name, err)
	}
}
