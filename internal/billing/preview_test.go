package billing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
)

// TestClient_PreviewAgainstStripeMock: the seat and plan change previews are answered by
// stripe-mock itself through the Create Preview Invoice API, so a
// development server pointed at it shows numbers, not an error.
func TestClient_PreviewAgainstStripeMock(t *testing.T) {
	rec := billingtest.NewRecorder(t, billingtest.StripeMock(t))
	plans := app.NewCatalog(app.CatalogConfig{Currency: "usd", FreeSeats: 3, ProMonthly: "price_pm", ProAnnual: "price_py",
		ProMonthlyAmount: 1200, ProAnnualAmount: 12000})
	c := billing.New(billing.Config{SecretKey: "sk_test_preview", APIBase: rec.URL, Plans: plans})
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

	seats, err := c.PreviewSeats(context.Background(), "sub_1", 4, at)
	if err != nil {
		t.Fatalf("PreviewSeats: %v", err)
	}
	if seats.Currency == "" {
		t.Errorf("seat preview %+v has no currency", seats)
	}
	sent := rec.Sent("POST /v1/invoices/create_preview")
	if len(sent) != 1 || sent[0].Get("subscription") != "sub_1" || sent[0].Get("subscription_details[items][0][quantity]") != "4" ||
		sent[0].Get("subscription_details[proration_date]") != fmt.Sprint(at.Unix()) ||
		sent[0].Get("subscription_details[proration_behavior]") != "create_prorations" {
		t.Fatalf("seat preview sent %v", sent)
	}
	ws := &app.Workspace{ID: 1, StripeCustomerID: "cus_1", StripeSubscriptionID: "sub_1", Plan: app.PlanPro, SubscriptionStatus: app.SubActive}
	pv, err := c.PreviewChange(context.Background(), ws, "price_py", at)
	if err != nil || pv.Currency == "" || pv.Interval != app.Annual {
		t.Fatalf("PreviewChange to annual = %+v, %v", pv, err)
	}
	if sent := rec.Sent("POST /v1/invoices/create_preview"); len(sent) != 2 || sent[1].Get("subscription_details[items][0][price]") != "price_py" ||
		sent[1].Get("customer") != "cus_1" {
		t.Errorf("change preview sent %v", sent)
	}
	if n := len(rec.Sent("GET /v1/invoices/upcoming")); n != 0 {
		t.Errorf("%d upcoming invoice requests: the preview fell back although stripe-mock answered", n)
	}
}
