package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TestBrowser_RecoveryCodesTools: the recovery codes page shows, with
// scripts on, Copy (the clipboard then holds the codes, one a line),
// Download .txt (a file with the same lines) and Print buttons over the
// codes; reloading the page shows the codes no more and offers new ones.
// Both pages are checked with axe-core.
func TestBrowser_RecoveryCodesTools(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	tab := newBrowserTabs(t, 3*time.Minute, "owner")[0]
	tab.do("ask for a link", askForSignInLink(srv.URL, "saver@example.com")...)
	tab.do("sign in", signInWith(emailedLink(t, smtp, "saver@example.com", srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	tab.do("open the set-up page",
		chromedp.Navigate(srv.URL+"/settings/account/two-factor/app"),
		chromedp.WaitVisible(byTestID("totp-qr")),
	)
	secret := strings.ReplaceAll(tab.text(byTestID("totp-secret")), " ", "")
	code, err := totp.GenerateCodeCustom(secret, time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	tab.do("turn the app on",
		chromedp.SendKeys(byTestID("totp-code"), code),
		chromedp.Click(byTestID("totp-confirm")),
		chromedp.WaitVisible(byTestID("recovery-tools")),
	)
	axe := func(where string) {
		t.Helper()
		for _, v := range runAxe(t, tab) {
			t.Errorf("%s: %s: %s\n  %s", where, v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
		}
	}
	axe("recovery codes with their buttons")
	codes := strings.Fields(tab.text(byTestID("recovery-codes")))
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10", len(codes))
	}
	want := strings.Join(codes, "\n") + "\n"

	tab.do("allow the clipboard",
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			for _, name := range []string{"clipboard-read", "clipboard-write"} {
				if _, err := chromedp.Call(ctx, browser.SetPermission, browser.SetPermissionParams{
					Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: srv.URL}); err != nil {
					return err
				}
			}
			return nil
		}),
		chromedp.Click(byTestID("recovery-copy")),
	)
	poll(t, tab, "the copy is confirmed", `document.querySelector('[data-testid="recovery-status"]').textContent.startsWith("Copied")`)
	clip, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read the clipboard: %v", err)
	}
	if clip != want {
		t.Fatalf("clipboard holds %q, want the codes one a line %q", clip, want)
	}

	dir := t.TempDir()
	progress := chromedp.Events(tab.ctx, browser.DownloadProgress)
	names := chromedp.Events(tab.ctx, browser.DownloadWillBegin)
	tab.do("download the codes",
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)})
			return err
		}),
		chromedp.Click(byTestID("recovery-download")),
	)
	var suggested string
	for ev, err := range names {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		suggested = ev.SuggestedFilename
		break
	}
	if !strings.HasSuffix(suggested, "recovery-codes.txt") {
		t.Errorf("downloaded file is named %q, want …recovery-codes.txt", suggested)
	}
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was canceled")
		}
	}
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read the downloaded file: %v", err)
	}
	if string(body) != want {
		t.Fatalf("downloaded file holds %q, want %q", body, want)
	}

	// Print opens the browser's print dialog, which headless Chromium has
	// not: the page's window.print is watched instead.
	if _, err := chromedp.Run(tab.ctx, chromedp.Evaluate[bool](`window.__printed = false; window.print = () => { window.__printed = true; }; true`)); err != nil {
		t.Fatal(err)
	}
	tab.do("print the codes", chromedp.Click(byTestID("recovery-print")))
	poll(t, tab, "the print dialog is asked for", `window.__printed === true`)

	tab.do("reload the page",
		chromedp.Reload(),
		chromedp.WaitVisible(byTestID("recovery-codes-gone")),
	)
	axe("recovery codes shown already")
	if tab.present(byTestID("recovery-codes")) {
		t.Fatal("a reload showed the codes again")
	}
	if !tab.present(byTestID("recovery-regenerate")) {
		t.Error("after a reload the page does not offer new codes")
	}
}

// poll waits until expr is true in the tab.
func poll(t *testing.T, tab browserActor, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(tab.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
