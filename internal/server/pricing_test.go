package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPricing_Catalog renders the pricing page from the catalog: every
// plan in development without Stripe, its price per seat at the interval
// chosen by a plain link, seats, API rate, audit history and features,
// and the call to action of who is looking.
func TestPricing_Catalog(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite", withEnv("APP_ENV", "development", "FREE_PLAN_SEATS", "3", "API_RATE_LIMIT_MAX", "600"))
	b := a.newBrowser(t)

	monthly := b.Get("/pricing")
	if monthly.StatusCode != http.StatusOK {
		t.Fatalf("GET /pricing: status %d", monthly.StatusCode)
	}
	for id, want := range map[string]string{
		"plan-free-price": "$0.00", "plan-free-seats": "Up to 3 members",
		"plan-free-api": "600 API requests a minute per key", "plan-free-history": "30 days of audit history",
		"plan-pro-price": "$12.00 per seat / month", "plan-pro-seats": "Unlimited members",
		"plan-pro-api": "600 API requests a minute per key", "plan-pro-history": "1 year of audit history",
		"plan-business-price": "$24.00 per seat / month", "plan-business-api": "3000 API requests a minute per key",
		"plan-business-history": "The whole audit history",
		"pricing-saving":        "Pay yearly and get two months free.",
		"pricing-upgrade":       "Upgrade to Pro", "pricing-upgrade-business": "Upgrade to Business",
		"pricing-start": "Start free",
	} {
		if got := monthly.Text(id); got != want {
			t.Errorf("monthly %s=%q, want %q", id, got, want)
		}
	}
	features := monthly.Text("plan-pro-features")
	for _, want := range []string{"Single sign-on (OpenID Connect) and verified domains", "Audit log export (CSV and JSON)"} {
		if !strings.Contains(features, want) {
			t.Errorf("Pro's features %q lack %q", features, want)
		}
	}
	if strings.Contains(monthly.Text("plan-free-features"), "Single sign-on") {
		t.Error("Free lists single sign-on")
	}
	if got, _ := monthly.Doc.Find(`[data-testid="pricing-monthly"]`).Attr("aria-current"); got != "page" {
		t.Errorf("monthly link aria-current=%q", got)
	}
	if got, _ := monthly.Doc.Find(`[data-testid="pricing-annual"]`).Attr("href"); got != "/pricing?interval=year" {
		t.Errorf("annual link %q", got)
	}

	annual := b.Get("/pricing?interval=year")
	for id, want := range map[string]string{
		"plan-pro-price":           "$120.00 per seat / year",
		"plan-pro-price-note":      "That is $10.00 per seat a month, $24.00 per seat a year less than monthly.",
		"plan-business-price":      "$240.00 per seat / year",
		"plan-business-price-note": "That is $20.00 per seat a month, $48.00 per seat a year less than monthly.",
	} {
		if got := annual.Text(id); got != want {
			t.Errorf("annual %s=%q, want %q", id, got, want)
		}
	}
	if got, _ := annual.Doc.Find(`[data-testid="pricing-annual"]`).Attr("aria-current"); got != "page" {
		t.Errorf("annual link aria-current=%q", got)
	}

	owner, _, _ := billingOwner(t, a, "owner@example.com")
	in := owner.Get("/pricing")
	if got, _ := in.Doc.Find(`[data-testid="pricing-upgrade-business"]`).Attr("href"); got != "/billing" {
		t.Errorf("signed-in Business button goes to %q, want /billing", got)
	}
	if got, _ := in.Doc.Find(`[data-testid="pricing-start"]`).Attr("href"); got != "/app" {
		t.Errorf("signed-in start goes to %q, want /app", got)
	}
}

// TestPricing_SoldPlans shows, with Stripe configured, Free and the plans
// that have a price; PRO_PLAN_PRICE_LABEL words Pro's monthly price only.
func TestPricing_SoldPlans(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite", publicEnv, withEnv("STRIPE_PRICE_ID", "price_pro_month", "STRIPE_PRICE_PRO_ANNUAL", "price_pro_year"))
	b := a.newBrowser(t)
	res := b.Get("/pricing")
	if !res.Has("plan-free") || !res.Has("plan-pro") || res.Has("plan-business") {
		t.Errorf("plans shown: free %v, pro %v, business %v; want Free and Pro", res.Has("plan-free"), res.Has("plan-pro"), res.Has("plan-business"))
	}
	if got, want := res.Text("plan-pro-price"), "€19 per workspace / month"; got != want {
		t.Errorf("monthly Pro %q, want the label %q", got, want)
	}
	if got := b.Get("/pricing?interval=year").Text("plan-pro-price"); got == "€19 per workspace / month" || !strings.Contains(got, "/ year") {
		t.Errorf("annual Pro %q, want the catalog's yearly price", got)
	}
}
