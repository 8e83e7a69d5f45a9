package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"atrium/internal/config"
)

// TestBrowser_Webhooks is the outgoing webhooks journey in headless
// Chromium against the served binary: a founder adds an endpoint (a real
// receiver on this machine, allowed by WEBHOOK_ALLOW_PRIVATE), copies the
// secret shown once, sends a test event that serve's poller delivers and
// the receiver verifies with the Standard Webhooks reference library, sees
// it delivered in the log, and replays it with the same webhook-id.
func TestBrowser_Webhooks(t *testing.T) {
	requireChromium(t)
	t.Parallel()

	var (
		mu     sync.Mutex
		secret string
		ids    []string
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Errorf("the reference library refuses the secret: %v", err)
		} else if err := wh.Verify(body, r.Header); err != nil {
			t.Errorf("the reference library does not verify the delivery: %v", err)
		}
		ids = append(ids, r.Header.Get("webhook-id"))
		_, _ = io.WriteString(w, `{"received":true}`)
	}))
	defer receiver.Close()

	srv, smtp := startServeWithMail(t, config.Env{"WEBHOOK_ALLOW_PRIVATE": "true"})
	founder := newBrowserTabs(t, 90*time.Second, "founder")[0]
	const email = "founder@example.com"
	founder.do("ask for a sign-in link", askForSignInLink(srv.URL, email)...)
	founder.do("sign in", signInWith(emailedLink(t, smtp, email, srv.URL+"/auth/verify?token="), byTestID("workspace-new"))...)
	founder.do("create Acme", createWorkspace("Acme")...)

	founder.do("add an endpoint",
		chromedp.Click(byTestID("nav-ws-webhooks")),
		chromedp.WaitVisible(byTestID("webhook-form")),
		chromedp.SendKeys(byTestID("webhook-url"), receiver.URL+"/hooks/atrium"),
		chromedp.SendKeys(byTestID("webhook-description"), "CRM sync"),
		chromedp.Click(byTestID("webhook-event-invite.accepted")),
		chromedp.Click(byTestID("webhook-submit")),
		chromedp.WaitVisible(byTestID("webhook-secret-value")),
	)
	got := founder.value(byTestID("webhook-secret-value"))
	if !strings.HasPrefix(got, "whsec_") {
		t.Fatalf("the page shows %q, want a whsec_ secret", got)
	}
	mu.Lock()
	secret = got
	mu.Unlock()
	saveShot(t, founder.ctx, "webhook-created-desktop")
	for _, v := range runAxe(t, founder) {
		t.Errorf("the endpoint page: %s: %s\n  %s", v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
	}

	founder.do("send a test event", chromedp.Click(byTestID("webhook-test")), chromedp.WaitVisible(byTestID("webhook-delivery")))
	waitDelivered(t, founder, 1)
	founder.do("replay it", chromedp.Click(byTestID("webhook-replay")), chromedp.WaitVisible(byTestID("webhook-delivery")))
	waitDelivered(t, founder, 2)
	saveShot(t, founder.ctx, "webhook-log-desktop")

	mu.Lock()
	seen := append([]string(nil), ids...)
	mu.Unlock()
	if len(seen) != 2 || seen[0] != seen[1] || !strings.HasPrefix(seen[0], "msg_") {
		t.Errorf("the receiver got ids %v, want one message twice", seen)
	}
	if strings.Contains(srv.Stdout.String(), secret) {
		t.Error("the secret reached the log")
	}

	founder.do("look at it on a phone", chromedp.EmulateViewport(390, 844, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
		p.Mobile = true
	}))
	saveShot(t, founder.ctx, "webhook-log-phone")
	if _, err := chromedp.Call(founder.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	saveShot(t, founder.ctx, "webhook-log-phone-dark")
	for _, v := range runAxe(t, founder) {
		t.Errorf("the delivery log on a phone, dark: %s: %s\n  %s", v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
	}
	founder.do("open the list", chromedp.Click(byTestID("webhooks-back")), chromedp.WaitVisible(byTestID("webhook-row")))
	saveShot(t, founder.ctx, "webhook-list-phone-dark")
}

// waitDelivered reloads the endpoint's page until it lists n deliveries,
// each delivered, as serve's poller sends them within a second or two.
func waitDelivered(t *testing.T, a browserActor, n int) {
	t.Helper()
	for range 30 {
		a.do("reload", chromedp.Reload(), chromedp.WaitVisible(byTestID("webhook-endpoint")))
		if a.count(byTestID("webhook-delivery")) == n && a.count(`[data-testid="webhook-delivery-status"]`) == n {
			delivered := true
			for i := range n {
				if s := a.textContent(chromedp.CSS(`[data-testid="webhook-delivery"]:nth-child(` + string(rune('1'+i)) + `) [data-testid="webhook-delivery-status"]`)); s != "Delivered" {
					delivered = false
				}
			}
			if delivered {
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%d deliveries not all delivered: %s", n, a.words(byTestID("webhook-deliveries")))
}
