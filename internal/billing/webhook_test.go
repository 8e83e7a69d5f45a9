package billing_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
)

const secret = "whsec_test_secret"

func TestVerifyEvent(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	ev := billingtest.Event{ID: "evt_1", Type: billing.EventSubscriptionUpdated, Created: created,
		Object: map[string]any{"id": "sub_1", "object": "subscription", "status": "active", "customer": "cus_1"}}
	payload := ev.JSON()
	now := time.Now()

	t.Run("Valid", func(t *testing.T) {
		got, err := billing.VerifyEvent(payload, billingtest.Sign(payload, secret, now), secret)
		if err != nil {
			t.Fatalf("VerifyEvent: %v", err)
		}
		want := &app.StripeEvent{ID: "evt_1", Type: billing.EventSubscriptionUpdated, APIVersion: billing.APIVersion,
			Created: created, Payload: payload}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("event (-want +got):\n%s", diff)
		}
	})
	t.Run("OtherAPIVersion", func(t *testing.T) {
		old := ev
		old.APIVersion = "2020-08-27"
		p := old.JSON()
		got, err := billing.VerifyEvent(p, billingtest.Sign(p, secret, now), secret)
		if err != nil {
			t.Fatalf("VerifyEvent refused an event of API version 2020-08-27: %v", err)
		}
		if got.APIVersion != "2020-08-27" {
			t.Errorf("APIVersion=%q, want 2020-08-27", got.APIVersion)
		}
	})

	for _, tc := range []struct {
		name    string
		payload []byte
		header  string
	}{
		{"WrongSecret", payload, billingtest.Sign(payload, "whsec_other", now)},
		{"Tampered", append([]byte(nil), payload[:len(payload)-1]...), billingtest.Sign(payload, secret, now)},
		{"Stale", payload, billingtest.Sign(payload, secret, now.Add(-billing.SignatureTolerance-time.Minute))},
		{"Future", payload, billingtest.Sign(payload, secret, now.Add(billing.SignatureTolerance+time.Minute))},
		{"MissingHeader", payload, ""},
		{"Garbage", payload, "t=1,v1=nothex"},
		{"NoID", []byte(`{"object":"event","type":"invoice.paid"}`), billingtest.Sign([]byte(`{"object":"event","type":"invoice.paid"}`), secret, now)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := billing.VerifyEvent(tc.payload, tc.header, secret)
			if !errors.Is(err, billing.ErrBadSignature) {
				t.Fatalf("VerifyEvent = %+v, %v; want ErrBadSignature", got, err)
			}
		})
	}
}

func TestInterpret(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	periodEnd := time.Date(2026, 12, 25, 9, 0, 0, 0, time.UTC)
	no, yes := false, true
	sub := func(status string, extra map[string]any) map[string]any {
		o := map[string]any{"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": status,
			"current_period_end": periodEnd.Unix(), "cancel_at_period_end": false, "metadata": map[string]any{"workspace_id": "7"}}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	for _, tc := range []struct {
		name   string
		typ    string
		object map[string]any
		want   *app.BillingUpdate
	}{
		{"CheckoutCompleted", billing.EventCheckoutCompleted,
			map[string]any{"id": "cs_1", "object": "checkout.session", "mode": "subscription", "customer": "cus_1",
				"subscription": "sub_1", "client_reference_id": "7"},
			&app.BillingUpdate{WorkspaceID: 7, CustomerID: "cus_1", SubscriptionID: "sub_1", Action: billing.ActionCheckoutCompleted, AsOf: created}},
		{"CheckoutPaymentModeIgnored", billing.EventCheckoutCompleted,
			map[string]any{"id": "cs_1", "object": "checkout.session", "mode": "payment", "customer": "cus_1"}, nil},
		{"SubscriptionCreated", billing.EventSubscriptionCreated, sub("active", nil),
			&app.BillingUpdate{WorkspaceID: 7, CustomerID: "cus_1", SubscriptionID: "sub_1", Status: app.SubActive, PeriodEnd: periodEnd,
				CancelAtEnd: &no, Action: app.ActionSubscriptionUpdated, AsOf: created}},
		{"SubscriptionUpdatedExpandedCustomer", billing.EventSubscriptionUpdated,
			sub("past_due", map[string]any{"customer": map[string]any{"id": "cus_1", "object": "customer"}, "cancel_at_period_end": true, "metadata": map[string]any{}}),
			&app.BillingUpdate{CustomerID: "cus_1", SubscriptionID: "sub_1", Status: app.SubPastDue, PeriodEnd: periodEnd,
				CancelAtEnd: &yes, Action: app.ActionSubscriptionUpdated, AsOf: created}},
		{"SubscriptionPerSeatTrial", billing.EventSubscriptionUpdated,
			sub("trialing", map[string]any{"trial_end": periodEnd.Unix(), "items": map[string]any{"object": "list",
				"data": []any{map[string]any{"id": "si_1", "price": map[string]any{"id": "price_py", "object": "price"}, "quantity": 12}}}}),
			&app.BillingUpdate{WorkspaceID: 7, CustomerID: "cus_1", SubscriptionID: "sub_1", Status: app.SubTrialing, PeriodEnd: periodEnd,
				CancelAtEnd: &no, Action: app.ActionSubscriptionUpdated, AsOf: created, PriceID: "price_py", Quantity: 12, TrialEnd: periodEnd}},
		{"SubscriptionDeleted", billing.EventSubscriptionDeleted, sub("canceled", nil),
			&app.BillingUpdate{WorkspaceID: 7, CustomerID: "cus_1", SubscriptionID: "sub_1", Status: app.SubCanceled, PeriodEnd: periodEnd,
				CancelAtEnd: &no, Action: app.ActionSubscriptionDeleted, AsOf: created}},
		{"SubscriptionDeletedWithoutStatus", billing.EventSubscriptionDeleted,
			map[string]any{"id": "sub_1", "object": "subscription", "customer": "cus_1"},
			&app.BillingUpdate{CustomerID: "cus_1", SubscriptionID: "sub_1", Status: app.SubCanceled, Action: app.ActionSubscriptionDeleted, AsOf: created}},
		{"InvoicePaid", billing.EventInvoicePaid,
			map[string]any{"id": "in_1", "object": "invoice", "customer": "cus_1", "subscription": "sub_1"},
			&app.BillingUpdate{CustomerID: "cus_1", Action: app.ActionInvoicePaid, AsOf: created,
				Payment: &app.PaymentUpdate{SubscriptionID: "sub_1"}}},
		{"InvoiceFailed", billing.EventInvoiceFailed,
			map[string]any{"id": "in_1", "object": "invoice", "customer": "cus_1", "subscription": "sub_1",
				"hosted_invoice_url": "https://invoice.stripe.com/i/acct_1/test_1", "attempt_count": 2},
			&app.BillingUpdate{CustomerID: "cus_1", Action: app.ActionPaymentFailed, AsOf: created,
				Payment: &app.PaymentUpdate{Failed: true, SubscriptionID: "sub_1", InvoiceURL: "https://invoice.stripe.com/i/acct_1/test_1", AttemptCount: 2}}},
		{"InvoiceFailedPlainHTTPLink", billing.EventInvoiceFailed,
			map[string]any{"id": "in_1", "object": "invoice", "customer": "cus_1", "subscription": "sub_1",
				"hosted_invoice_url": "http://invoice.example/i/1", "attempt_count": 1},
			&app.BillingUpdate{CustomerID: "cus_1", Action: app.ActionPaymentFailed, AsOf: created,
				Payment: &app.PaymentUpdate{Failed: true, SubscriptionID: "sub_1", AttemptCount: 1}}},
		{"TrialWillEnd", billing.EventTrialWillEnd, sub("trialing", map[string]any{"trial_end": periodEnd.Unix()}),
			&app.BillingUpdate{WorkspaceID: 7, CustomerID: "cus_1", Action: app.ActionTrialEnding, AsOf: created,
				TrialEnding: true, TrialEnd: periodEnd}},
		{"UnknownType", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := billingtest.Event{ID: "evt_1", Type: tc.typ, Created: created, Object: tc.object}.JSON()
			got, err := billing.Interpret(&app.StripeEvent{ID: "evt_1", Type: tc.typ, Created: created, Payload: p})
			if err != nil {
				t.Fatalf("Interpret: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("update (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("SubscriptionWithoutStatus", func(t *testing.T) {
		p := billingtest.Event{ID: "evt_1", Type: billing.EventSubscriptionUpdated, Created: created,
			Object: map[string]any{"id": "sub_1", "customer": "cus_1"}}.JSON()
		if upd, err := billing.Interpret(&app.StripeEvent{ID: "evt_1", Type: billing.EventSubscriptionUpdated, Payload: p}); err == nil {
			t.Errorf("Interpret = %+v, want an error for a subscription without status", upd)
		}
	})
	t.Run("NotJSON", func(t *testing.T) {
		if upd, err := billing.Interpret(&app.StripeEvent{ID: "evt_1", Type: billing.EventInvoicePaid, Payload: []byte("{")}); err == nil {
			t.Errorf("Interpret = %+v, want a decode error", upd)
		}
	})
}
