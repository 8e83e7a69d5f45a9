package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"atrium/internal/config"
	"atrium/internal/mail/mailtest"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// byTestID selects the first element with this data-testid.
func byTestID(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

// TestBrowser_SignInJourney is the browser smoke: headless Chromium signs
// in with the emailed magic link against the binary's serve command, lands
// on the first-workspace page, looks at the account page and signs out.
func TestBrowser_SignInJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the browser smoke")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not found at %s (%v): CI=true runs every test; install it with 'apt-get install chromium'", chromiumPath, err)
		}
		t.Skip("chromium not found at " + chromiumPath + ": skipping the browser smoke")
	}
	t.Parallel()

	smtp := mailtest.NewServer(t)
	srv := startServe(t, config.Env{
		"SMTP_HOST": smtp.Host(),
		"SMTP_PORT": strconv.Itoa(smtp.Port()),
		"SMTP_TLS":  "none",
		"SMTP_FROM": "Atrium <no-reply@atrium.test>",
	})
	ctx := newBrowser(t)

	// do runs steps, failing the test with what they were for.
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
	location := func() string {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatalf("read the location: %v", err)
		}
		return loc
	}

	const email = "margaret@example.com"
	do("ask for a sign-in link",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(byTestID("login-email")),
		chromedp.SendKeys(byTestID("login-email"), email),
		chromedp.Click(byTestID("login-submit")),
		chromedp.WaitVisible(byTestID("check-email")),
	)
	if got := text("check-email-address"); got != email {
		t.Fatalf("check-email page names %q, want %q", got, email)
	}

	msg := smtp.WaitForMessage(t, email, 10*time.Second)
	links := msg.Links()
	if len(links) == 0 || !strings.HasPrefix(links[0], srv.URL+"/auth/verify?token=") {
		t.Fatalf("sign-in email has no link to %s/auth/verify:\n%s", srv.URL, msg.Text)
	}
	do("open the link and sign in",
		chromedp.Navigate(links[0]),
		chromedp.WaitVisible(byTestID("verify-submit")),
		chromedp.Click(byTestID("verify-submit")),
		chromedp.WaitVisible(byTestID("workspace-new")),
	)
	// A new user goes through /app to the form for their first workspace.
	if got, want := location(), srv.URL+firstWorkspacePath; got != want {
		t.Errorf("signed in at %s, want %s", got, want)
	}
	if got := text("nav-email"); !strings.Contains(got, email) {
		t.Errorf("header shows %q, want it to show %q", got, email)
	}

	do("open the account page",
		chromedp.Navigate(srv.URL+"/settings/account"),
		chromedp.WaitVisible(byTestID("sessions")),
	)
	rows, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(`[data-testid="session-row"]`)))
	if err != nil {
		t.Fatalf("find session rows: %v", err)
	}
	if got, want := len(rows), 1; got != want {
		t.Errorf("%d session rows, want %d", got, want)
	}
	if got, want := text("this-device"), "This device"; got != want {
		t.Errorf("session badge %q, want %q", got, want)
	}

	do("sign out",
		chromedp.Click(chromedp.CSS(`form[data-testid="logout"] [data-testid="logout-submit"]`)),
		chromedp.WaitVisible(byTestID("login")),
	)
	if got, want := location(), srv.URL+"/login"; got != want {
		t.Errorf("signed out at %s, want %s", got, want)
	}
	if got := text("flash"); !strings.Contains(got, "signed out") {
		t.Errorf("flash after signing out is %q, want it to say \"signed out\"", got)
	}
}

// newBrowser starts headless Chromium for the test and returns a tab's
// context, bounded to 60s. When the test fails, a screenshot of the tab is
// saved in the test's artifact directory. The browser stops when the test
// ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	// The profile directory is created before the cleanups below are
	// registered, so it is removed after the browser has exited.
	profile := t.TempDir()
	var output, logs syncBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(&output),
	)
	// The allocator's deadline is a hard stop for the browser process.
	allocCtx, cancelAlloc := context.WithTimeout(context.Background(), 90*time.Second)
	allocCtx, cancelExec := chromedp.NewExecAllocator(allocCtx, opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx,
		chromedp.WithLogf(func(f string, a ...any) { fmt.Fprintf(&logs, f+"\n", a...) }),
		chromedp.WithErrorf(func(f string, a ...any) { fmt.Fprintf(&logs, "ERROR: "+f+"\n", a...) }),
	)
	t.Cleanup(func() {
		cancelBrowser()
		cancelExec() // waits for the browser process to exit
		cancelAlloc()
		if t.Failed() {
			t.Logf("chromedp log:\n%s\nchromium output (last lines, without D-Bus noise):\n%s", &logs, tailLines(output.String(), 30))
		}
	})
	// The first action starts the browser; it must not run under the
	// per-test timeout below, which would then stop the browser.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start %s: %v\n%s", chromiumPath, err, &output)
	}
	ctx, cancel := context.WithTimeout(browserCtx, 60*time.Second)
	t.Cleanup(cancel)
	t.Cleanup(func() {
		if t.Failed() {
			saveScreenshot(browserCtx, t)
		}
	})
	return ctx
}

// saveScreenshot saves a full-page screenshot of the tab and logs where.
func saveScreenshot(ctx context.Context, t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	path := filepath.Join(t.ArtifactDir(), "failure.png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	t.Logf("screenshot of the failure: %s (kept when go test runs with -artifacts)", path)
}

// tailLines returns the last n lines of s, leaving out the D-Bus complaints
// Chromium prints in containers without a system bus.
func tailLines(s string, n int) string {
	var keep []string
	for l := range strings.Lines(s) {
		if !strings.Contains(l, "dbus") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep[max(0, len(keep)-n):], "")
}
