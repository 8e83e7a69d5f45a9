package app_test

import (
	"testing"

	"atrium/internal/app"
)

func testCatalog() *app.Catalog {
	return app.NewCatalog(app.CatalogConfig{Currency: "usd", FreeSeats: 3, ProSeats: 0, BusinessSeats: 50,
		ProMonthly: "price_pm", ProAnnual: "price_py", BusinessMonthly: "price_bm",
		FreeAPIRate: 60, ProAPIRate: 600, BusAPIRate: 3000,
		ProMonthlyAmount: 1200, ProAnnualAmount: 12000, BusMonthlyAmount: 2400, BusAnnualAmount: 24000})
}

func TestCatalog_Complete(t *testing.T) {
	c := testCatalog()
	if problems := c.Check(); len(problems) > 0 {
		t.Fatalf("catalog problems: %q", problems)
	}
	for _, f := range app.Features {
		if app.FeatureName(f) == string(f) {
			t.Errorf("feature %q has no name for the pricing page", f)
		}
	}
	bad := &app.Catalog{Plans: []app.Plan{{Key: app.PlanPro, Name: "Pro", Summary: "x", Pricing: app.PricingFlat,
		Monthly: app.Price{ID: "price_x", Interval: app.Monthly}, Annual: app.Price{ID: "price_x", Interval: app.Annual, Currency: "usd", Amount: 1}}}}
	if got := len(bad.Check()); got != 3 {
		t.Errorf("Check of a bad catalog found %d problems (%q), want 3: no Free first, an amountless price, a price used twice", got, bad.Check())
	}
}

func TestCatalog_Effective(t *testing.T) {
	c := testCatalog()
	for _, tc := range []struct {
		plan, status string
		want         string
		sso          bool
		seats        int
	}{
		{app.PlanFree, "", app.PlanFree, false, 3},
		{app.PlanPro, app.SubActive, app.PlanPro, true, 0},
		{app.PlanPro, app.SubTrialing, app.PlanPro, true, 0},
		{app.PlanPro, app.SubPastDue, app.PlanPro, true, 0},
		{app.PlanPro, "", app.PlanPro, true, 0}, // set by an operator
		{app.PlanPro, app.SubCanceled, app.PlanFree, false, 3},
		{app.PlanBusiness, app.SubActive, app.PlanBusiness, true, 50},
		{app.PlanBusiness, app.SubUnpaid, app.PlanFree, false, 3},
		{"enterprise", app.SubActive, app.PlanFree, false, 3}, // not in the catalog
	} {
		ws := &app.Workspace{Plan: tc.plan, SubscriptionStatus: tc.status}
		if got := c.Effective(ws).Key; got != tc.want {
			t.Errorf("%s/%s: Effective = %s, want %s", tc.plan, tc.status, got, tc.want)
		}
		if got := c.CanUse(ws, app.FeatureSSO); got != tc.sso {
			t.Errorf("%s/%s: CanUse(sso) = %v, want %v", tc.plan, tc.status, got, tc.sso)
		}
		if tc.plan != "enterprise" {
			if got := c.Limits().Seats(ws); got != tc.seats {
				t.Errorf("%s/%s: Seats = %d, want %d", tc.plan, tc.status, got, tc.seats)
			}
		}
	}
}

func TestCatalog_Prices(t *testing.T) {
	c := testCatalog()
	if got := c.PlanForPrice("price_bm"); got != app.PlanBusiness {
		t.Errorf("PlanForPrice(business monthly) = %s", got)
	}
	if got := c.PlanForPrice("price_legacy"); got != app.PlanPro {
		t.Errorf("PlanForPrice(unknown) = %s, want pro (a paying customer keeps access)", got)
	}
	if !c.Upgrades(app.PlanPro, app.PlanBusiness) || c.Upgrades(app.PlanBusiness, app.PlanPro) || c.Upgrades(app.PlanPro, app.PlanPro) {
		t.Error("Upgrades does not follow the catalog's order")
	}
	sold := c.Sold()
	if len(sold) != 2 || sold[0].Key != app.PlanPro || sold[1].Key != app.PlanBusiness {
		t.Errorf("Sold = %v, want Pro and Business", sold)
	}
	if got := app.PlanFor(app.SubActive, app.PlanBusiness); got != app.PlanBusiness {
		t.Errorf("PlanFor(active, business) = %s", got)
	}
	if got := app.PlanFor(app.SubCanceled, app.PlanBusiness); got != app.PlanFree {
		t.Errorf("PlanFor(canceled, business) = %s", got)
	}
}
