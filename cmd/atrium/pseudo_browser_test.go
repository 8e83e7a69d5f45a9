package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// overflowScript lists the buttons, tabs, navigation links, labels and
// table cells whose text does not fit their box (scrollWidth beyond
// clientWidth), and says so when the page is wider than the phone.
const overflowScript = `(() => {
	const out = [];
	if (document.documentElement.scrollWidth > window.innerWidth + 0.5) {
		out.push("the page is " + document.documentElement.scrollWidth + " px wide");
	}
	const sel = "button, .btn, [class*='button'], [role=tab], .tabs a, nav a, label, th, td, .badge";
	for (const e of document.querySelectorAll(sel)) {
		if (e.offsetParent === null || e.clientWidth <= 1) continue; // hidden, or visually hidden for screen readers
		if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "auto") {
			out.push(e.tagName.toLowerCase() + (e.dataset.testid ? "[" + e.dataset.testid + "]" : "") +
				" \"" + e.textContent.trim().replace(/\s+/g, " ").slice(0, 40) + "\" (" + e.scrollWidth + " > " + e.clientWidth + ")");
		}
	}
	return out.slice(0, 10).join("; ");
})()`

// TestBrowser_PseudoLocaleOverflow opens the pages a visitor and a
// workspace owner see in the pseudo-locale en-XA (every string about 30%
// longer, accented, bracketed) on a 390 px phone, and fails when text
// overflows its button, tab, link, label or table cell, or the page
// scrolls sideways: the room a longer language needs.
func TestBrowser_PseudoLocaleOverflow(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	tab := newBrowserTabs(t, 4*time.Minute, "visitor")[0]
	if _, err := chromedp.Call(tab.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "en-XA"}}); err != nil {
		t.Fatal(err)
	}
	tab.do("phone",
		chromedp.EmulateViewport(390, 844, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
			p.Mobile = true
		}),
	)
	check := func(paths []string) {
		t.Helper()
		for _, path := range paths {
			tab.do("open "+path, chromedp.Navigate(srv.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
			lang, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
			if err != nil || lang != "en-XA" {
				t.Fatalf("%s: <html lang>=%q (%v), want en-XA", path, lang, err)
			}
			over, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string](overflowScript))
			if err != nil {
				t.Fatalf("measure %s: %v", path, err)
			}
			if over != "" {
				t.Errorf("%s in en-XA at 390 px: %s", path, over)
			}
			shot(t, tab, "pseudo-phone"+strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(path))
		}
	}
	check(axePublicPages)
	tab.do("sign in", askForSignInLink(srv.URL, "founder@example.com")...)
	tab.do("open the link", signInWith(emailedLink(t, smtp, "founder@example.com", srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	tab.do("create Acme", createWorkspace("Acme")...)
	tab.do("invite someone",
		chromedp.Navigate(srv.URL+"/w/acme/members"),
		chromedp.SendKeys(byTestID("invite-email"), "teammate@example.com"),
		chromedp.Click(byTestID("invite-submit")),
		chromedp.WaitVisible(byTestID("invite-list")),
	)
	check(append(axeSignedInPages, "/w/acme/settings/api-keys", "/w/acme/settings/webhooks", "/w/acme/settings/sso",
		"/settings/account/two-factor/app"))

	// The harness itself: a button too narrow for its text is found.
	tab.do("squeeze a button", chromedp.Navigate(srv.URL+"/w/acme/members"), chromedp.WaitReady(chromedp.CSS("body")))
	over, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`(() => {
		const b = document.createElement("button");
		b.textContent = "An unusually long label that cannot fit";
		b.style.cssText = "width: 40px; white-space: nowrap; overflow: hidden";
		document.querySelector("main").appendChild(b);
		return `+overflowScript+`;
	})()`))
	if err != nil || !strings.Contains(over, "unusually long") {
		t.Fatalf("the overflow check missed a squeezed button: %q (%v)", over, err)
	}
}
