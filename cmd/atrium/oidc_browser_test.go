package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"atrium/internal/config"
	"atrium/internal/oidc/oidctest"
)

// TestBrowser_OIDCSignIn is the journey of a person signing in with an
// identity provider: "Sign in with Acme ID" on the sign-in page, Allow on
// the provider's consent page, back signed in to a new account, which the
// account page shows linked.
func TestBrowser_OIDCSignIn(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	idp := oidctest.New(oidctest.OIDC)
	t.Cleanup(idp.Close)
	idp.Set(func(p *oidctest.Provider) {
		p.Consent = true
		p.User = oidctest.User{Subject: "journey-1", Email: "journey@example.com", EmailVerified: true, Name: "Jo Urney"}
	})
	env := config.Env{"OIDC_ACME_LABEL": "Acme ID"}
	for k, v := range idp.Env("acme") {
		env[k] = v
	}
	srv, _ := startServeWithMail(t, env)
	person := newBrowserTabs(t, 90*time.Second, "person")[0]

	person.do("open the sign-in page",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(byTestID("provider-acme")),
	)
	if got := person.text(byTestID("provider-acme")); got != "Sign in with Acme ID" {
		t.Fatalf("button says %q", got)
	}
	noAxeViolations(t, person, "/login")
	person.do("sign in with Acme ID",
		chromedp.Click(byTestID("provider-acme")),
		chromedp.WaitVisible(chromedp.CSS("#allow")),
	)
	if loc := person.location(); !strings.HasPrefix(loc, idp.Server.URL+"/authorize?") {
		t.Fatalf("consent page at %q, want the provider's", loc)
	}
	person.do("allow at the provider",
		chromedp.Click(chromedp.CSS("#allow")),
		chromedp.WaitVisible(byTestID("workspace-new")+", "+byTestID("name-step")),
		skipNameStep(),
		chromedp.WaitVisible(byTestID("workspace-new")),
	)
	person.do("open the account page",
		chromedp.Navigate(srv.URL+"/settings/account"),
		chromedp.WaitVisible(byTestID("identity-list")),
	)
	if got := person.text(byTestID("identity-name")); got != "Acme ID (journey@example.com)" {
		t.Fatalf("linked account %q", got)
	}
	if got := person.text(byTestID("account-email")); got != "journey@example.com" {
		t.Fatalf("signed in as %q", got)
	}
	noAxeViolations(t, person, "/settings/account")
	person.do("open a used callback",
		chromedp.Navigate(srv.URL+"/auth/oidc/acme/callback?state=used"),
		chromedp.WaitVisible(byTestID("oidc-problem")),
	)
	noAxeViolations(t, person, "the problem page")
}

// noAxeViolations fails the test for every serious or critical axe-core
// finding on the tab's page.
func noAxeViolations(t *testing.T, a browserActor, page string) {
	t.Helper()
	for _, v := range runAxe(t, a) {
		t.Errorf("%s: %s: %s\n  %s", page, v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
	}
}
