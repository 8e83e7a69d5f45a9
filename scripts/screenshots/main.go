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

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
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
	{"dashboard", "/w/acme", true},
	{"dashboard-free", "/w/demo-studio", true},
	{"members", "/w/acme/members", true},
	{"audit", "/w/acme/audit", true},
	{"billing", "/w/acme/billing", true},
	{"account", "/settings/account", true},
	{"totp-setup", "/settings/account/two-factor/app", true},
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
	flag.Parse()
	if err := run(*out, *only, *chromium); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(out, only, chromium string) error {
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
	env := append(os.Environ(), "APP_ENV=development", "DATABASE_URL=sqlite:"+filepath.Join(tmp, "atrium.db"),
		"PORT="+strconv.Itoa(port), "APP_URL="+base, "LOG_LEVEL=info",
		"RATE_LIMIT_MAX=1000000", "LOGIN_RATE_LIMIT_MAX=1000000")
	seed := exec.Command(bin, "--env-file", "", "seed")
	seed.Env = env
	if b, err := seed.CombinedOutput(); err != nil {
		return fmt.Errorf("seed: %w\n%s", err, b)
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
	if err := signIn(ctx, base, links); err != nil {
		return err
	}
	want := map[string]bool{}
	for n := range strings.SplitSeq(only, ",") {
		if n != "" {
			want[n] = true
		}
	}
	for _, s := range shots {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		for _, vp := range viewports {
			for _, scheme := range []string{"light", "dark"} {
				path := filepath.Join(out, fmt.Sprintf("%s-%s-%s.png", s.name, vp.name, scheme))
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
	return nil
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
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		return err
	}
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return err
	}
	return os.WriteFile(path, buf, 0o644)
}

// signIn asks for a magic link for the founder and follows it.
func signIn(ctx context.Context, base string, links <-chan string) error {
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), founder),
		chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		chromedp.WaitReady(chromedp.CSS("body")),
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
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.readyState === "complete" && !location.pathname.startsWith("/auth/") ? document.querySelectorAll('[data-testid="user-menu"]').length : 0`))
		if err == nil && n > 0 {
			return nil
		}
	}
	return errors.New("sign in: never reached a signed-in page")
}

var verifyLink = regexp.MustCompile(`https?://[^"\s\\]*/auth/verify\?token=[A-Za-z0-9_%-]+`)

// readLinks passes on the sign-in links the stub mailer logs for the founder.
func readLinks(r io.Reader, links chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, founder) {
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
