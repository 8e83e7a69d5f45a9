package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"atrium/internal/config"
)

// TestBrowser_Passkey adds a passkey in real Chromium, whose DevTools
// virtual authenticator stands in for Touch ID, and signs in with it: on
// its own from the sign-in page, and as the second factor after a magic
// link.
func TestBrowser_Passkey(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	// WebAuthn refuses an IP address as the relying party: the app and the
	// browser use localhost.
	port := freePort(t)
	base := "http://localhost:" + strconv.Itoa(port)
	srv, smtp := startServeWithMail(t, config.Env{"PORT": strconv.Itoa(port), "APP_URL": base})
	user := newBrowserTabs(t, 90*time.Second, "user")[0]
	if _, err := chromedp.Call(user.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("enable WebAuthn emulation: %v", err)
	}
	auth, err := chromedp.Call(user.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("add a virtual authenticator: %v", err)
	}
	verifies := func(ok bool) {
		t.Helper()
		if _, err := chromedp.Call(user.ctx, webauthn.SetUserVerified,
			webauthn.SetUserVerifiedParams{AuthenticatorID: auth.AuthenticatorID, IsUserVerified: ok}); err != nil {
			t.Fatalf("set user verification to %v: %v", ok, err)
		}
	}

	const email = "grace@example.com"
	user.do("ask for a sign-in link", askForSignInLink(srv.URL, email)...)
	user.do("open the link", signInWith(emailedLink(t, smtp, email, base+"/auth/verify?token="), byTestID("workspace-new"))...)

	user.do("add a passkey",
		chromedp.Navigate(base+"/settings/account"),
		chromedp.WaitVisible(byTestID("passkey-name")),
		chromedp.SendKeys(byTestID("passkey-name"), "Test key"),
		chromedp.Click(byTestID("passkey-add")),
		// The first factor comes with recovery codes.
		chromedp.WaitVisible(byTestID("recovery-codes")),
		chromedp.Click(byTestID("recovery-continue")),
		chromedp.WaitVisible(byTestID("passkey-row")),
	)
	if got := user.text(byTestID("passkey-name-cell")); got != "Test key" {
		t.Errorf("account lists passkey %q, want \"Test key\"", got)
	}
	if got := user.text(byTestID("passkey-last-used")); got != "Never used" {
		t.Errorf("new passkey last used %q, want \"Never used\"", got)
	}

	signOut := func() {
		t.Helper()
		user.do("sign out",
			chromedp.Click(byTestID("user-menu-button")),
			chromedp.Click(chromedp.CSS(`form[data-testid="logout"] [data-testid="logout-submit"]`)),
			chromedp.WaitVisible(byTestID("login")),
		)
	}
	signOut()
	// A failed verification (a wrong fingerprint, a cancelled prompt) says
	// so and leaves the button to try again.
	verifies(false)
	user.do("fail to verify",
		chromedp.WaitVisible(byTestID("passkey-signin-submit")),
		chromedp.Click(byTestID("passkey-signin-submit")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="passkey-signin-status"]').textContent !== ""`),
	)
	if got := user.text(byTestID("passkey-signin-status")); !strings.Contains(got, "cancelled or timed out") {
		t.Errorf("status after a failed verification %q", got)
	}
	verifies(true)
	user.do("sign in with the passkey",
		chromedp.WaitVisible(byTestID("passkey-signin-submit")),
		chromedp.Click(byTestID("passkey-signin-submit")),
		chromedp.WaitVisible(byTestID("workspace-new")),
	)
	if got := user.textContent(byTestID("nav-email")); !strings.Contains(got, email) {
		t.Errorf("header shows %q after the passkey sign-in, want %q", got, email)
	}
	user.do("look at the account page", chromedp.Navigate(base+"/settings/account"), chromedp.WaitVisible(byTestID("passkey-row")))
	if got := user.text(byTestID("passkey-last-used")); got == "" || got == "Never used" {
		t.Errorf("passkey last used %q after signing in with it", got)
	}

	// A magic link now asks for the second factor, and the passkey gives it.
	signOut()
	user.do("ask for another sign-in link", askForSignInLink(base, email)...)
	user.do("open it", signInWith(emailedLink(t, smtp, email, base+"/auth/verify?token="), byTestID("second-factor"))...)
	// Without the JSON helpers of recent browsers, the script converts the
	// options and the answer itself.
	if gone, err := chromedp.Run(user.ctx, chromedp.Evaluate[bool](`delete PublicKeyCredential.parseRequestOptionsFromJSON;
		delete PublicKeyCredential.prototype.toJSON;
		typeof PublicKeyCredential.parseRequestOptionsFromJSON === "undefined" && typeof PublicKeyCredential.prototype.toJSON === "undefined"`)); err != nil || !gone {
		t.Fatalf("remove the JSON helpers: %v, %v", gone, err)
	}
	user.do("confirm with the passkey",
		chromedp.WaitVisible(byTestID("passkey-signin-submit")),
		chromedp.Click(byTestID("passkey-signin-submit")),
		chromedp.WaitVisible(byTestID("workspace-new")),
	)
	if got := user.textContent(byTestID("nav-email")); !strings.Contains(got, email) {
		t.Errorf("header shows %q after the second factor, want %q", got, email)
	}

	// The same authenticator is not added twice: the options exclude it
	// (converted by the script here too).
	user.do("open the account page", chromedp.Navigate(base+"/settings/account"), chromedp.WaitVisible(byTestID("passkey-name")))
	if gone, err := chromedp.Run(user.ctx, chromedp.Evaluate[bool](`delete PublicKeyCredential.parseCreationOptionsFromJSON;
		typeof PublicKeyCredential.parseCreationOptionsFromJSON === "undefined"`)); err != nil || !gone {
		t.Fatalf("remove the JSON helper: %v, %v", gone, err)
	}
	user.do("add the same authenticator again",
		chromedp.SendKeys(byTestID("passkey-name"), "Again"),
		chromedp.Click(byTestID("passkey-add")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="passkey-add-status"]').textContent !== ""`),
	)
	if got := user.text(byTestID("passkey-add-status")); !strings.Contains(got, "already holds a passkey") {
		t.Errorf("status after adding the same authenticator again %q", got)
	}
	if n := user.count(byTestID("passkey-row")); n != 1 {
		t.Errorf("%d passkeys listed, want 1", n)
	}
}
