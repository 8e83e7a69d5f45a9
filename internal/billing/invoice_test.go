package billing_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
)

// TestClient_CheckoutOptions: every Checkout Session accepts promotion
// codes; the Stripe Tax fields are sent only with AutomaticTax, and then
// all of those Stripe requires for an existing customer.
func TestClient_CheckoutOptions(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	at := time.Date(2026, 11, 25, 8, 3, 0, 0, time.UTC)
	taxFields := map[string]string{
		"automatic_tax[enabled]": "true", "tax_id_collection[enabled]": "true",
		"customer_update[address]": "auto", "customer_update[name]": "auto",
	}
	for _, tax := range []bool{false, true} {
		name := "WithoutTax"
		if tax {
			name = "WithTax"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := billingtest.NewRecorder(t, mock)
			c := billing.New(billing.Config{SecretKey: "sk_test_123", PriceID: "price_pro", APIBase: rec.URL, AutomaticTax: tax})
			ws := &app.Workspace{ID: 7, Name: "Acme Inc", StripeCustomerID: "cus_existing"}
			if _, err := c.StartCheckout(context.Background(), ws, "owner@example.com", "https://app.test/ok", "https://app.test/cancel", at); err != nil {
				t.Fatalf("StartCheckout: %v", err)
			}
			sessions := rec.Sent("POST /v1/checkout/sessions")
			if len(sessions) != 1 {
				t.Fatalf("%d checkout sessions created, want 1", len(sessions))
			}
			form := sessions[0]
			if got, want := form.Get("allow_promotion_codes"), "true"; got != want {
				t.Errorf("allow_promotion_codes=%q, want %q", got, want)
			}
			for k, want := range taxFields {
				if !tax {
					if form.Has(k) {
						t.Errorf("%s=%q sent without AutomaticTax", k, form.Get(k))
					}
					continue
				}
				if got := form.Get(k); got != want {
					t.Errorf("%s=%q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestClient_Invoices reads stripe-mock's invoice list: its fixture is
// one draft invoice of $10.00, without a number or links yet (Stripe adds
// them when it finalises the invoice).
func TestClient_Invoices(t *testing.T) {
	t.Parallel()
	rec := billingtest.NewRecorder(t, billingtest.StripeMock(t))
	invoices, err := newClient(rec.URL).Invoices(context.Background(), "cus_abc")
	if err != nil {
		t.Fatalf("Invoices: %v", err)
	}
	want := billing.Invoice{Created: time.Unix(1234567890, 0).UTC(), Amount: 1000, Currency: "usd", Status: "draft"}
	if len(invoices) != 1 {
		t.Fatalf("%d invoices, want stripe-mock's 1", len(invoices))
	}
	if diff := cmp.Diff(want, invoices[0]); diff != "" {
		t.Errorf("invoice mismatch (-want +got):\n%s", diff)
	}
	sent := rec.Sent("GET /v1/invoices")
	if len(sent) != 1 {
		t.Fatalf("%d invoice list requests, want 1 (one page only)", len(sent))
	}
}

// TestClient_SubscriptionDiscount: stripe-mock's subscription has no
// discount, which reads as none rather than an error.
func TestClient_SubscriptionDiscount(t *testing.T) {
	t.Parallel()
	d, err := newClient(billingtest.StripeMock(t)).SubscriptionDiscount(context.Background(), "sub_abc")
	if err != nil {
		t.Fatalf("SubscriptionDiscount: %v", err)
	}
	if d != nil {
		t.Fatalf("discount %+v, want none", d)
	}
}
