package server

import (
	"cmp"
	"context"
	"net/http"
	"strconv"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/page"
)

// The pricing page's view, built from the catalog (app.Catalog): Free and
// the plans sold through Stripe, or every plan while billing is not set
// up, or nothing is sold yet (development shows the whole page; production
// without billing shows it with no buy buttons). Plan names, summaries and
// features are the catalog's, in the reader's language (billing.plan.*,
// billing.feature.*).

// handlePricing handles "GET /pricing": the catalog's plans, monthly or
// with ?interval=year annual.
func (s *Server) handlePricing(w http.ResponseWriter, r *http.Request) {
	p := s.publicPage(w, r, i18n.T(r.Context(), "pricing.title"), "pricing")
	s.render(w, r, http.StatusOK, page.Pricing(p, s.pricingView(r, p.User != nil)))
}

// pricingView builds "GET /pricing" for signedIn at the interval of the
// request (?interval=year for annual).
func (s *Server) pricingView(r *http.Request, signedIn bool) page.PricingView {
	ctx := r.Context()
	iv := app.Monthly
	if r.URL.Query().Get("interval") == string(app.Annual) {
		iv = app.Annual
	}
	v := page.PricingView{Annual: iv == app.Annual, MonthlyURL: "/pricing", AnnualURL: "/pricing?interval=year",
		SignedIn: signedIn, NoPurchase: !s.Config.BillingOffered()}
	cat := s.Config.Plans
	shown := append([]app.Plan{cat.Free()}, cat.Sold()...)
	if !s.Config.BillingEnabled() || len(shown) == 1 {
		// Nothing sold yet: the page stays complete (doctor reports the
		// missing prices).
		shown = cat.Plans
	}
	currency := ""
	for _, p := range shown {
		currency = cmp.Or(currency, p.Monthly.Currency, p.Annual.Currency)
	}
	for i, p := range shown {
		name := planName(ctx, p)
		pp := page.PricingPlan{Key: p.Key, Name: name, Summary: planSummary(ctx, p), Free: !p.Paid(), Featured: p.Key == app.PlanPro,
			Seats: planSeats(ctx, p.Seats), APIRate: planAPIRate(ctx, p.APIRate), History: planHistory(ctx, p.AuditDays),
			UpgradeLabel: i18n.T(ctx, "pricing.plan.upgrade", "Plan", name)}
		if i > 0 {
			pp.Everything = i18n.T(ctx, "pricing.plan.everything_in", "Plan", planName(ctx, shown[i-1]))
		}
		for _, f := range app.Features {
			if p.Includes(f) {
				pp.Features = append(pp.Features, featureName(ctx, f))
			}
		}
		switch {
		case !p.Paid():
			pp.Price = i18n.Money(ctx, 0, currency)
		case iv == app.Annual && p.Annual.Amount > 0:
			pp.Price, pp.Unit = s.pricePair(ctx, p, app.Annual)
			pp.PriceNote = annualNote(ctx, p)
		case iv == app.Annual:
			pp.Price, pp.Unit = s.pricePair(ctx, p, app.Monthly)
			pp.PriceNote = i18n.T(ctx, "pricing.plan.monthly_only")
		default:
			pp.Price, pp.Unit = s.pricePair(ctx, p, app.Monthly)
		}
		if p.Annual.Amount > 0 && p.Monthly.Amount > 0 {
			v.HasAnnual = true
			if v.Saving == "" {
				v.Saving = savingText(ctx, p)
			}
		}
		v.Plans = append(v.Plans, pp)
	}
	return v
}

// pricePair words p's price at iv as its amount and its unit ("$12.00",
// "per seat / month"), so the pricing page can set them apart;
// PRO_PLAN_PRICE_LABEL, when set, words Pro's monthly price whole,
// without a unit (the operator's words, shown as they are). Both are ""
// when the plan has no amount at iv.
func (s *Server) pricePair(ctx context.Context, p app.Plan, iv app.Interval) (amount, unit string) {
	if p.Key == app.PlanPro && iv == app.Monthly && s.Config.ProPlanPriceLabel != "" {
		return s.Config.ProPlanPriceLabel, ""
	}
	pr := p.Price(iv)
	if pr.Amount == 0 {
		return "", ""
	}
	per := "workspace"
	if p.Pricing == app.PricingPerSeat {
		per = "seat"
	}
	// billing.price.unit.{seat,workspace}.{month,year}
	return i18n.Money(ctx, pr.Amount, pr.Currency), i18n.T(ctx, "billing.price.unit."+per+"."+string(pr.Interval))
}

// annualNote words what an annual price comes to a month and saves
// against paying monthly.
func annualNote(ctx context.Context, p app.Plan) string {
	per := "workspace"
	if p.Pricing == app.PricingPerSeat {
		per = "seat"
	}
	cur := p.Annual.Currency
	month := i18n.Money(ctx, p.Annual.Amount/12, cur)
	if save := 12*p.Monthly.Amount - p.Annual.Amount; p.Monthly.Amount > 0 && save > 0 {
		return i18n.T(ctx, "pricing.annual_note."+per+"_saving", "Month", month, "Saving", i18n.Money(ctx, save, cur))
	}
	return i18n.T(ctx, "pricing.annual_note."+per, "Month", month)
}

// savingText words what paying yearly saves on p, for the switch: whole
// months when it comes to that ("two months"), else a share.
func savingText(ctx context.Context, p app.Plan) string {
	save := 12*p.Monthly.Amount - p.Annual.Amount
	if save <= 0 {
		return ""
	}
	if save%p.Monthly.Amount == 0 {
		months := save / p.Monthly.Amount
		if months <= 4 {
			// Written as words: pricing.saving.months_1 … _4.
			return i18n.T(ctx, "pricing.saving.months_"+strconv.FormatInt(months, 10))
		}
		return i18n.T(ctx, "pricing.saving.months_n", "Count", i18n.Number(ctx, months))
	}
	return i18n.T(ctx, "pricing.saving.percent", "Percent", i18n.Number(ctx, save*100/(12*p.Monthly.Amount)))
}
