// Command screenshots builds Atrium, seeds a temporary SQLite database with
// the demo data, signs in as the demo founder through the magic link the
// stub mailer logs, and saves PNGs of the main pages with headless Chromium:
// desktop (1280×800) and phone (390×844), light and dark.
//
//	go run ./scripts/screenshots -out web/screenshots
//
// Names are PAGE-VIEWPORT-SCHEME.png, e.g. dashboard-desktop-dark.png.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/pquerna/otp/totp"

	"atrium/internal/app"
	"atrium/internal/dnstest"
	"atrium/internal/store"
)

// founder is the seeded account the pages are taken as.
const founder = "founder@example.com"

// shot is one page to capture.
type shot struct {
	name, path string
	signedIn   bool
}

var shots = []shot{
	{"landing", "/", false},
	{"sign-in", "/login", false},
	{"api-docs", "/api/v1/docs", false},
	{"pricing", "/pricing", false},
	{"pricing-annual", "/pricing?interval=year", false},
	{"dashboard", "/w/acme", true},
	{"dashboard-free", "/w/demo-studio", true},
	{"members", "/w/acme/members", true},
	// The invite form; with STRIPE_* set and a per-seat plan it shows
	// what one more seat costs.
	{"members-invite", "/w/acme/members#invite", true},
	{"audit", "/w/acme/audit", true},
	{"billing", "/w/acme/billing", true},
	{"billing-free", "/w/demo-studio/billing", true},
	{"audit-free", "/w/demo-studio/audit", true},
	{"webhooks", "/w/acme/settings/webhooks", true},
	{"account", "/settings/account", true},
	{"totp-setup", "/settings/account/two-factor/app", true},
	{"sso-free", "/w/demo-studio/settings/sso", true},
}

// volumeShots are taken only with -volume: pages of the generated data
// set's large workspace.
var volumeShots = []shot{
	{"audit-big", "/w/big/audit", true},
}

// viewport is a window size and whether it emulates a phone.
type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

var viewports = []viewport{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}}

func main() {
	out := flag.String("out", "web/screenshots", "folder the PNGs are written to")
	only := flag.String("pages", "", "comma-separated page names to capture (default: all)")
	chromium := flag.String("chromium", "/usr/bin/chromium", "Chromium executable")
	volume := flag.String("volume", "", "also seed this generated data `set` (small or large) and capture its large workspace's pages")
	lang := flag.String("lang", "", "ask for this language (Accept-Language: de, en-XA); the names end in -LANG")
	flag.Parse()
	if *volume != "" {
		shots = append(shots, volumeShots...)
	}
	if err := run(*out, *only, *chromium, *volume, *lang); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(out, only, chromium, volume, lang string) error {
	tmp, err := os.MkdirTemp("", "atrium-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "atrium")
	build := exec.Command("go", "build", "-o", bin, "./cmd/atrium")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	// The TXT records that verify single sign-on domains come from a DNS
	// server of the script's own.
	txt, err := dnstest.Start()
	if err != nil {
		return err
	}
	defer txt.Close()
	env := append(os.Environ(), "APP_ENV=development", "DATABASE_URL=sqlite:"+filepath.Join(tmp, "atrium.db"),
		"PORT="+strconv.Itoa(port), "APP_URL="+base, "LOG_LEVEL=info",
		"RATE_LIMIT_MAX=1000000", "LOGIN_RATE_LIMIT_MAX=1000000", "SSO_DNS_RESOLVER="+txt.Addr)
	seed := exec.Command(bin, "--env-file", "", "seed")
	seed.Env = env
	if b, err := seed.CombinedOutput(); err != nil {
		return fmt.Errorf("seed: %w\n%s", err, b)
	}
	if volume != "" {
		seed := exec.Command(bin, "--env-file", "", "seed", "--volume", volume)
		seed.Env = env
		if b, err := seed.CombinedOutput(); err != nil {
			return fmt.Errorf("seed --volume %s: %w\n%s", volume, err, b)
		}
	}
	srv := exec.Command(bin, "--env-file", "", "serve")
	srv.Env = env
	pr, pw := io.Pipe()
	srv.Stdout, srv.Stderr = pw, pw
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	links := make(chan string, 4)
	go readLinks(pr, links)
	if err := waitReady(base); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(filepath.Join(tmp, "profile")))
	allocCtx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	suffix := ""
	if lang != "" {
		// The demo founder keeps no language of their own, so the
		// browser's is the one the pages use.
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": lang}}); err != nil {
			return err
		}
		suffix = "-" + lang
	}
	want := map[string]bool{}
	for n := range strings.SplitSeq(only, ",") {
		if n != "" {
			want[n] = true
		}
	}
	// The signed-out pages first: signed in, /login goes on to the app.
	for _, signedIn := range []bool{false, true} {
		if signedIn {
			if err := signIn(ctx, base, founder, links, ""); err != nil {
				return err
			}
		}
		for _, s := range shots {
			if s.signedIn != signedIn || len(want) > 0 && !want[s.name] {
				continue
			}
			for _, vp := range viewports {
				for _, scheme := range []string{"light", "dark"} {
					path := filepath.Join(out, fmt.Sprintf("%s-%s-%s%s.png", s.name, vp.name, scheme, suffix))
					err := capture(ctx, base+s.path, vp, scheme, path)
					if err != nil && strings.Contains(err.Error(), "ERR_ABORTED") {
						err = capture(ctx, base+s.path, vp, scheme, path) // a navigation was still in flight
					}
					if err != nil {
						return fmt.Errorf("%s: %w", path, err)
					}
					fmt.Println(path)
				}
			}
		}
	}
	if len(want) == 0 || want["sso"] {
		if err := ssoShots(ctx, base, out, txt, func(args ...string) error {
			c := exec.Command(bin, append([]string{"--env-file", ""}, args...)...)
			c.Env = env
			if b, err := c.CombinedOutput(); err != nil {
				return fmt.Errorf("%v: %w\n%s", args, err, b)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if len(want) == 0 || want["billing"] || want["dunning"] {
		if err := dunningShots(ctx, base, out, filepath.Join(tmp, "atrium.db")); err != nil {
			return err
		}
	}
	if len(want) == 0 || want["two-factor"] {
		return twoFactorShots(ctx, base, out, links)
	}
	return nil
}

// dunningShots puts Acme in each billing state a customer can see, by
// writing its billing columns as the webhook and the restriction job
// would, and captures its billing page and dashboard: a trial with 9 days
// left, a failed payment within the grace period, the restriction after
// it, and a subscription cancelling at the period end. Acme is left as it
// was seeded (active).
func dunningShots(ctx context.Context, base, out, dbPath string) error {
	db, err := store.Open(ctx, store.SQLite, dbPath, store.Options{MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now().UTC()
	const invoice = "https://invoice.stripe.com/i/acct_demo/test_demo"
	// Each state: status, trial_end, payment_failed_at, payment_invoice_url, restricted_at,
	// cancel_at_period_end.
	states := []struct {
		name string
		set  []any
	}{
		{"trial", []any{app.SubTrialing, now.Add(9*24*time.Hour - time.Hour), nil, "", nil, false}},
		{"past-due", []any{app.SubPastDue, nil, now.Add(-2 * 24 * time.Hour), invoice, nil, false}},
		{"restricted", []any{app.SubPastDue, nil, now.Add(-9 * 24 * time.Hour), invoice, now.Add(-2 * 24 * time.Hour), false}},
		{"cancelling", []any{app.SubActive, nil, nil, "", nil, true}},
		{"", []any{app.SubActive, nil, nil, "", nil, false}},
	}
	for _, st := range states {
		if _, err := db.SQL().ExecContext(ctx, db.Rebind(`UPDATE workspaces SET plan = 'pro', subscription_status = ?,
			trial_end = ?, payment_failed_at = ?, payment_invoice_url = ?, restricted_at = ?, cancel_at_period_end = ?
			WHERE slug = 'acme'`),
			st.set...); err != nil {
			return fmt.Errorf("set acme %s: %w", st.name, err)
		}
		if st.name == "" {
			break
		}
		for _, pg := range []struct{ name, path string }{{"billing", "/w/acme/billing"}, {"dashboard", "/w/acme"}} {
			if err := captureAll(ctx, base+pg.path, out, pg.name+"-"+st.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// ssoShots connects Acme to an OpenID Connect provider run here
// (mockoidc, as scripts/devidp), adds a domain, and captures the single
// sign-on settings: the connection, and the TXT record to create.
func ssoShots(ctx context.Context, base, out string, txt *dnstest.Server, atrium func(args ...string) error) error {
	idp, err := mockoidc.Run()
	if err != nil {
		return err
	}
	defer func() { _ = idp.Shutdown() }()
	cfg := idp.Config()
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(base+"/w/acme/settings/sso"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sso-connection-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sso-issuer"]`), cfg.Issuer),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sso-client-id"]`), cfg.ClientID),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sso-client-secret"]`), cfg.ClientSecret),
		chromedp.Click(chromedp.CSS(`[data-testid="sso-connection-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sso-domain-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sso-domain-input"]`), "example.com"),
		chromedp.Click(chromedp.CSS(`[data-testid="sso-domain-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sso-record-value"]`)),
	); err != nil {
		return fmt.Errorf("single sign-on set-up: %w", err)
	}
	if err := captureAll(ctx, base+"/w/acme/settings/sso", out, "sso-settings"); err != nil {
		return err
	}
	if err := captureAll(ctx, base+"/w/acme/settings/sso#domains", out, "sso-domains"); err != nil {
		return err
	}
	// Verify the domain and require single sign-on: the founder, an owner
	// signed in by email link without a second factor, gets the
	// walkthrough. Then put everything back for the pages after.
	name, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`[data-testid="sso-record-name"]`)))
	if err != nil {
		return err
	}
	value, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`[data-testid="sso-record-value"]`)))
	if err != nil {
		return err
	}
	txt.SetTXT(name, value)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(base+"/w/acme/settings/sso"),
		chromedp.Click(chromedp.CSS(`[data-testid="sso-domain-verify"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-testid="sso-domain-verify"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="sso-require"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="sso-options-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-submit"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sso-required"]`)),
	); err != nil {
		return fmt.Errorf("require single sign-on: %w", err)
	}
	if err := captureAll(ctx, base+"/w/acme", out, "sso-required"); err != nil {
		return err
	}
	if err := atrium("workspace", "sso-off", "--slug", "acme", "--reason", "screenshots"); err != nil {
		return err
	}
	return chromedp.Do(ctx,
		chromedp.Navigate(base+"/w/acme/settings/sso"),
		chromedp.Submit(chromedp.CSS(`[data-testid="sso-domain-remove-form"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-submit"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sso-domains-empty"]`)),
	)
}

// captureAll captures the page at url (the current page when url is "")
// at every viewport in both colour schemes as NAME-VIEWPORT-SCHEME.png.
func captureAll(ctx context.Context, url, out, name string) error {
	for _, vp := range viewports {
		for _, scheme := range []string{"light", "dark"} {
			path := filepath.Join(out, fmt.Sprintf("%s-%s-%s.png", name, vp.name, scheme))
			if err := capture(ctx, url, vp, scheme, path); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			fmt.Println(path)
		}
	}
	return nil
}

// twoFactorShots turns on the founder's authenticator app, requires
// two-factor sign-in for Acme, and captures the pages on the way: the
// recovery codes, the account, the workspace settings, the second step of
// a sign-in, and what a member without a second factor sees.
func twoFactorShots(ctx context.Context, base, out string, links <-chan string) error {
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/settings/account/two-factor/app"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="totp-secret"]`)),
	); err != nil {
		return fmt.Errorf("two-factor set-up: %w", err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="totp-secret"]`)))
	if err != nil {
		return err
	}
	code, err := totp.GenerateCode(strings.ReplaceAll(secret, " ", ""), time.Now())
	if err != nil {
		return err
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="totp-code"]`), code),
		chromedp.Click(chromedp.CSS(`[data-testid="totp-confirm"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="recovery-codes"]`)),
	); err != nil {
		return fmt.Errorf("two-factor confirm: %w", err)
	}
	if err := captureAll(ctx, "", out, "recovery-codes"); err != nil {
		return err
	}
	if err := captureAll(ctx, base+"/settings/account#two-factor", out, "account-two-factor"); err != nil {
		return err
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(base+"/w/acme/settings"),
		chromedp.Click(chromedp.CSS(`[data-testid="two-factor-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-dialog-ok"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-dialog-ok"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="two-factor-state"][data-required="true"]`)),
	); err != nil {
		return fmt.Errorf("require two-factor: %w", err)
	}
	if err := captureAll(ctx, base+"/w/acme/settings#two-factor", out, "settings-two-factor"); err != nil {
		return err
	}
	if err := captureAll(ctx, base+"/w/acme/members", out, "members-two-factor"); err != nil {
		return err
	}
	// A fresh sign-in stops at the second step.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		return err
	}
	if err := signIn(ctx, base, founder, links, "second-factor"); err != nil {
		return err
	}
	if err := captureAll(ctx, base+"/login/two-factor", out, "second-factor"); err != nil {
		return err
	}
	// A member without a second factor is walked through setting one up.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		return err
	}
	if err := signIn(ctx, base, "teammate@example.com", links, ""); err != nil {
		return err
	}
	return captureAll(ctx, base+"/w/acme", out, "two-factor-required")
}

// capture loads url at the viewport in the colour scheme and saves the
// visible part of the page as a PNG at path.
func capture(ctx context.Context, url string, vp viewport, scheme, path string) error {
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(vp.width, vp.height, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
			p.Mobile = vp.mobile
			p.DeviceScaleFactor = 1
		}),
	); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		return err
	}
	// A URL that differs only by its #fragment would not load again, and
	// the colour change would be caught mid-transition: load the page
	// itself, then scroll to the fragment. With no URL, the page in place
	// is repainted in the new scheme; give its transitions time to end.
	page, fragment, _ := strings.Cut(url, "#")
	switch {
	case page == "":
		time.Sleep(500 * time.Millisecond)
	default:
		if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			return err
		}
	}
	if fragment != "" {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(e => { if (e) e.scrollIntoView(); return !!e })(document.getElementById(`+strconv.Quote(fragment)+`))`)); err != nil {
			return err
		}
	}
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return err
	}
	return os.WriteFile(path, buf, 0o644)
}

// signIn asks for a magic link for email and follows it, up to a
// signed-in page, or the second step when landing is "second-factor".
func signIn(ctx context.Context, base, email string, links <-chan string, landing string) error {
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		// The "check your email" page: once it shows, the form's
		// navigation is over and the link's cannot abort it.
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="check-email"]`)),
	); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	var link string
	select {
	case link = <-links:
	case <-time.After(30 * time.Second):
		return errors.New("sign in: no magic link in the server log")
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.Click(chromedp.CSS(`form[action="/auth/verify"] button`)),
	); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	// Wait until the sign-in has landed on a signed-in page, so the first
	// capture does not abort its redirects.
	if landing == "" {
		landing = "user-menu"
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.readyState === "complete" && !location.pathname.startsWith("/auth/") ? document.querySelectorAll('[data-testid="`+landing+`"]').length : 0`))
		if err == nil && n > 0 {
			return nil
		}
	}
	return errors.New("sign in: never reached a signed-in page")
}

var verifyLink = regexp.MustCompile(`https?://[^"\s\\]*/auth/verify\?token=[A-Za-z0-9_%-]+`)

// readLinks passes on the sign-in links the stub mailer logs.
func readLinks(r io.Reader, links chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "@example.com") {
			if link := verifyLink.FindString(line); link != "" {
				select {
				case links <- link:
				default:
				}
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func waitReady(base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("the server did not become ready in 30s")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
