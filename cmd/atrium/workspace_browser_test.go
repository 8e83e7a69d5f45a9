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

// TestBrowser_InviteJourney is the team journey in headless Chromium: a
// founder signs in, creates a workspace and invites a teammate; the
// teammate, in a browser context of their own, follows the emailed invite
// through signing in and accepts it; the founder then sees them on the
// members page.
func TestBrowser_InviteJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the invite journey in the browser")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not found at %s (%v): CI=true runs every test; install it with 'apt-get install chromium'", chromiumPath, err)
		}
		t.Skip("chromium not found at " + chromiumPath + ": skipping the invite journey in the browser")
	}
	t.Parallel()

	smtp := mailtest.NewServer(t)
	srv := startServe(t, config.Env{
		"SMTP_HOST": smtp.Host(),
		"SMTP_PORT": strconv.Itoa(smtp.Port()),
		"SMTP_TLS":  "none",
		"SMTP_FROM": "Atrium <no-reply@atrium.test>",
	})
	tabs := newBrowserTabs(t, 90*time.Second, "founder", "teammate")
	founder := browserActor{t: t, who: "founder", ctx: tabs[0]}
	teammate := browserActor{t: t, who: "teammate", ctx: tabs[1]}

	const (
		founderEmail  = "founder@example.com"
		teammateEmail = "teammate@example.com"
	)
	teammateRow := `[data-testid="member-row"][data-email="` + teammateEmail + `"]`
	inviteRow := `[data-testid="invite-row"][data-email="` + teammateEmail + `"]`

	// 1. The founder signs in and creates Acme.
	founder.do("ask for a sign-in link",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(byTestID("login-email")),
		chromedp.SendKeys(byTestID("login-email"), founderEmail),
		chromedp.Click(byTestID("login-submit")),
		chromedp.WaitVisible(byTestID("check-email")),
	)
	founder.do("open the sign-in link and sign in",
		chromedp.Navigate(emailedLink(t, smtp, founderEmail, srv.URL+"/auth/verify?token=")),
		chromedp.WaitVisible(byTestID("verify-submit")),
		chromedp.Click(byTestID("verify-submit")),
		chromedp.WaitVisible(byTestID("workspace-new")),
	)
	if got, want := founder.location(), srv.URL+firstWorkspacePath; got != want {
		t.Errorf("founder signed in at %s, want %s", got, want)
	}
	founder.do("create Acme",
		chromedp.SendKeys(byTestID("workspace-name"), "Acme"),
		chromedp.Click(byTestID("workspace-create-submit")),
		chromedp.WaitVisible(byTestID("dashboard")),
	)
	if got, want := founder.location(), srv.URL+"/w/acme"; got != want {
		t.Errorf("founder's new workspace is at %s, want %s", got, want)
	}
	if got, want := founder.text(byTestID("dashboard-name")), "Acme"; got != want {
		t.Errorf("dashboard names %q, want %q", got, want)
	}

	// 2. The founder invites the teammate as a member.
	founder.do("open Members and invite the teammate",
		chromedp.Click(byTestID("nav-ws-members")),
		chromedp.WaitVisible(byTestID("invite-form")),
		chromedp.SendKeys(byTestID("invite-email"), teammateEmail),
		chromedp.SetValue(byTestID("invite-role"), "member"),
		chromedp.Click(byTestID("invite-submit")),
		chromedp.WaitVisible(chromedp.CSS(inviteRow)),
	)
	if got, want := founder.text(byTestID("flash")), "Invite sent to "+teammateEmail+"."; !strings.Contains(got, want) {
		t.Errorf("flash after inviting is %q, want it to say %q", got, want)
	}
	if got, want := founder.text(chromedp.CSS(inviteRow+" .badge")), "Member"; got != want {
		t.Errorf("pending invite's role is %q, want %q", got, want)
	}

	// 3. The teammate, with cookies of their own, follows the invite.
	teammate.do("open the invite link",
		chromedp.Navigate(emailedLink(t, smtp, teammateEmail, srv.URL+"/invites/")),
		chromedp.WaitVisible(byTestID("login-email")),
	)
	if got, want := teammate.value(byTestID("login-email")), teammateEmail; got != want {
		t.Errorf("sign-in form after the invite link holds %q, want %q", got, want)
	}
	teammate.do("ask for a sign-in link",
		chromedp.Click(byTestID("login-submit")),
		chromedp.WaitVisible(byTestID("check-email")),
	)
	teammate.do("open the sign-in link and sign in",
		chromedp.Navigate(emailedLink(t, smtp, teammateEmail, srv.URL+"/auth/verify?token=")),
		chromedp.WaitVisible(byTestID("verify-submit")),
		chromedp.Click(byTestID("verify-submit")),
		chromedp.WaitVisible(byTestID("invite-page")),
	)
	if got, want := teammate.attr(byTestID("invite-page"), "data-state"), "ok"; got != want {
		t.Fatalf("invite page after signing in is in state %q, want %q", got, want)
	}
	summary := teammate.text(byTestID("invite-summary"))
	for _, want := range []string{"Acme", founderEmail, teammateEmail, "Member"} {
		if !strings.Contains(summary, want) {
			t.Errorf("invite summary %q does not name %q", summary, want)
		}
	}
	teammate.do("accept the invite",
		chromedp.Click(byTestID("invite-accept")),
		chromedp.WaitVisible(byTestID("dashboard")),
	)
	if got, want := teammate.text(byTestID("nav-workspace")), "Acme"; got != want {
		t.Errorf("teammate's workspace bar names %q, want %q", got, want)
	}
	if got, want := teammate.text(byTestID("nav-email")), teammateEmail; !strings.Contains(got, want) {
		t.Errorf("teammate's header shows %q, want it to show %q", got, want)
	}

	// 4. The founder sees the teammate as a member, and no pending invite.
	founder.do("reload Members",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(teammateRow)),
	)
	if got, want := founder.text(chromedp.CSS(teammateRow+` [data-testid="member-role"]`)), "Member"; got != want {
		t.Errorf("teammate's role on Members is %q, want %q", got, want)
	}
	if n := founder.count(inviteRow); n != 0 {
		t.Errorf("%d pending invites for %s after they joined, want 0", n, teammateEmail)
	}
	founder.do("see no pending invites", chromedp.WaitVisible(byTestID("invites-empty")))
}

// emailedLink waits for the next email to to and returns its first link
// that starts with prefix.
func emailedLink(t *testing.T, smtp *mailtest.Server, to, prefix string) string {
	t.Helper()
	msg := smtp.WaitForMessage(t, to, 10*time.Second)
	for _, l := range msg.Links() {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("email %q to %s has no link starting with %s:\n%s", msg.Subject, to, prefix, msg.Text)
	return ""
}

// browserActor is one person's tab. Its methods fail the test, naming the
// person and the step, when the browser cannot do what they ask.
type browserActor struct {
	t   *testing.T
	who string
	ctx context.Context
}

// do runs steps in the tab.
func (a browserActor) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	a.t.Helper()
	if err := chromedp.Do(a.ctx, steps...); err != nil {
		a.t.Fatalf("%s: %s: %v", a.who, what, err)
	}
}

// text returns the trimmed visible text of the first element sel matches.
func (a browserActor) text(sel chromedp.CSS) string {
	a.t.Helper()
	s, err := chromedp.Run(a.ctx, chromedp.Text(sel))
	if err != nil {
		a.t.Fatalf("%s: read the text of %s: %v", a.who, sel, err)
	}
	return strings.TrimSpace(s)
}

// value returns the value of the first form field sel matches.
func (a browserActor) value(sel chromedp.CSS) string {
	a.t.Helper()
	v, err := chromedp.Run(a.ctx, chromedp.Value(sel))
	if err != nil {
		a.t.Fatalf("%s: read the value of %s: %v", a.who, sel, err)
	}
	return v
}

// attr returns an attribute of the first element sel matches.
func (a browserActor) attr(sel chromedp.CSS, name string) string {
	a.t.Helper()
	res, err := chromedp.Run(a.ctx, chromedp.AttributeValue(sel, name))
	if err != nil {
		a.t.Fatalf("%s: read %s of %s: %v", a.who, name, sel, err)
	}
	return res.Value
}

// count returns how many elements of the current page sel matches, without
// waiting for any.
func (a browserActor) count(sel string) int {
	a.t.Helper()
	n, err := chromedp.Run(a.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		a.t.Fatalf("%s: count %s: %v", a.who, sel, err)
	}
	return n
}

// location returns the URL of the tab's page.
func (a browserActor) location() string {
	a.t.Helper()
	loc, err := chromedp.Run(a.ctx, chromedp.Location())
	if err != nil {
		a.t.Fatalf("%s: read the location: %v", a.who, err)
	}
	return loc
}

// newBrowserTabs starts headless Chromium as newBrowser does and opens one
// tab per name. Each tab after the first is in a browser context of its own,
// so no two tabs share cookies. The tabs' contexts end together, timeout from
// now. When the test fails, a screenshot of each tab is saved in the test's
// artifact directory as NAME.png. The browser stops when the test ends.
func newBrowserTabs(t *testing.T, timeout time.Duration, names ...string) []context.Context {
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
	// The allocator's deadline is a hard stop for the browser process; it
	// leaves time for the screenshots after the tabs' deadline.
	allocCtx, cancelAlloc := context.WithTimeout(context.Background(), timeout+30*time.Second)
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
	// The first action on a context starts its browser or tab and binds it
	// to the context it runs under, so it must not run under the deadline.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start %s: %v\n%s", chromiumPath, err, &output)
	}
	deadline := time.Now().Add(timeout)
	tabs := make([]context.Context, len(names))
	for i, name := range names {
		tabCtx := browserCtx
		if i > 0 {
			var cancelTab context.CancelFunc
			tabCtx, cancelTab = chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
			t.Cleanup(cancelTab) // closes the tab and disposes of its browser context
			if err := chromedp.Do(tabCtx); err != nil {
				t.Fatalf("open the %s's tab: %v", name, err)
			}
		}
		ctx, cancel := context.WithDeadline(tabCtx, deadline)
		t.Cleanup(cancel)
		t.Cleanup(func() {
			if t.Failed() {
				saveTabScreenshot(tabCtx, t, name)
			}
		})
		tabs[i] = ctx
	}
	return tabs
}

// saveTabScreenshot saves a full-page screenshot of the tab as NAME.png and
// logs where.
func saveTabScreenshot(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err != nil {
		t.Logf("no screenshot of the %s's tab: %v", name, err)
		return
	}
	path := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Logf("no screenshot of the %s's tab: %v", name, err)
		return
	}
	t.Logf("screenshot of the %s's tab: %s (kept when go test runs with -artifacts)", name, path)
}
