package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
	"atrium/internal/config"
	"atrium/internal/store"
)

// stripeCheckoutPage stands in for Stripe's Checkout page, which the test
// machine cannot load.
const stripeCheckoutPage = `<!doctype html><title>Stripe Checkout (stand-in)</title><p data-testid="stripe-checkout">Stripe Checkout</p>`

// TestBrowser_UpgradeJourney: an owner signs in, creates a workspace and
// clicks Upgrade; the server sends the browser to the Checkout URL that
// stripe-mock returned. Stripe's webhook then reports the finished
// Checkout and the active subscription, and the billing page shows Pro,
// Active, with the seat limit gone from the members page.
//
// The browser cannot load checkout.stripe.com here, so the test intercepts
// that request with the Fetch domain and answers it with a stand-in page;
// it checks the navigation with the Network domain's requestWillBeSent
// event, whose redirectResponse is the server's 303 from the Upgrade form.
func TestBrowser_UpgradeJourney(t *testing.T) {
	requireChromium(t)
	t.Parallel()
	mock := billingtest.StripeMock(t)

	dbPath := filepath.Join(t.TempDir(), "atrium.db")
	srv, smtp := startServeWithMail(t, config.Env{
		"DATABASE_URL":          "sqlite:" + dbPath,
		"STRIPE_SECRET_KEY":     "sk_test_atrium",
		"STRIPE_PRICE_ID":       "price_pro",
		"STRIPE_WEBHOOK_SECRET": billingWebhookSecret,
		"STRIPE_API_BASE":       mock,
		// The owner alone fills the free plan, so the members page shows
		// the seat limit until the upgrade.
		"FREE_PLAN_SEATS": "1",
	})
	owner := newBrowserTabs(t, 60*time.Second, "owner")[0]

	const email = "owner@example.com"
	owner.do("ask for a sign-in link", askForSignInLink(srv.URL, email)...)
	links := smtp.WaitForMessage(t, email, 10*time.Second).Links()
	if len(links) == 0 || !strings.HasPrefix(links[0], srv.URL+"/auth/verify?token=") {
		t.Fatalf("sign-in email has no link to %s/auth/verify: %v", srv.URL, links)
	}
	owner.do("sign in", signInWith(links[0], byTestID("workspace-new"))...)
	owner.do("create a workspace", createWorkspace("Acme")...)
	if got, want := owner.location(), srv.URL+"/w/acme"; got != want {
		t.Fatalf("new workspace at %s, want %s", got, want)
	}
	owner.do("open the members page", chromedp.Navigate(srv.URL+"/w/acme/members"), chromedp.WaitVisible(byTestID("members")))
	if !owner.present(byTestID("seat-limit")) {
		t.Fatalf("the members page of a full free workspace shows no seat limit")
	}

	owner.do("open billing", chromedp.Navigate(srv.URL+"/w/acme/billing"), chromedp.WaitVisible(byTestID("billing-upgrade")))
	if got := owner.words(byTestID("billing-plan")); got != "Free" {
		t.Errorf("plan %q before the upgrade, want Free", got)
	}

	// Answer the request for Stripe's Checkout with the stand-in page, and
	// watch the requests the tab sends.
	if _, err := chromedp.Call(owner.ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: "https://checkout.stripe.com/*"}},
	}); err != nil {
		t.Fatalf("enable request interception: %v", err)
	}
	evCtx, stopEvents := context.WithTimeout(owner.ctx, 20*time.Second)
	defer stopEvents()
	paused := chromedp.Events(evCtx, fetch.RequestPaused)
	sent := chromedp.Events(evCtx, network.RequestWillBeSent)

	owner.do("click Upgrade", chromedp.Click(byTestID("billing-upgrade")))
	var checkoutURL string
	for ev, err := range paused {
		if err != nil {
			t.Fatalf("wait for the request to Stripe's Checkout: %v", err)
		}
		checkoutURL = ev.Request.URL
		if _, err := chromedp.Call(owner.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: http.StatusOK,
			ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}},
			Body:            []byte(stripeCheckoutPage)}); err != nil {
			t.Fatalf("answer the Checkout request: %v", err)
		}
		break
	}
	if checkoutURL == "" {
		t.Fatalf("the browser sent no request to https://checkout.stripe.com/ after Upgrade")
	}
	owner.do("land on the Checkout stand-in", chromedp.WaitVisible(byTestID("stripe-checkout")))
	if got := owner.location(); got != checkoutURL || !strings.HasPrefix(got, "https://checkout.stripe.com/") {
		t.Errorf("after Upgrade the browser is at %q, want stripe-mock's Checkout URL %q", got, checkoutURL)
	}
	var redirect *network.Response
	for ev, err := range sent {
		if err != nil {
			t.Fatalf("no request for %s was reported: %v", checkoutURL, err)
		}
		if ev.Request.URL == checkoutURL {
			redirect = ev.RedirectResponse
			break
		}
	}
	if redirect == nil || redirect.Status != http.StatusSeeOther || redirect.URL != srv.URL+"/w/acme/billing/checkout" {
		t.Errorf("the Checkout request was not a 303 from POST /w/acme/billing/checkout: redirect response %+v", redirect)
	}
	stopEvents()
	if _, err := chromedp.Call(owner.ctx, fetch.Disable, cdp.Empty{}); err != nil {
		t.Fatalf("disable request interception: %v", err)
	}

	// Stripe now reports the finished Checkout and the new subscription.
	db, err := store.Open(context.Background(), store.SQLite, dbPath, store.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ws, err := store.NewBillingService(db).FindWorkspaceBySlug(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ws.StripeCustomerID, "cus_") {
		t.Fatalf("workspace customer %q after Upgrade, want stripe-mock's cus_", ws.StripeCustomerID)
	}
	now := time.Now().Truncate(time.Second)
	for _, ev := range []billingtest.Event{
		checkoutCompleted("evt_journey_checkout", now.Add(-2*time.Second), ws.ID, ws.StripeCustomerID, "sub_journey"),
		activeSubscription("evt_journey_sub", billing.EventSubscriptionCreated, now.Add(-time.Second), ws.ID, ws.StripeCustomerID, "sub_journey"),
	} {
		if status, result := deliverStripeEvent(t, srv.URL, ev); status != http.StatusOK || result != app.EventApplied {
			t.Fatalf("deliver %s: status %d result %q, want 200 applied", ev.Type, status, result)
		}
	}

	owner.do("reload billing", chromedp.Navigate(srv.URL+"/w/acme/billing"), chromedp.WaitVisible(byTestID("billing-plan")))
	if got := owner.words(byTestID("billing-plan")); !strings.HasPrefix(got, "Pro") {
		t.Errorf("plan %q after the webhook, want Pro", got)
	}
	if got, want := owner.words(byTestID("billing-status")), "Active"; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	if got, want := owner.words(byTestID("billing-seats")), "1 of Unlimited"; got != want {
		t.Errorf("seats %q, want %q", got, want)
	}
	if owner.present(byTestID("billing-upgrade")) || !owner.present(byTestID("billing-portal")) {
		t.Errorf("on Pro: upgrade %v portal %v, want Manage billing only", owner.present(byTestID("billing-upgrade")), owner.present(byTestID("billing-portal")))
	}
	owner.do("open the members page again", chromedp.Navigate(srv.URL+"/w/acme/members"), chromedp.WaitVisible(byTestID("members")))
	if owner.present(byTestID("seat-limit")) {
		t.Errorf("the members page still shows the seat limit on Pro")
	}
}
