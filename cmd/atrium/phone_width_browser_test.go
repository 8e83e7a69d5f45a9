package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axePublicPages and axeSignedInPages are the pages the accessibility test
// visits, signed out and as a workspace owner; the phone-width test visits
// the same.
var (
	axePublicPages   = []string{"/", "/pricing", "/docs", "/docs/install", "/docs/operations", "/terms", "/privacy", "/login", "/no-such-page"}
	axeSignedInPages = []string{"/workspaces/new", "/w/acme", "/w/acme/members", "/w/acme/members?q=zzz", "/w/acme/settings", "/w/acme/audit",
		"/w/acme/billing", "/settings/account", "/settings/workspaces"}
)

// TestBrowser_PhoneWidth opens every page the accessibility test visits on
// a 390 px phone and fails when one is wider than the screen (it would
// scroll sideways, with part of it off-screen), naming the elements that
// stick out. The audit log is checked with a filter error shown too, and
// on a desktop its labels must sit above their fields.
func TestBrowser_PhoneWidth(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	tab := newBrowserTabs(t, 3*time.Minute, "visitor")[0]
	tab.do("phone", chromedp.EmulateViewport(390, 844, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
		p.Mobile = true
	}))
	check := func(paths []string) {
		t.Helper()
		for _, path := range paths {
			tab.do("open "+path, chromedp.Navigate(srv.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
			wide, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`(() => {
				const w = document.documentElement.scrollWidth;
				if (w <= 390) return "";
				const out = Array.from(document.querySelectorAll("main *")).filter(e => e.getBoundingClientRect().right > 390.5)
					.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).split(" ").join(".") : "") + " (right " + Math.round(e.getBoundingClientRect().right) + ")");
				return w + " px wide: " + out.join(", ");
			})()`))
			if err != nil {
				t.Fatalf("measure %s: %v", path, err)
			}
			if wide != "" {
				t.Errorf("%s at 390 px is %s", path, wide)
			}
			shot(t, tab, "phone"+strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(path))
		}
	}
	check(axePublicPages)
	// And every documentation page the docs index links to.
	tab.do("open /docs", chromedp.Navigate(srv.URL+"/docs"), chromedp.WaitReady(chromedp.CSS("body")))
	docs, err := chromedp.Run(tab.ctx, chromedp.Evaluate[[]string](`Array.from(new Set(Array.from(document.querySelectorAll('main a[href^="/docs/"]')).map(a => a.getAttribute("href"))))`))
	if err != nil || len(docs) == 0 {
		t.Fatalf("docs index links %v: %v", docs, err)
	}
	check(docs)
	tab.do("sign in", askForSignInLink(srv.URL, "founder@example.com")...)
	tab.do("open the link", signInWith(emailedLink(t, smtp, "founder@example.com", srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	tab.do("create Acme", createWorkspace("Acme")...)
	check(append(axeSignedInPages, "/w/acme/audit?from=2026-13-01&family=member"))

	// On a desktop, each audit filter label sits right above its field,
	// not at the end of the line before it.
	tab.do("desktop", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(srv.URL+"/w/acme/audit"), chromedp.WaitVisible(byTestID("audit-filter")))
	apart, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-testid="audit-filter"] label')).filter(l => {
		const f = document.getElementById(l.htmlFor), a = l.getBoundingClientRect(), b = f.getBoundingClientRect();
		return !(a.bottom <= b.top + 1 && b.top - a.bottom < 16 && Math.abs(a.left - b.left) < 2);
	}).map(l => l.textContent).join(", ")`))
	if err != nil {
		t.Fatal(err)
	}
	if apart != "" {
		t.Errorf("at 1280 px these audit filter labels are not right above their fields: %s", apart)
	}
	shot(t, tab, "desktop-w-acme-audit")
}
