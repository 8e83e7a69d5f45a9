package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"atrium/internal/config"
)

// TestBrowser_Landing is the public site's browser smoke: headless Chromium
// opens the landing page served by the binary's serve command, sees the
// product and its features, and follows the sign-in call to action to the
// sign-in form.
func TestBrowser_Landing(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv := startServe(t, config.Env{"PUBLIC_APP_NAME": "Acme", "PUBLIC_APP_DESCRIPTION": "Acme keeps teams in step."})
	visitor := newBrowserTabs(t, 60*time.Second, "visitor")[0]

	visitor.do("open the landing page",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(byTestID("home")),
	)
	// The eyebrow is upper-cased by the stylesheet, and innerText shows it so.
	if got, want := visitor.text(byTestID("home-product")), "Acme"; !strings.EqualFold(got, want) {
		t.Errorf("product=%q, want %q", got, want)
	}
	if got, want := visitor.text(byTestID("home-lead")), "Acme keeps teams in step."; got != want {
		t.Errorf("lead=%q, want %q", got, want)
	}
	features, err := chromedp.Run(visitor.ctx, chromedp.Nodes(chromedp.CSSAll(`[data-testid="feature"]`)))
	if err != nil {
		t.Fatalf("find feature blocks: %v", err)
	}
	if got, want := len(features), 3; got != want {
		t.Errorf("%d feature blocks, want %d", got, want)
	}
	// The stylesheet loaded: the call to action is laid out as a button.
	display, err := chromedp.Run(visitor.ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector('[data-testid="cta-signin"]')).display`))
	if err != nil {
		t.Fatalf("read the button's style: %v", err)
	}
	if display == "inline" {
		t.Errorf("sign-in call to action display=%q, want the .btn flex layout (is the stylesheet served?)", display)
	}

	visitor.do("follow the sign-in call to action",
		chromedp.Click(byTestID("cta-signin")),
		chromedp.WaitVisible(byTestID("login-email")),
	)
	if got, want := visitor.location(), srv.URL+"/login"; got != want {
		t.Errorf("sign-in call to action led to %s, want %s", got, want)
	}
}
