package billing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
)

// recorder is a proxy in front of stripe-mock that keeps the form bodies
// of the requests the client sends, by path.
type recorder struct {
	URL  string
	mu   sync.Mutex
	reqs map[string][]url.Values
}

func newRecorder(t *testing.T, upstream string) *recorder {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{reqs: map[string][]url.Values{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		rec.mu.Lock()
		rec.reqs[r.Method+" "+r.URL.Path] = append(rec.reqs[r.Method+" "+r.URL.Path], form)
		rec.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// sent returns the forms posted to "METHOD /path".
func (r *recorder) sent(route string) []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[route]
}

func newClient(base string) *billing.Client {
	return billing.New(billing.Config{SecretKey: "sk_test_123", PriceID: "price_pro", APIBase: base})
}

func TestClient_StartCheckout(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	ctx := context.Background()

	t.Run("NewCustomer", func(t *testing.T) {
		rec := newRecorder(t, mock)
		ws := &app.Workspace{ID: 42, Name: "Acme Inc", Slug: "acme-inc"}
		co, err := newClient(rec.URL).StartCheckout(ctx, ws, "owner@example.com", "https://app.test/ok", "https://app.test/cancel")
		if err != nil {
			t.Fatalf("StartCheckout: %v", err)
		}
		if !strings.HasPrefix(co.URL, "https://") || !strings.HasPrefix(co.SessionID, "cs_") || !strings.HasPrefix(co.CustomerID, "cus_") {
			t.Fatalf("checkout = %+v, want an https URL, a cs_ session and a cus_ customer", co)
		}

		customers := rec.sent("POST /v1/customers")
		if len(customers) != 1 {
			t.Fatalf("%d customers created, want 1", len(customers))
		}
		for k, want := range map[string]string{"email": "owner@example.com", "name": "Acme Inc", "metadata[workspace_id]": "42"} {
			if got := customers[0].Get(k); got != want {
				t.Errorf("customer %s=%q, want %q", k, got, want)
			}
		}
		sessions := rec.sent("POST /v1/checkout/sessions")
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
		rec := newRecorder(t, mock)
		ws := &app.Workspace{ID: 7, Name: "Beta", Slug: "beta", StripeCustomerID: "cus_existing"}
		co, err := newClient(rec.URL).StartCheckout(ctx, ws, "owner@example.com", "https://app.test/ok", "https://app.test/cancel")
		if err != nil {
			t.Fatalf("StartCheckout: %v", err)
		}
		if got, want := co.CustomerID, "cus_existing"; got != want {
			t.Errorf("CustomerID=%q, want %q", got, want)
		}
		if n := len(rec.sent("POST /v1/customers")); n != 0 {
			t.Errorf("%d customers created for a workspace that has one, want 0", n)
		}
		if s := rec.sent("POST /v1/checkout/sessions"); len(s) != 1 || s[0].Get("customer") != "cus_existing" {
			t.Errorf("checkout sessions %v, want one for cus_existing", s)
		}
	})
}

func TestClient_PortalURL(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, billingtest.StripeMock(t))
	u, err := newClient(rec.URL).PortalURL(context.Background(), "cus_123", "https://app.test/w/acme/billing")
	if err != nil {
		t.Fatalf("PortalURL: %v", err)
	}
	if !strings.HasPrefix(u, "https://") {
		t.Errorf("portal URL %q, want https", u)
	}
	sent := rec.sent("POST /v1/billing_portal/sessions")
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
