package main

import (
	"fmt"
	"io"
	"strings"

	"atrium/internal/app"
	"atrium/internal/config"
)

// printCatalog prints the plan catalog, a plan a line (prices and
// intervals, seats, API rate, audit history, features), then each problem
// Catalog.Check finds; it reports false when there is one.
func printCatalog(w io.Writer, cfg *config.Config) bool {
	label := "plans"
	for _, p := range cfg.Plans.Plans {
		fmt.Fprintf(w, "  %-21s %s\n", label, planSummary(p))
		label = ""
	}
	if cfg.ProPlanPriceLabel != "" {
		fmt.Fprintf(w, "  %-21s Pro's monthly price is worded %q (PRO_PLAN_PRICE_LABEL)\n", "", cfg.ProPlanPriceLabel)
	}
	problems := cfg.Plans.Check()
	for _, p := range problems {
		fmt.Fprintf(w, "  %-21s %s\n", "catalog problem", p)
	}
	return len(problems) == 0
}

// planSummary words one plan for check-config.
func planSummary(p app.Plan) string {
	parts := []string{}
	if p.Paid() {
		var prices []string
		for _, pr := range []app.Price{p.Monthly, p.Annual} {
			amount := app.FormatMoney(pr.Amount, pr.Currency) + " " + intervalWord(pr.Interval)
			if pr.ID == "" {
				prices = append(prices, amount+" (not sold: "+priceEnv(p.Key, pr.Interval)+" is empty)")
			} else {
				prices = append(prices, amount+" ("+pr.ID+")")
			}
		}
		unit := "per workspace"
		if p.Pricing == app.PricingPerSeat {
			unit = "per seat"
		}
		parts = append(parts, unit+" "+strings.Join(prices, ", "))
	}
	parts = append(parts, seats(p.Seats)+" seats", fmt.Sprintf("%d API requests a minute per key", p.APIRate))
	if p.AuditDays == 0 {
		parts = append(parts, "all audit history")
	} else {
		parts = append(parts, fmt.Sprintf("%d days of audit history", p.AuditDays))
	}
	features := []string{}
	for _, f := range p.Features {
		features = append(features, string(f))
	}
	if len(features) == 0 {
		features = []string{"no extra features"}
	}
	parts = append(parts, strings.Join(features, ", "))
	return p.Name + ": " + strings.Join(parts, "; ")
}
