package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// apiGet calls the JSON API of srv with key and returns the status and body.
func apiGet(t *testing.T, srv *testServer, path, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestBrowser_APIKey is the API key journey in headless Chromium against
// the served binary: a founder creates a key from the workspace settings,
// copies the secret and the curl line the page shows once (with the copy
// buttons; the curl line fits its card at 1280 px), a reload does not show
// the secret again, a script reads the workspace with it, and after the
// founder revokes it (through the confirm step) the script gets 401.
func TestBrowser_APIKey(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	srv, smtp := startServeWithMail(t, nil)
	founder := newBrowserTabs(t, 90*time.Second, "founder")[0]
	const email = "founder@example.com"
	founder.do("ask for a sign-in link", askForSignInLink(srv.URL, email)...)
	founder.do("sign in", signInWith(emailedLink(t, smtp, email, srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	founder.do("create Acme", createWorkspace("Acme")...)

	founder.do("create a key from the settings",
		chromedp.Click(byTestID("nav-ws-settings")),
		chromedp.WaitVisible(byTestID("settings-api-keys-link")),
		chromedp.Click(byTestID("settings-api-keys-link")),
		chromedp.WaitVisible(byTestID("api-key-form")),
		chromedp.SendKeys(byTestID("api-key-name"), "deploy bot"),
		chromedp.Click(byTestID("api-key-scope-write")),
		chromedp.Click(byTestID("api-key-submit")),
		chromedp.WaitVisible(byTestID("api-key-secret")),
	)
	secret := founder.value(byTestID("api-key-secret"))
	if !strings.HasPrefix(secret, "atr_") {
		t.Fatalf("the page shows %q, want an atr_ key", secret)
	}
	// The curl line wraps inside its card at 1280 px.
	fits, err := chromedp.Run(founder.ctx, chromedp.Evaluate[bool](`(() => {
		const pre = document.querySelector('[data-testid="api-key-curl"]');
		const card = pre.closest('.card').getBoundingClientRect(), box = pre.getBoundingClientRect();
		return pre.scrollWidth <= pre.clientWidth && box.right <= card.right && box.left >= card.left;
	})()`))
	if err != nil || !fits {
		t.Errorf("the curl line overflows its card at 1280 px (%v)", err)
	}
	saveShot(t, founder.ctx, "api-key-created-desktop")
	for _, v := range runAxe(t, founder) {
		t.Errorf("the created page: %s: %s\n  %s", v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
	}
	founder.do("allow the clipboard", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := chromedp.Call(ctx, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: srv.URL}); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, c := range []struct{ button, said, want string }{
		{"api-key-copy", "Copied the key.", secret},
		{"api-key-curl-copy", "Copied the command.", `curl -H "Authorization: Bearer ` + secret + `" ` + srv.URL + "/api/v1/workspace"},
	} {
		founder.do("copy with "+c.button, chromedp.Click(byTestID(c.button)))
		status, err := chromedp.Run(founder.ctx, chromedp.Poll[string](`(() => {
			const s = document.querySelector('[data-testid="api-key-copy-status"]').textContent;
			return s === '' ? null : s; })()`))
		if err != nil || status != c.said {
			t.Fatalf("after %s the page announces %q (%v), want %q", c.button, status, err, c.said)
		}
		clip, err := chromedp.Run(founder.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
		if err != nil || clip != c.want {
			t.Errorf("after %s the clipboard holds %q (%v), want %q", c.button, clip, err, c.want)
		}
		if _, err := chromedp.Run(founder.ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="api-key-copy-status"]').textContent = '', true`)); err != nil {
			t.Fatal(err)
		}
	}
	founder.do("look at it on a phone", chromedp.EmulateViewport(390, 844, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
		p.Mobile = true
	}))
	saveShot(t, founder.ctx, "api-key-created-phone")
	if _, err := chromedp.Call(founder.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	saveShot(t, founder.ctx, "api-key-created-phone-dark")
	for _, v := range runAxe(t, founder) {
		t.Errorf("the created page on a phone, dark: %s: %s\n  %s", v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
	}
	founder.do("back to the desktop", chromedp.EmulateViewport(1280, 900))
	founder.do("reload the page", chromedp.Reload(), chromedp.WaitVisible(byTestID("api-key-secret-gone")))
	if founder.present(byTestID("api-key-secret")) {
		t.Fatal("the reload shows the secret again")
	}
	if got := founder.count(byTestID("api-key-row")); got != 1 {
		t.Fatalf("%d keys after the reload, want 1", got)
	}
	saveShot(t, founder.ctx, "api-key-reloaded-desktop")
	if got := founder.text(byTestID("api-key-row-scopes")); got != "read, write" {
		t.Errorf("the list shows scopes %q, want read, write", got)
	}
	status, body := apiGet(t, srv, "/api/v1/workspace", secret)
	if status != http.StatusOK || !strings.Contains(body, `"name":"Acme"`) {
		t.Fatalf("GET /api/v1/workspace with the key: %d %s", status, body)
	}

	founder.do("revoke the key",
		chromedp.Navigate(srv.URL+"/w/acme/settings/api-keys"),
		chromedp.WaitVisible(byTestID("api-key-revoke")),
		chromedp.Click(byTestID("api-key-revoke")),
		chromedp.WaitVisible(byTestID("confirm-page")),
		chromedp.Click(byTestID("confirm-submit")),
		chromedp.WaitVisible(byTestID("api-key-row-status")),
	)
	if got := founder.text(byTestID("api-key-row-status")); got != "Revoked" {
		t.Errorf("the key's status is %q, want Revoked", got)
	}
	if status, body := apiGet(t, srv, "/api/v1/workspace", secret); status != http.StatusUnauthorized {
		t.Fatalf("GET /api/v1/workspace with the revoked key: %d %s", status, body)
	}
	if strings.Contains(srv.Stdout.String(), secret) {
		t.Error("the key reached the log")
	}
}

// saveShot saves a full-page screenshot as NAME.png in the test's artifact
// directory (kept with go test -artifacts).
func saveShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	saveScreenshot(ctx, t, name)
}
