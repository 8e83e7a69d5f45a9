package main

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"atrium/internal/config"
)

// TestBrowser_Landing is the public site's browser smoke: headless Chromium
// opens the landing page served by the binary's serve command, sees the
// product and its features, and follows the sign-in call to action to the
// sign-in form.
func TestBrowser_Landing(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the landing page in the browser")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not found at %s (%v): CI=true runs every test; install it with 'apt-get install chromium'", chromiumPath, err)
		}
		t.Skip("chromium not found at " + chromiumPath + ": skipping the landing page in the browser")
	}
	t.Parallel()

	srv := startServe(t, config.Env{"PUBLIC_APP_NAME": "Acme", "PUBLIC_APP_DESCRIPTION": "Acme keeps teams in step."})
	ctx := newBrowser(t)

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(byTestID(id)))
		if err != nil {
			t.Fatalf("read [data-testid=%s]: %v", id, err)
		}
		return strings.TrimSpace(s)
	}

	do("open the landing page",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(byTestID("home")),
	)
	// The eyebrow is upper-cased by the stylesheet, and innerText shows it so.
	if got, want := text("home-product"), "Acme"; !strings.EqualFold(got, want) {
		t.Errorf("product=%q, want %q", got, want)
	}
	if got, want := text("home-lead"), "Acme keeps teams in step."; got != want {
		t.Errorf("lead=%q, want %q", got, want)
	}
	features, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(`[data-testid="feature"]`)))
	if err != nil {
		t.Fatalf("find feature blocks: %v", err)
	}
	if got, want := len(features), 3; got != want {
		t.Errorf("%d feature blocks, want %d", got, want)
	}
	// The stylesheet loaded: the call to action is laid out as a button.
	display, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector('[data-testid="cta-signin"]')).display`))
	if err != nil {
		t.Fatalf("read the button's style: %v", err)
	}
	if display == "inline" {
		t.Errorf("sign-in call to action display=%q, want the .btn flex layout (is the stylesheet served?)", display)
	}

	do("follow the sign-in call to action",
		chromedp.Click(byTestID("cta-signin")),
		chromedp.WaitVisible(byTestID("login-email")),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("read the location: %v", err)
	}
	if got, want := loc, srv.URL+"/login"; got != want {
		t.Errorf("sign-in call to action led to %s, want %s", got, want)
	}
}
