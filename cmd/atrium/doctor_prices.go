package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/config"
)

// priceReader reads one price from Stripe; *billing.Client is one.
type priceReader interface {
	Price(ctx context.Context, id string) (billing.StripePrice, error)
}

// catalogPrice is one price the catalog sells, with the variable that
// names it.
type catalogPrice struct {
	plan  app.Plan
	price app.Price
	env   string
}

// priceEnv names the variable holding a plan's price at an interval.
func priceEnv(plan string, iv app.Interval) string {
	switch {
	case plan == app.PlanPro && iv == app.Monthly:
		return "STRIPE_PRICE_ID"
	case plan == app.PlanPro:
		return "STRIPE_PRICE_PRO_ANNUAL"
	case iv == app.Monthly:
		return "STRIPE_PRICE_" + strings.ToUpper(plan) + "_MONTHLY"
	}
	return "STRIPE_PRICE_" + strings.ToUpper(plan) + "_ANNUAL"
}

// configuredPrices lists the prices of the catalog that have an id.
func configuredPrices(cat *app.Catalog) []catalogPrice {
	var out []catalogPrice
	for _, p := range cat.Plans {
		for _, pr := range []app.Price{p.Monthly, p.Annual} {
			if pr.ID != "" {
				out = append(out, catalogPrice{plan: p, price: pr, env: priceEnv(p.Key, pr.Interval)})
			}
		}
	}
	return out
}

// intervalWord words an interval for a sentence: "monthly", "yearly".
func intervalWord(iv app.Interval) string {
	if iv == app.Annual {
		return "yearly"
	}
	return "monthly"
}

// checkPrices reads each configured price from Stripe and holds it against
// the catalog: missing, one-time, billed at another interval or in another
// currency fails (Checkout would sell the wrong thing, or nothing);
// archived or charging another amount than the pricing page shows warns.
func (d *doctor) checkPrices(ctx context.Context, cfg *config.Config, stripe priceReader) {
	if !cfg.BillingEnabled() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, cp := range configuredPrices(cfg.Plans) {
		want := cp.price
		what := fmt.Sprintf("%s %s (%s)", cp.plan.Name, intervalWord(want.Interval), want.ID)
		sp, err := stripe.Price(ctx, want.ID)
		if err != nil {
			d.report(checkFail, "price", what+": could not read it from Stripe: "+err.Error(),
				"check STRIPE_SECRET_KEY and that this host reaches Stripe's API, then run 'atrium doctor' again")
			return
		}
		switch {
		case !sp.Found:
			d.report(checkFail, "price", what+": Stripe has no such price",
				fmt.Sprintf("in the Stripe dashboard, add a recurring %s price of %s to the %s product and put its id in %s",
					intervalWord(want.Interval), app.FormatMoney(want.Amount, want.Currency), cp.plan.Name, cp.env))
		case !sp.Recurring:
			d.report(checkFail, "price", what+": a one-time price, which no subscription can use",
				fmt.Sprintf("add a recurring %s price in Stripe and put its id in %s", intervalWord(want.Interval), cp.env))
		case sp.Interval != want.Interval || sp.IntervalCount > 1:
			d.report(checkFail, "price", fmt.Sprintf("%s: Stripe bills it every %d %s; the catalog sells it %s",
				what, max(sp.IntervalCount, 1), sp.Interval, intervalWord(want.Interval)),
				fmt.Sprintf("put the id of a %s price in %s", intervalWord(want.Interval), cp.env))
		case !strings.EqualFold(sp.Currency, want.Currency):
			d.report(checkFail, "price", fmt.Sprintf("%s: in %s; BILLING_CURRENCY is %s", what, strings.ToUpper(sp.Currency), strings.ToUpper(want.Currency)),
				fmt.Sprintf("add a %s price in Stripe and put its id in %s, or change BILLING_CURRENCY", strings.ToUpper(want.Currency), cp.env))
		case !sp.Active:
			d.report(checkWarn, "price", what+": archived in Stripe, so Checkout cannot sell it",
				"restore the price in the Stripe dashboard, or put an active price's id in "+cp.env)
		case sp.Amount != want.Amount:
			d.report(checkWarn, "price", fmt.Sprintf("%s: Stripe charges %s; the catalog shows %s — change one",
				what, app.FormatMoney(sp.Amount, sp.Currency), app.FormatMoney(want.Amount, want.Currency)),
				"change the amount in internal/app/plan.go (NewCatalog), or add a price of the catalog's amount in Stripe and put its id in "+cp.env)
		default:
			d.report(checkOK, "price", fmt.Sprintf("%s: %s every %s, active", what, app.FormatMoney(sp.Amount, sp.Currency), sp.Interval), "")
		}
	}
}

// newPriceReader returns the Stripe client doctor reads prices with.
func newPriceReader(cfg *config.Config) priceReader {
	return billing.New(billing.Config{SecretKey: cfg.Stripe.SecretKey, APIBase: cfg.Stripe.APIBase, Plans: cfg.Plans})
}
