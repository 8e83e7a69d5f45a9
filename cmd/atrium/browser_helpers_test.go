package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"atrium/internal/config"
	"atrium/internal/mail/mailtest"
)

// chromeCandidates are the usual places of Chromium and Chrome on Linux
// (Debian, Ubuntu, Fedora, snap) and macOS, in the order they are tried.
var chromeCandidates = []string{
	"/usr/bin/chromium",
	"/usr/bin/chromium-browser",
	"/usr/bin/google-chrome",
	"/usr/bin/google-chrome-stable",
	"/snap/bin/chromium",
	"/Applications/Chromium.app/Contents/MacOS/Chromium",
	"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
}

// findChrome returns the browser the tests drive: CHROME_PATH when set
// (and it must exist), else the first of chromeCandidates that exists.
func findChrome(getenv func(string) string, exists func(string) bool) (string, error) {
	if p := getenv("CHROME_PATH"); p != "" {
		if !exists(p) {
			return "", fmt.Errorf("CHROME_PATH=%s does not exist", p)
		}
		return p, nil
	}
	for _, p := range chromeCandidates {
		if exists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium or Chrome in %s; set CHROME_PATH", strings.Join(chromeCandidates, ", "))
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// chromePath is the browser found on this machine, or "" when none is.
func chromePath() string {
	p, _ := findChrome(os.Getenv, fileExists)
	return p
}

// byTestID selects the first element with this data-testid.
func byTestID(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

// requireChromium skips a browser test under -short, and when findChrome
// finds no browser. With CI=true, which runs every test, a missing browser
// fails the test instead.
func requireChromium(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the browser test")
	}
	if _, err := findChrome(os.Getenv, fileExists); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v: CI=true runs every test; install it with 'apt-get install chromium'", err)
		}
		t.Skip(err.Error() + ": skipping the browser test")
	}
}

// startServeWithMail starts the binary's serve command sending its email to
// a new mailtest server, with the settings in extra on top.
func startServeWithMail(t *testing.T, extra config.Env) (*testServer, *mailtest.Server) {
	t.Helper()
	smtp := mailtest.NewServer(t)
	env := config.Env{"SMTP_HOST": smtp.Host(), "SMTP_PORT": strconv.Itoa(smtp.Port()), "SMTP_TLS": "none", "SMTP_FROM": "Atrium <no-reply@atrium.test>"}
	maps.Copy(env, extra)
	return startServe(t, env), smtp
}

// newBrowserTabs starts headless Chromium for the test and opens one tab per
// name, returned as the actor of that name. Each tab after the first is in a
// browser context of its own, so no two tabs share cookies. The tabs'
// contexts end together, timeout from now. When the test fails, a screenshot
// of each tab is saved in the test's artifact directory as NAME.png. The
// browser stops when the test ends.
func newBrowserTabs(t *testing.T, timeout time.Duration, names ...string) []browserActor {
	t.Helper()
	// The profile directory is created before the cleanups below are
	// registered, so it is removed after the browser has exited.
	profile := t.TempDir()
	var output, logs syncBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromePath()),
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
		t.Fatalf("start %s: %v\n%s", chromePath(), err, &output)
	}
	deadline := time.Now().Add(timeout)
	tabs := make([]browserActor, len(names))
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
				saveScreenshot(tabCtx, t, name)
			}
		})
		tabs[i] = browserActor{t: t, who: name, ctx: ctx}
	}
	return tabs
}

// saveScreenshot saves a full-page screenshot of the tab as NAME.png in the
// test's artifact directory and logs where.
func saveScreenshot(ctx context.Context, t *testing.T, name string) {
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

// askForSignInLink are the steps that ask the sign-in page at baseURL for a
// link to email, up to the page that says to check the inbox.
func askForSignInLink(baseURL, email string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(baseURL + "/login"),
		chromedp.WaitVisible(byTestID("login-email")),
		chromedp.SendKeys(byTestID("login-email"), email),
		chromedp.Click(byTestID("login-submit")),
		chromedp.WaitVisible(byTestID("check-email")),
	}
}

// signInWith are the steps that open an emailed sign-in link and confirm it,
// up to the page signing in leads to, which landing selects. A first
// sign-in's name step is skipped on the way.
func signInWith(link string, landing chromedp.CSS) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(link),
		chromedp.WaitVisible(byTestID("verify-submit")),
		chromedp.Click(byTestID("verify-submit")),
		chromedp.WaitVisible(landing + ", " + byTestID("name-step")),
		skipNameStep(),
		chromedp.WaitVisible(landing),
	}
}

// skipNameStep presses Skip when the page is the name step a first
// sign-in meets, and does nothing on any other page.
func skipNameStep() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		var none chromedp.Void
		onStep, err := chromedp.Evaluate[bool](`document.querySelector('[data-testid="name-step"]') !== null`)(ctx, t)
		if err != nil || !onStep {
			return none, err
		}
		if _, err := chromedp.Click(byTestID("name-step-skip"))(ctx, t); err != nil {
			return none, err
		}
		_, err = chromedp.WaitNotPresent(byTestID("name-step"))(ctx, t)
		return none, err
	}
}

// createWorkspace are the steps that fill in the new-workspace form on the
// page and submit it, up to the new workspace's dashboard.
func createWorkspace(name string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(byTestID("workspace-name"), name),
		chromedp.Click(byTestID("workspace-create-submit")),
		chromedp.WaitVisible(byTestID("dashboard")),
	}
}

// browserActor is one person's tab. Its methods fail the test, naming the
// person and the step, when the browser cannot do what they ask.
type browserActor struct {
	t   *testing.T
	who string
	ctx context.Context
}

// do runs steps in the tab, one after another.
//
// A step that follows a click on a link can ask about a node of the page
// being left: Chromium answers "Could not find node with given id" when the
// new page replaces the document between the query and the action. Nothing
// was done to the page then, so the step is tried again on the new page.
func (a browserActor) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	a.t.Helper()
	for _, step := range steps {
		err := chromedp.Do(a.ctx, step)
		for try := 0; err != nil && staleNode(err) && try < 20; try++ {
			time.Sleep(50 * time.Millisecond)
			err = chromedp.Do(a.ctx, step)
		}
		if err != nil {
			a.t.Fatalf("%s: %s: %v", a.who, what, err)
		}
	}
}

// staleNode reports whether err is Chromium's answer about a node of a
// document that has since been replaced.
func staleNode(err error) bool {
	return strings.Contains(err.Error(), "Could not find node with given id")
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

// words returns the visible text of the first element sel matches with each
// run of white space in it, a line break included, made one space.
func (a browserActor) words(sel chromedp.CSS) string {
	a.t.Helper()
	return strings.Join(strings.Fields(a.text(sel)), " ")
}

// textContent returns the trimmed text of the first element sel matches,
// shown or not (the header's menus keep the signed-in address folded away).
func (a browserActor) textContent(sel chromedp.CSS) string {
	a.t.Helper()
	s, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](fmt.Sprintf("(document.querySelector(%q) || {}).textContent || ''", sel)))
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
func (a browserActor) count(sel chromedp.CSS) int {
	a.t.Helper()
	n, err := chromedp.Run(a.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		a.t.Fatalf("%s: count %s: %v", a.who, sel, err)
	}
	return n
}

// present reports whether sel matches an element of the current page,
// without waiting for one.
func (a browserActor) present(sel chromedp.CSS) bool {
	a.t.Helper()
	return a.count(sel) > 0
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

func TestFindChrome(t *testing.T) {
	t.Parallel()
	mac := "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
	tests := []struct {
		name    string
		env     map[string]string
		present []string
		want    string
		wantErr bool
	}{
		{name: "Debian", present: []string{"/usr/bin/chromium"}, want: "/usr/bin/chromium"},
		{name: "Ubuntu", present: []string{"/usr/bin/chromium-browser"}, want: "/usr/bin/chromium-browser"},
		{name: "Chrome", present: []string{"/usr/bin/google-chrome-stable"}, want: "/usr/bin/google-chrome-stable"},
		{name: "MacOS", present: []string{mac}, want: mac},
		{name: "ChromiumFirst", present: []string{mac, "/usr/bin/chromium"}, want: "/usr/bin/chromium"},
		{name: "ChromePath", env: map[string]string{"CHROME_PATH": "/opt/chrome/chrome"}, present: []string{"/opt/chrome/chrome", "/usr/bin/chromium"}, want: "/opt/chrome/chrome"},
		{name: "ChromePathMissing", env: map[string]string{"CHROME_PATH": "/opt/none"}, present: []string{"/usr/bin/chromium"}, wantErr: true},
		{name: "None", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findChrome(func(k string) string { return tt.env[k] }, func(p string) bool { return slices.Contains(tt.present, p) })
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("findChrome=%q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
