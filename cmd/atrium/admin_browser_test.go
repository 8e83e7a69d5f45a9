package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"atrium/internal/config"
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

	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "atrium.db")
	srv, smtp := startServeWithMail(t, config.Env{"DATABASE_URL": dbURL})
	tabs := newBrowserTabs(t, 8*time.Minute, "staff", "customer")
	staff, customer := tabs[0], tabs[1]
	axe := func(where string) {
		t.Helper()
		for _, vp := range []struct {
			name, scheme string
			w, h         int64
			mobile       bool
		}{{"desktop", "light", 1280, 800, false}, {"phone", "dark", 390, 844, true}} {
			for _, scheme := range []string{vp.scheme} {
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
