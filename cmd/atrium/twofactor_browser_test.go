package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TestBrowser_TwoFactorApp is the authenticator-app journey in Chromium:
// an owner turns the app on with a code computed here from the key the
// page shows, saves the recovery codes, requires two-factor sign-in for
// the workspace, and is then asked for a code after every sign-in link; a
// recovery code gets them in once; with the app turned off the workspace
// shows the walkthrough, which leads back in once it is set up again. Each
// new page is checked with axe-core.
func TestBrowser_TwoFactorApp(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	tab := newBrowserTabs(t, 3*time.Minute, "owner")[0]
	axe := func(where string) {
		t.Helper()
		for _, v := range runAxe(t, tab) {
			t.Errorf("%s: %s: %s\n  %s", where, v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
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
	signInLink := func() string {
		tab.do("ask for a link", askForSignInLink(srv.URL, "founder@example.com")...)
		return emailedLink(t, smtp, "founder@example.com", srv.URL+"/auth/verify?token=")
	}

	tab.do("sign in", signInWith(signInLink(), byTestID("workspace-new"))...)
	tab.do("create Acme", createWorkspace("Acme")...)

	tab.do("open the set-up page",
		chromedp.Navigate(srv.URL+"/settings/account"),
		chromedp.Click(byTestID("totp-setup")),
		chromedp.WaitVisible(byTestID("totp-qr")),
	)
	axe("authenticator set-up")
	secret := strings.ReplaceAll(tab.text(byTestID("totp-secret")), " ", "")
	tab.do("enter a wrong code",
		chromedp.SendKeys(byTestID("totp-code"), "000000"),
		chromedp.Click(byTestID("totp-confirm")),
		chromedp.WaitVisible(`#field-code-error`),
	)
	tab.do("enter the app's code",
		chromedp.SetValue(byTestID("totp-code"), code(secret)),
		chromedp.Click(byTestID("totp-confirm")),
		chromedp.WaitVisible(byTestID("recovery-codes")),
	)
	codes := strings.Fields(tab.text(byTestID("recovery-codes")))
	axe("recovery codes")
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10", len(codes))
	}
	tab.do("back to the account",
		chromedp.Click(byTestID("recovery-continue")),
		chromedp.WaitVisible(byTestID("totp-on")),
	)
	if status := tab.attr(byTestID("two-factor-status"), "data-enabled"); status != "true" {
		t.Fatalf("account says two-factor enabled=%q after turning the app on", status)
	}

	tab.do("require two-factor for Acme",
		chromedp.Navigate(srv.URL+"/w/acme/settings"),
		chromedp.Click(byTestID("two-factor-submit")),
		chromedp.WaitVisible(byTestID("confirm-dialog")),
		chromedp.Click(byTestID("confirm-dialog-ok")),
		chromedp.WaitVisible(`[data-testid="two-factor-state"][data-required="true"]`),
	)
	axe("workspace settings with the policy on")

	// Signed out, a sign-in link now stops at the second step.
	signOut := []chromedp.Action[chromedp.Void]{
		chromedp.Click(byTestID("user-menu-button")),
		chromedp.Click(chromedp.CSS(`form[data-testid="logout"] [data-testid="logout-submit"]`)),
		chromedp.WaitVisible(byTestID("login")),
	}
	tab.do("sign out", signOut...)
	tab.do("use a new link", signInWith(signInLink(), byTestID("second-factor"))...)
	axe("second step")
	// The code used to turn the app on came from this time step; wait for
	// the next one rather than replay it.
	time.Sleep(time.Until(time.Unix((time.Now().Unix()/30+1)*30, 0)) + 100*time.Millisecond)
	tab.do("enter the app's code",
		chromedp.SendKeys(byTestID("second-factor-code"), code(secret)),
		chromedp.Click(byTestID("second-factor-submit")),
		chromedp.WaitVisible(byTestID("user-menu-button")),
	)

	tab.do("sign out again", signOut...)
	tab.do("use a recovery code", append(signInWith(signInLink(), byTestID("second-factor")),
		chromedp.SendKeys(byTestID("second-factor-code"), codes[0]),
		chromedp.Click(byTestID("second-factor-submit")),
		chromedp.WaitVisible(`.flash`),
	)...)
	if flash := tab.text(`.flash`); !strings.Contains(flash, "9 left") {
		t.Fatalf("after a recovery code the flash says %q, want how many are left (9)", flash)
	}

	// Turning off the only factor keeps even the owner out of a workspace
	// that requires one, until they set it up again.
	tab.do("turn the app off",
		chromedp.Navigate(srv.URL+"/settings/account"),
		chromedp.Click(byTestID("totp-disable")),
		chromedp.WaitVisible(byTestID("confirm-dialog")),
		chromedp.Click(byTestID("confirm-dialog-ok")),
		chromedp.WaitVisible(byTestID("totp-setup")),
		chromedp.Navigate(srv.URL+"/w/acme/members"),
		chromedp.WaitVisible(byTestID("two-factor-required")),
	)
	axe("the walkthrough for a member without a second factor")
	tab.do("set the app up again from the walkthrough", chromedp.Click(byTestID("two-factor-setup-app")), chromedp.WaitVisible(byTestID("totp-qr")))
	secret = strings.ReplaceAll(tab.text(byTestID("totp-secret")), " ", "")
	tab.do("enter its code and come back",
		chromedp.SendKeys(byTestID("totp-code"), code(secret)),
		chromedp.Click(byTestID("totp-confirm")),
		chromedp.WaitVisible(byTestID("recovery-continue")),
		chromedp.Click(byTestID("recovery-continue")),
		// The walkthrough's link brings them back to the workspace.
		chromedp.WaitVisible(byTestID("dashboard")),
	)
}
