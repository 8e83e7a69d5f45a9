package server

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"

	"atrium/internal/app"
	"atrium/web/page"
)

// The pricing page's view, built from the catalog (app.Catalog): Free and
// the plans sold through Stripe, or every plan while billing is not set
// up, or nothing is sold yet (development shows the whole page; production
// without billing shows it with no buy buttons).

// pricingView builds "GET /pricing" for signedIn at the interval of the
// request (?interval=year for annual).
func (s *Server) pricingView(r *http.Request, signedIn bool) page.PricingView {
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
		pp := page.PricingPlan{Key: p.Key, Name: p.Name, Summary: p.Summary, Free: !p.Paid(), Featured: p.Key == app.PlanPro,
			Seats: seatsText(p.Seats), APIRate: apiRateText(p.APIRate), History: historyText(p.AuditDays),
			UpgradeLabel: "Upgrade to " + p.Name}
		if i > 0 {
			pp.Everything = "Everything in " + shown[i-1].Name
		}
		for _, f := range app.Features {
			if p.Includes(f) {
				pp.Features = append(pp.Features, app.FeatureName(f))
			}
		}
		switch {
		case !p.Paid():
			pp.Price = formatMoney(0, currency)
		case iv == app.Annual && p.Annual.Amount > 0:
			pp.Price, pp.Unit = s.pricePair(p, app.Annual)
			pp.PriceNote = annualNote(p)
		case iv == app.Annual:
			pp.Price, pp.Unit = s.pricePair(p, app.Monthly)
			pp.PriceNote = "Billed monthly only."
		default:
			pp.Price, pp.Unit = s.pricePair(p, app.Monthly)
		}
		if p.Annual.Amount > 0 && p.Monthly.Amount > 0 {
			v.HasAnnual = true
			if v.Saving == "" {
				v.Saving = savingText(p)
			}
		}
		v.Plans = append(v.Plans, pp)
	}
	return v
}

// pricePair words p's price at iv as its amount and its unit ("$12.00",
// "per seat / month"), so the pricing page can set them apart;
// PRO_PLAN_PRICE_LABEL, when set, words Pro's monthly price whole,
// without a unit. Both are "" when the plan has no amount at iv.
func (s *Server) pricePair(p app.Plan, iv app.Interval) (amount, unit string) {
	if p.Key == app.PlanPro && iv == app.Monthly && s.Config.ProPlanPriceLabel != "" {
		return s.Config.ProPlanPriceLabel, ""
	}
	pr := p.Price(iv)
	if pr.Amount == 0 {
		return "", ""
	}
	unit = "per workspace"
	if p.Pricing == app.PricingPerSeat {
		unit = "per seat"
	}
	return formatMoney(pr.Amount, pr.Currency), unit + " / " + string(pr.Interval)
}

// apiRateText words a plan's API rate.
func apiRateText(perMinute int) string {
	return strconv.Itoa(perMinute) + " API requests a minute per key"
}

// historyText words how far back a plan shows the audit log.
func historyText(days int) string {
	switch {
	case days == 0:
		return "The whole audit history"
	case days%365 == 0 && days/365 == 1:
		return "1 year of audit history"
	case days%365 == 0:
		return strconv.Itoa(days/365) + " years of audit history"
	}
	return strconv.Itoa(days) + " days of audit history"
}

// annualNote words what an annual price comes to a month and saves
// against paying monthly.
func annualNote(p app.Plan) string {
	unit := ""
	if p.Pricing == app.PricingPerSeat {
		unit = " per seat"
	}
	cur := p.Annual.Currency
	note := fmt.Sprintf("That is %s%s a month", formatMoney(p.Annual.Amount/12, cur), unit)
	if save := 12*p.Monthly.Amount - p.Annual.Amount; p.Monthly.Amount > 0 && save > 0 {
		note += fmt.Sprintf(", %s%s a year less than monthly", formatMoney(save, cur), unit)
	}
	return note + "."
}

// savingText words what paying yearly saves on p, for the switch: whole
// months when it comes to that, else a share.
func savingText(p app.Plan) string {
	save := 12*p.Monthly.Amount - p.Annual.Amount
	if save <= 0 {
		return ""
	}
	if save%p.Monthly.Amount == 0 {
		months := save / p.Monthly.Amount
		word := map[int64]string{1: "one month", 2: "two months", 3: "three months", 4: "four months"}[months]
		if word == "" {
			word = strconv.FormatInt(months, 10) + " months"
		}
		return "Pay yearly and get " + word + " free."
	}
	return fmt.Sprintf("Pay yearly and save %d%%.", save*100/(12*p.Monthly.Amount))
}
