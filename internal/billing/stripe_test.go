package billing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
)

func newClient(base string) *billing.Client {
	return billing.New(billing.Config{SecretKey: "sk_test_123", PriceID: "price_pro", APIBase: base})
}

func TestClient_StartCheckout(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 8, 3, 0, 0, time.UTC)

	t.Run("NewCustomer", func(t *testing.T) {
		rec := billingtest.NewRecorder(t, mock)
		ws := &app.Workspace{ID: 42, Name: "Acme Inc", Slug: "acme-inc"}
		co, err := newClient(rec.URL).StartCheckout(ctx, ws, "owner@example.com", "https://app.test/ok", "https://app.test/cancel", at)
		if err != nil {
			t.Fatalf("StartCheckout: %v", err)
		}
		if !strings.HasPrefix(co.URL, "https://") || !strings.HasPrefix(co.SessionID, "cs_") || !strings.HasPrefix(co.CustomerID, "cus_") {
			t.Fatalf("checkout = %+v, want an https URL, a cs_ session and a cus_ customer", co)
		}

		customers := rec.Sent("POST /v1/customers")
		if len(customers) != 1 {
			t.Fatalf("%d customers created, want 1", len(customers))
		}
		for k, want := range map[string]string{"email": "owner@example.com", "name": "Acme Inc", "metadata[workspace_id]": "42"} {
			if got := customers[0].Get(k); got != want {
				t.Errorf("customer %s=%q, want %q", k, got, want)
			}
		}
		sessions := rec.Sent("POST /v1/checkout/sessions")
		if len(sessions) != 1 {
			t.Fatalf("%d checkout sessions created, want 1", len(sessions))
		}
		// Every later event must be traceable to the workspace: the session
		// and the subscription it creates carry its id.
		for k, want := range map[string]string{
			"mode": "subscription", "customer": co.CustomerID, "client_reference_id": "42",
			"success_url": "https://app.test/ok", "cancel_url": "https://app.test/cancel",
			"line_items[0][price]": "price_pro", "line_items[0][quantity]": "1",
			"metadata[workspace_id]": "42", "subscription_data[metadata][workspace_id]": "42",
		} {
			if got := sessions[0].Get(k); got != want {
				t.Errorf("checkout session %s=%q, want %q", k, got, want)
			}
		}
	})

	t.Run("ExistingCustomer", func(t *testing.T) {
		rec := billingtest.NewRecorder(t, mock)
		ws := &app.Workspace{ID: 7, Name: "Beta", Slug: "beta", StripeCustomerID: "cus_existing"}
		co, err := newClient(rec.URL).StartCheckout(ctx, ws, "owner@example.com", "https://app.test/ok", "https://app.test/cancel", at)
		if err != nil {
			t.Fatalf("StartCheckout: %v", err)
		}
		if got, want := co.CustomerID, "cus_existing"; got != want {
			t.Errorf("CustomerID=%q, want %q", got, want)
		}
		if n := len(rec.Sent("POST /v1/customers")); n != 0 {
			t.Errorf("%d customers created for a workspace that has one, want 0", n)
		}
		if s := rec.Sent("POST /v1/checkout/sessions"); len(s) != 1 || s[0].Get("customer") != "cus_existing" {
			t.Errorf("checkout sessions %v, want one for cus_existing", s)
		}
	})
}

// TestClient_StartCheckoutIdempotency: repeated Checkout requests of one
// workspace within a CheckoutWindow carry one Idempotency-Key per Stripe
// call, so Stripe answers them with the first customer and session; a
// later window, another workspace or other parameters get another key.
// (stripe-mock does not replay keys: it makes a new customer each time,
// so the session keys are checked for a workspace that has its customer,
// as every click after the first Stripe answer has.)
func TestClient_StartCheckoutIdempotency(t *testing.T) {
	t.Parallel()
	rec := billingtest.NewRecorder(t, billingtest.StripeMock(t))
	c := newClient(rec.URL)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		route    string
		customer string
	}{
		{"POST /v1/customers", ""},
		{"POST /v1/checkout/sessions", "cus_existing"},
	} {
		t.Run(tc.route, func(t *testing.T) {
			before := len(rec.Keys(tc.route))
			for _, req := range []struct {
				wsID int64
				at   time.Time
			}{{42, at}, {42, at.Add(billing.CheckoutWindow - time.Second)}, {42, at.Add(billing.CheckoutWindow)}, {43, at}} {
				ws := &app.Workspace{ID: req.wsID, Name: "Acme Inc", StripeCustomerID: tc.customer}
				if _, err := c.StartCheckout(ctx, ws, "owner@example.com", "https://app.test/ok", "https://app.test/cancel", req.at); err != nil {
					t.Fatalf("StartCheckout: %v", err)
				}
			}
			keys := rec.Keys(tc.route)[before:]
			if len(keys) != 4 {
				t.Fatalf("%d requests, want 4", len(keys))
			}
			if keys[0] == "" || keys[1] != keys[0] {
				t.Errorf("keys %q and %q within one window, want one non-empty key", keys[0], keys[1])
			}
			if keys[2] == keys[0] || keys[3] == keys[0] || keys[3] == keys[2] {
				t.Errorf("keys %q, want the next window and another workspace to differ", keys)
			}
		})
	}
	if a, b := billing.IdempotencyKey("checkout", 42, at, "cus_1", "price_pro"), billing.IdempotencyKey("checkout", 42, at, "cus_1", "price_other"); a == b {
		t.Errorf("another price gives the same key %q", a)
	}
}

func TestClient_PortalURL(t *testing.T) {
	t.Parallel()
	rec := billingtest.NewRecorder(t, billingtest.StripeMock(t))
	u, err := newClient(rec.URL).PortalURL(context.Background(), "cus_123", "https://app.test/w/acme/billing")
	if err != nil {
		t.Fatalf("PortalURL: %v", err)
	}
	if !strings.HasPrefix(u, "https://") {
		t.Errorf("portal URL %q, want https", u)
	}
	sent := rec.Sent("POST /v1/billing_portal/sessions")
	if len(sent) != 1 || sent[0].Get("customer") != "cus_123" || sent[0].Get("return_url") != "https://app.test/w/acme/billing" {
		t.Errorf("portal sessions %v, want one for cus_123 returning to the billing page", sent)
	}
}

func TestClient_FetchSubscription(t *testing.T) {
	t.Parallel()
	c := newClient(billingtest.StripeMock(t))
	ctx := context.Background()

	// stripe-mock answers with its fixture subscription: active, with a
	// customer, under the id asked for.
	check := func(t *testing.T, upd *app.BillingUpdate, wantSub string) {
		t.Helper()
		if upd == nil {
			t.Fatal("no subscription, want stripe-mock's fixture")
		}
		if wantSub != "" && upd.SubscriptionID != wantSub {
			t.Errorf("SubscriptionID=%q, want %q", upd.SubscriptionID, wantSub)
		}
		if upd.SubscriptionID == "" || !strings.HasPrefix(upd.CustomerID, "cus_") {
			t.Errorf("SubscriptionID=%q CustomerID=%q, want both set", upd.SubscriptionID, upd.CustomerID)
		}
		if got, want := upd.Status, app.SubActive; got != want {
			t.Errorf("Status=%q, want %q", got, want)
		}
		if got, want := upd.Action, app.ActionBillingSynced; got != want {
			t.Errorf("Action=%q, want %q", got, want)
		}
		if upd.CancelAtEnd == nil || upd.AsOf.IsZero() {
			t.Errorf("CancelAtEnd=%v AsOf=%v, want both set", upd.CancelAtEnd, upd.AsOf)
		}
	}
	t.Run("ByID", func(t *testing.T) {
		upd, err := c.FetchSubscription(ctx, "sub_123")
		if err != nil {
			t.Fatalf("FetchSubscription: %v", err)
		}
		check(t, upd, "sub_123")
	})
	t.Run("ByCustomer", func(t *testing.T) {
		upd, err := c.FindCustomerSubscription(ctx, "cus_123")
		if err != nil {
			t.Fatalf("FindCustomerSubscription: %v", err)
		}
		check(t, upd, "")
	})
}

// TestClient_StripeError checks that a refused call says what was being
// done, with Stripe's message and request id, for the log.
func TestClient_StripeError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Request-Id", "req_abc")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such customer: 'cus_gone'"}}`)
	}))
	t.Cleanup(srv.Close)

	_, err := newClient(srv.URL).PortalURL(context.Background(), "cus_gone", "https://app.test/")
	if err == nil {
		t.Fatal("PortalURL succeeded against a failing Stripe")
	}
	for _, want := range []string{"create portal session", "No such customer", "resource_missing", "req_abc"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestClient_StartCheckoutTrial: the catalog's trial reaches Checkout,
// without a card unless TrialNeedsCard, and only for a workspace that
// never had a subscription.
func TestClient_StartCheckoutTrial(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 8, 3, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		needsCard bool
		ws        app.Workspace
		want      map[string]string
	}{
		{"NoCard", false, app.Workspace{ID: 1, StripeCustomerID: "cus_1"}, map[string]string{
			"subscription_data[trial_period_days]": "14", "payment_method_collection": "if_required",
			"subscription_data[trial_settings][end_behavior][missing_payment_method]": "cancel"}},
		{"CardUpFront", true, app.Workspace{ID: 2, StripeCustomerID: "cus_2"}, map[string]string{
			"subscription_data[trial_period_days]": "14", "payment_method_collection": "",
			"subscription_data[trial_settings][end_behavior][missing_payment_method]": ""}},
		{"HadSubscription", false, app.Workspace{ID: 3, StripeCustomerID: "cus_3", StripeSubscriptionID: "sub_old",
			SubscriptionStatus: app.SubCanceled}, map[string]string{
			"subscription_data[trial_period_days]": "", "payment_method_collection": "",
			"subscription_data[trial_settings][end_behavior][missing_payment_method]": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := billingtest.NewRecorder(t, mock)
			plans := &app.Catalog{Plans: []app.Plan{{Key: app.PlanFree}, {Key: app.PlanPro}}, TrialDays: 14, TrialNeedsCard: tc.needsCard}
			c := billing.New(billing.Config{SecretKey: "sk_test_123", PriceID: "price_pro", APIBase: rec.URL, Plans: plans})
			if _, err := c.StartCheckout(ctx, &tc.ws, "owner@example.com", "https://app.test/ok", "https://app.test/cancel", at); err != nil {
				t.Fatalf("StartCheckout: %v", err)
			}
			sessions := rec.Sent("POST /v1/checkout/sessions")
			if len(sessions) != 1 {
				t.Fatalf("%d sessions, want 1", len(sessions))
			}
			for k, want := range tc.want {
				if got := sessions[0].Get(k); got != want {
					t.Errorf("%s=%q, want %q", k, got, want)
				}
			}
		})
	}
	// The trial settings are part of the idempotency key: a request made
	// before the trial was configured is not answered with its session.
	rec := billingtest.NewRecorder(t, mock)
	ws := &app.Workspace{ID: 9, StripeCustomerID: "cus_9"}
	for _, days := range []int{0, 14} {
		plans := &app.Catalog{Plans: []app.Plan{{Key: app.PlanFree}, {Key: app.PlanPro}}, TrialDays: days}
		c := billing.New(billing.Config{SecretKey: "sk_test_123", PriceID: "price_pro", APIBase: rec.URL, Plans: plans})
		if _, err := c.StartCheckout(ctx, ws, "owner@example.com", "https://app.test/ok", "https://app.test/cancel", at); err != nil {
			t.Fatalf("StartCheckout: %v", err)
		}
	}
	if keys := rec.Keys("POST /v1/checkout/sessions"); len(keys) != 2 || keys[0] == keys[1] {
		t.Errorf("idempotency keys %v, want two different", keys)
	}
}
