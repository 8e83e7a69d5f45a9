package main

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"atrium/internal/config"
)

// fakeStripe serves GET /v1/prices/{id} from prices (each Stripe's JSON
// of a price) and Stripe's 404 for any other id: the faults doctor must
// tell apart, which stripe-mock's one fixture cannot show.
func fakeStripe(t *testing.T, prices map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		id, ok := strings.CutPrefix(r.URL.Path, "/v1/prices/")
		body, known := prices[id]
		if r.Method != http.MethodGet || !ok || !known {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such price: '` + id + `'","param":"id"}}`))
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// stripePrice is Stripe's JSON of a price.
func stripePrice(id string, active bool, currency string, amount int64, interval string) string {
	recurring, kind := `null`, "one_time"
	if interval != "" {
		recurring, kind = `{"interval":"`+interval+`","interval_count":1,"usage_type":"licensed"}`, "recurring"
	}
	return `{"id":"` + id + `","object":"price","active":` + map[bool]string{true: "true", false: "false"}[active] +
		`,"currency":"` + currency + `","unit_amount":` + strconv.FormatInt(amount, 10) + `,"type":"` + kind + `","recurring":` + recurring + `}`
}

// priceLines returns doctor's price lines by the price id they name,
// each with its status, message and fix.
func priceLines(t *testing.T, stdout string) map[string][3]string {
	t.Helper()
	out := map[string][3]string{}
	lines := strings.Split(stdout, "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 3 || f[1] != "price" {
			continue
		}
		status, msg := f[0], strings.TrimSpace(strings.SplitN(l, "price", 2)[1])
		id := msg[strings.Index(msg, "(")+1 : strings.Index(msg, ")")]
		fix := ""
		if i+1 < len(lines) && strings.Contains(lines[i+1], "fix: ") {
			_, fix, _ = strings.Cut(lines[i+1], "fix: ")
		}
		out[id] = [3]string{status, msg, fix}
	}
	return out
}

// billingEnv returns env with billing on against the fake Stripe at base
// and the given price variables.
func billingEnv(env config.Env, base string, prices map[string]string) config.Env {
	out := config.Env{"STRIPE_SECRET_KEY": "sk_test_doctor", "STRIPE_WEBHOOK_SECRET": "whsec_doctor", "STRIPE_API_BASE": base}
	for k, v := range env {
		out[k] = v
	}
	for k, v := range prices {
		out[k] = v
	}
	return out
}

// TestDoctor_Prices reads every configured price from Stripe and holds it
// against the catalog: one line per price, failing what would sell the
// wrong thing or nothing, and warning of what the pricing page would
// misstate.
func TestDoctor_Prices(t *testing.T) {
	t.Parallel()
	seeded := seededSQLite(t, t.TempDir())
	base := fakeStripe(t, map[string]string{
		"price_pro_month": stripePrice("price_pro_month", true, "usd", 1500, "month"),
		"price_pro_year":  stripePrice("price_pro_year", false, "usd", 12000, "year"),
		"price_bus_month": stripePrice("price_bus_month", true, "usd", 2400, "year"),
		"price_bus_year":  stripePrice("price_bus_year", true, "eur", 24000, "year"),
		"price_once":      stripePrice("price_once", true, "usd", 1200, ""),
		"price_good":      stripePrice("price_good", true, "usd", 1200, "month"),
		"price_good_year": stripePrice("price_good_year", true, "usd", 12000, "year"),
	})
	for _, tc := range []struct {
		name   string
		prices map[string]string
		code   int
		want   map[string][3]string // price id → status, message, in the fix
	}{
		{"Healthy", map[string]string{"STRIPE_PRICE_ID": "price_good", "STRIPE_PRICE_PRO_ANNUAL": "price_good_year"}, 0,
			map[string][3]string{
				"price_good":      {checkOK, "Pro monthly (price_good): $12.00 every month, active", ""},
				"price_good_year": {checkOK, "Pro yearly (price_good_year): $120.00 every year, active", ""},
			}},
		{"Faults", map[string]string{"STRIPE_PRICE_ID": "price_pro_month", "STRIPE_PRICE_PRO_ANNUAL": "price_pro_year",
			"STRIPE_PRICE_BUSINESS_MONTHLY": "price_bus_month", "STRIPE_PRICE_BUSINESS_ANNUAL": "price_bus_year"}, 1,
			map[string][3]string{
				"price_pro_month": {checkWarn, "Pro monthly (price_pro_month): Stripe charges $15.00; the catalog shows $12.00 — change one", "internal/app/plan.go"},
				"price_pro_year":  {checkWarn, "Pro yearly (price_pro_year): archived in Stripe, so Checkout cannot sell it", "STRIPE_PRICE_PRO_ANNUAL"},
				"price_bus_month": {checkFail, "Business monthly (price_bus_month): Stripe bills it every 1 year; the catalog sells it monthly", "STRIPE_PRICE_BUSINESS_MONTHLY"},
				"price_bus_year":  {checkFail, "Business yearly (price_bus_year): in EUR; BILLING_CURRENCY is USD", "BILLING_CURRENCY"},
			}},
		{"MissingAndOneTime", map[string]string{"STRIPE_PRICE_ID": "price_gone", "STRIPE_PRICE_BUSINESS_MONTHLY": "price_once"}, 1,
			map[string][3]string{
				"price_gone": {checkFail, "Pro monthly (price_gone): Stripe has no such price", "add a recurring monthly price of $12.00 to the Pro product and put its id in STRIPE_PRICE_ID"},
				"price_once": {checkFail, "Business monthly (price_once): a one-time price, which no subscription can use", "STRIPE_PRICE_BUSINESS_MONTHLY"},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runAtrium(t, billingEnv(seeded, base, tc.prices), "doctor")
			if res.Code != tc.code {
				t.Errorf("exit status %d, want %d\n%s", res.Code, tc.code, res.Output())
			}
			doctorLines(t, res.Stdout) // every line is a known check
			got := priceLines(t, res.Stdout)
			if len(got) != len(tc.want) {
				t.Errorf("%d price lines, want %d\n%s", len(got), len(tc.want), res.Stdout)
			}
			for id, want := range tc.want {
				if g := got[id]; g[0] != want[0] || g[1] != want[1] || !strings.Contains(g[2], want[2]) {
					t.Errorf("%s: %q, want %q (fix with %q)", id, g, want, want[2])
				}
			}
		})
	}
}
