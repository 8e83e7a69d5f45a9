package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"atrium/internal/config"
	"atrium/internal/dnstest"
)

// TestBrowser_SSOSignIn is the single sign-on journey in Chromium: an
// owner on Pro connects the workspace's identity provider, verifies the
// domain by its TXT record (a real DNS server) and lets colleagues join
// on their first sign-in; a colleague types their address on the sign-in
// page and is handed over to the provider and back, into the workspace.
// The hand-over is a page that follows its link, since the Content
// Security Policy's form-action does not name a workspace's provider.
func TestBrowser_SSOSignIn(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Shutdown() })
	idp.CodeChallengeMethodsSupported = []string{"S256"}
	txt := dnstest.New(t)
	srv, smtp := startServeWithMail(t, config.Env{"APP_ENV": "development", "SSO_DNS_RESOLVER": txt.Addr})
	tabs := newBrowserTabs(t, 2*time.Minute, "owner", "colleague")
	owner, colleague := tabs[0], tabs[1]

	owner.do("sign in", askForSignInLink(srv.URL, "owner@corp.test")...)
	owner.do("open the link", signInWith(emailedLink(t, smtp, "owner@corp.test", srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	owner.do("create Acme", createWorkspace("Acme")...)
	owner.do("upgrade (demo)",
		chromedp.Navigate(srv.URL+"/w/acme/billing"),
		chromedp.Click(byTestID("billing-demo-upgrade")),
		chromedp.WaitVisible(byTestID("billing-demo-downgrade")),
	)
	cfg := idp.Config()
	owner.do("connect the provider",
		chromedp.Navigate(srv.URL+"/w/acme/settings"),
		chromedp.Click(byTestID("settings-sso-link")),
		chromedp.WaitVisible(byTestID("sso-connection-form")),
		chromedp.SendKeys(byTestID("sso-issuer"), cfg.Issuer),
		chromedp.SendKeys(byTestID("sso-client-id"), cfg.ClientID),
		chromedp.SendKeys(byTestID("sso-client-secret"), cfg.ClientSecret),
		chromedp.Click(byTestID("sso-connection-submit")),
		chromedp.WaitVisible(byTestID("sso-domain-form")),
		chromedp.SendKeys(byTestID("sso-domain-input"), "corp.test"),
		chromedp.Click(byTestID("sso-domain-submit")),
		chromedp.WaitVisible(byTestID("sso-record-value")),
	)
	txt.SetTXT(owner.value(byTestID("sso-record-name")), owner.value(byTestID("sso-record-value")))
	owner.do("verify the domain and let colleagues join",
		chromedp.Click(byTestID("sso-domain-verify")),
		chromedp.WaitNotPresent(byTestID("sso-domain-verify")),
		// Again, without the verification's message.
		chromedp.Navigate(srv.URL+"/w/acme/settings/sso"),
		chromedp.WaitVisible(byTestID("sso-options-form")),
		chromedp.Click(byTestID("sso-jit")),
		chromedp.Click(byTestID("sso-options-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)),
	)
	if got := owner.text(byTestID("flash")); !strings.Contains(got, "options are saved") {
		t.Fatalf("after saving the options: %q", got)
	}
	if got := owner.text(byTestID("sso-domain-status")); !strings.HasPrefix(got, "Verified") {
		t.Fatalf("domain status %q", got)
	}

	idp.QueueUser(&mockoidc.MockUser{Subject: "grace-1", Email: "grace@corp.test"})
	colleague.do("sign in with the work address",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(byTestID("login-email")),
		chromedp.SendKeys(byTestID("login-email"), "grace@corp.test"),
		chromedp.Click(byTestID("login-submit")),
		chromedp.WaitVisible(byTestID("dashboard")+", "+byTestID("name-step")),
		skipNameStep(),
		chromedp.WaitVisible(byTestID("dashboard")),
	)
	if loc := colleague.location(); !strings.HasPrefix(loc, srv.URL+"/w/acme") {
		t.Fatalf("after single sign-on the colleague is at %q, want Acme", loc)
	}
}
