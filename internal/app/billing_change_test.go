package app_test

import (
	"testing"

	"atrium/internal/app"
)

func TestCatalog_ChangeKind(t *testing.T) {
	c := app.NewCatalog(app.CatalogConfig{Currency: "usd", ProMonthly: "price_pm", ProAnnual: "price_py",
		BusinessMonthly: "price_bm", BusinessAnnual: "price_by"})
	for _, tc := range []struct {
		name, from, to string
		want           app.PlanChange
	}{
		{"HigherPlan", "price_pm", "price_bm", app.ChangeUpgrade},
		{"HigherPlanShorterInterval", "price_py", "price_bm", app.ChangeUpgrade},
		{"MonthlyToAnnual", "price_pm", "price_py", app.ChangeUpgrade},
		{"LowerPlan", "price_bm", "price_pm", app.ChangeDowngrade},
		{"LowerPlanLongerInterval", "price_bm", "price_py", app.ChangeDowngrade},
		{"AnnualToMonthly", "price_by", "price_bm", app.ChangeDowngrade},
		{"SamePrice", "price_pm", "price_pm", app.ChangeNone},
		{"UnknownTarget", "price_pm", "price_nope", app.ChangeNone},
		{"UnlistedCurrentIsPro", "price_legacy", "price_bm", app.ChangeUpgrade},
		{"UnlistedCurrentToProAnnual", "price_legacy", "price_py", app.ChangeUpgrade},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.ChangeKind(tc.from, tc.to); got != tc.want {
				t.Errorf("ChangeKind(%s, %s) = %d, want %d", tc.from, tc.to, got, tc.want)
			}
		})
	}
}
