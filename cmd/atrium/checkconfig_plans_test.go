package main

import (
	"strings"
	"testing"

	"atrium/internal/config"
)

// TestCheckConfig_Catalog prints every plan of the catalog with its
// prices, seats, API rate, audit history and features, and fails on a
// problem Catalog.Check finds (here one price sold as two plans).
func TestCheckConfig_Catalog(t *testing.T) {
	t.Parallel()
	env := config.Env{"STRIPE_SECRET_KEY": "sk_test_catalog", "STRIPE_WEBHOOK_SECRET": "whsec_catalog",
		"STRIPE_PRICE_ID": "price_pro_m", "STRIPE_PRICE_BUSINESS_ANNUAL": "price_bus_y", "FREE_PLAN_SEATS": "4"}
	res := runAtrium(t, env, "check-config")
	if res.Code != 0 {
		t.Fatalf("exit status %d\n%s", res.Code, res.Output())
	}
	for _, want := range []string{
		"plans                 Free: 4 seats; 600 API requests a minute per key; 30 days of audit history; no extra features",
		"Pro: per seat $12.00 monthly (price_pro_m), $120.00 yearly (not sold: STRIPE_PRICE_PRO_ANNUAL is empty); unlimited seats; 600 API requests a minute per key; 365 days of audit history; sso, audit_export",
		"Business: per seat $24.00 monthly (not sold: STRIPE_PRICE_BUSINESS_MONTHLY is empty), $240.00 yearly (price_bus_y); unlimited seats; 3000 API requests a minute per key; all audit history; sso, audit_export",
	} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("check-config lacks %q:\n%s", want, res.Stdout)
		}
	}

	env["STRIPE_PRICE_BUSINESS_MONTHLY"] = "price_pro_m"
	bad := runAtrium(t, env, "check-config")
	if bad.Code != 1 || !strings.Contains(bad.Stdout, "catalog problem       price price_pro_m is both Pro and Business") ||
		strings.Contains(bad.Stdout, "Configuration OK.") {
		t.Errorf("a price of two plans: exit %d\n%s", bad.Code, bad.Output())
	}
}
