package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"atrium/internal/config"
)

// viewports are the widths the customer-copy journey looks at: a desktop
// and a phone.
var viewports = []struct {
	name   string
	w, h   int64
	mobile bool
}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}}

// useViewport sizes the tab as vp and sets its colour scheme.
func useViewport(t *testing.T, a browserActor, w, h int64, mobile bool, scheme string) {
	t.Helper()
	a.do("size the window", chromedp.EmulateViewport(w, h, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
		p.Mobile = mobile
	}))
	if _, err := chromedp.Call(a.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
		t.Fatal(err)
	}
}

// shoot saves full-page screenshots of the tab's page at both viewports
// (phone also in dark) as NAME-VIEWPORT.png in the test's artifact
// directory (kept with go test -artifacts), then leaves the tab on the
// desktop viewport.
func shoot(t *testing.T, a browserActor, name string) {
	t.Helper()
	for _, vp := range viewports {
		schemes := []string{"light"}
		if vp.mobile {
			schemes = append(schemes, "dark")
		}
		for _, scheme := range schemes {
			useViewport(t, a, vp.w, vp.h, vp.mobile, scheme)
			buf, err := chromedp.Run(a.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot %s: %v", name, err)
			}
			file := name + "-" + vp.name
			if scheme == "dark" {
				file += "-dark"
			}
			if err := os.WriteFile(filepath.Join(t.ArtifactDir(), file+".png"), buf, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	useViewport(t, a, 1280, 800, false, "light")
}

// TestBrowser_CustomerCopy is what a customer of a production server
// without billing meets: a name asked once after the first sign-in, no
// Billing tab or upgrade prompt, a pricing page without a buy button, a
// phone menu listing "All workspaces" once, an API key form without a
// fieldset frame, a wrong delete confirmation that keeps what was typed,
// and an audit entry that reads in names with its hashes folded away.
func TestBrowser_CustomerCopy(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, config.Env{"APP_ENV": "production"})
	ada := newBrowserTabs(t, 3*time.Minute, "ada")[0]
	const email = "ada@example.com"
	ada.do("ask for a link", askForSignInLink(srv.URL, email)...)
	if got := ada.words(byTestID("check-email")); strings.Contains(got, "terminal") {
		t.Errorf("check your email says %q", got)
	}
	shoot(t, ada, "check-email")

	ada.do("open the link", chromedp.Navigate(emailedLink(t, smtp, email, srv.URL+"/auth/verify?token=")),
		chromedp.WaitVisible(byTestID("verify-submit")), chromedp.Click(byTestID("verify-submit")),
		chromedp.WaitVisible(byTestID("name-step")))
	shoot(t, ada, "name-step")
	// Save with nothing typed: the error sits under the field and offers Skip.
	ada.do("save without a name",
		chromedp.Click(byTestID("name-step-save")),
		chromedp.WaitVisible(chromedp.CSS("#field-name-error")))
	if got := ada.attr(byTestID("name-step-name"), "aria-describedby"); !strings.Contains(got, "field-name-error") {
		t.Errorf("the name field is described by %q, want its error", got)
	}
	if got := ada.text(chromedp.CSS("#field-name-error")); !strings.Contains(got, "Skip") {
		t.Errorf("error %q, want it to offer Skip", got)
	}
	shoot(t, ada, "name-step-error")
	ada.do("give a name",
		chromedp.SendKeys(byTestID("name-step-name"), "Ada Lovelace"),
		chromedp.Click(byTestID("name-step-save")),
		chromedp.WaitVisible(byTestID("workspace-new")))
	ada.do("create Acme", createWorkspace("Acme")...)

	if ada.present(byTestID("nav-ws-billing")) || ada.present(`[data-testid="checklist-item"][data-key="upgrade"]`) {
		t.Error("the dashboard offers Billing or an upgrade on a server without billing")
	}
	if got := ada.words(chromedp.CSS("main")); strings.Contains(got, "Upgrade") {
		t.Errorf("the dashboard says Upgrade: %q", got)
	}
	shoot(t, ada, "dashboard")

	ada.do("open pricing", chromedp.Navigate(srv.URL+"/pricing"), chromedp.WaitVisible(byTestID("pricing")))
	if ada.present(byTestID("pricing-upgrade")) {
		t.Error("the pricing page has a buy button")
	}
	shoot(t, ada, "pricing")

	// The phone menu inside a workspace.
	useViewport(t, ada, 390, 844, true, "light")
	ada.do("open the phone menu", chromedp.Navigate(srv.URL+"/w/acme/members"),
		chromedp.Click(byTestID("phone-menu-button")), chromedp.WaitVisible(byTestID("m-nav-ws-members")))
	n, err := chromedp.Run(ada.ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('[data-testid="phone-menu"] a')]
		.filter(a => a.textContent.trim() === "All workspaces" && a.getClientRects().length > 0).length`))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("the phone menu shows All workspaces %d times, want once", n)
	}
	buf, err := chromedp.Run(ada.ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(t.ArtifactDir(), "phone-menu-phone.png"), buf, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	useViewport(t, ada, 1280, 800, false, "light")

	ada.do("open API keys", chromedp.Navigate(srv.URL+"/w/acme/settings/api-keys"), chromedp.WaitVisible(byTestID("api-key-scope-read")))
	border, err := chromedp.Run(ada.ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('[data-testid="api-key-scope-read"]').closest("fieldset")).borderTopStyle`))
	if err != nil {
		t.Fatal(err)
	}
	if border != "none" {
		t.Errorf("the Scopes fieldset has a %s border, want none", border)
	}
	shoot(t, ada, "api-keys")

	ada.do("mistype the workspace name", chromedp.Navigate(srv.URL+"/w/acme/settings"),
		chromedp.WaitVisible(byTestID("delete-confirm")),
		chromedp.SendKeys(byTestID("delete-confirm"), "Acm"),
		chromedp.Click(byTestID("delete-submit")),
		chromedp.WaitVisible(chromedp.CSS("#field-confirm-error")))
	if got := ada.value(byTestID("delete-confirm")); got != "Acm" {
		t.Errorf("the confirmation holds %q after the error, want what was typed", got)
	}
	shoot(t, ada, "delete-confirm-error")

	ada.do("open the newest audit entry", chromedp.Navigate(srv.URL+"/w/acme/audit"),
		chromedp.Click(byTestID("audit-detail-link")), chromedp.WaitVisible(byTestID("audit-entry")))
	if got := ada.text(byTestID("audit-entry-who")); got != "Ada Lovelace <ada@example.com>" {
		t.Errorf("who=%q, want Ada by name and email", got)
	}
	if visible, err := chromedp.Run(ada.ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="audit-entry-hash"]').checkVisibility()`)); err != nil || visible {
		t.Errorf("the hash shows before Integrity details is opened (err %v)", err)
	}
	shoot(t, ada, "audit-entry")
}
