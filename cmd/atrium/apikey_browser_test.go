package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
// copies the secret the page shows once, a script reads the workspace with
// it, and after the founder revokes it (through the confirm step) the
// script gets 401.
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
		chromedp.WaitVisible(byTestID("api-key-revoke-confirm")),
		chromedp.Click(byTestID("api-key-revoke-submit")),
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
