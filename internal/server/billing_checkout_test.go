package server_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"atrium/internal/billing/billingtest"
)

// TestBilling_CheckoutIdempotent: five parallel clicks on Upgrade reach
// Stripe as one request per call, with one Idempotency-Key, which Stripe
// answers with the first customer and Checkout Session. The requests pass
// through a recording proxy in front of stripe-mock, which itself does not
// replay keys (it makes a new customer each time): the first round checks
// the customer call, the second, once the workspace has its customer as
// every click after Stripe's first answer does, the session call.
func TestBilling_CheckoutIdempotent(t *testing.T) {
	t.Parallel()
	rec := billingtest.NewRecorder(t, billingtest.StripeMock(t))
	a := newTestApp(t, "sqlite", withStripe(rec.URL))
	owner, slug, _ := billingOwner(t, a, "owner@example.com")
	path := "/w/" + slug + "/billing/checkout"

	clickFive := func() []string {
		t.Helper()
		locations := make([]string, 5)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range locations {
			wg.Go(func() {
				<-start
				res := owner.Post(path, nil)
				if res.StatusCode != http.StatusSeeOther {
					t.Errorf("click %d: status %d, want 303\n%s", i, res.StatusCode, res.Body)
				}
				locations[i] = res.Location()
			})
		}
		close(start)
		wg.Wait()
		return locations
	}
	// sameKey checks that the calls that reached Stripe share one key. In
	// the first round a click that starts after another stored the customer
	// makes no customer call, so up to five calls are expected.
	sameKey := func(route string, keys []string, want int) {
		t.Helper()
		if len(keys) == 0 || len(keys) > 5 || want > 0 && len(keys) != want {
			t.Fatalf("%s: %d requests, want %d", route, len(keys), max(want, 1))
		}
		for _, k := range keys {
			if k == "" || k != keys[0] || !strings.HasPrefix(k, "atrium-") {
				t.Errorf("%s: Idempotency-Keys %q, want one atrium- key for the five", route, keys)
				return
			}
		}
	}

	clickFive()
	customerCalls := len(rec.Keys("POST /v1/customers"))
	sameKey("POST /v1/customers", rec.Keys("POST /v1/customers"), 0)
	customer := a.billingState(t, slug).StripeCustomerID
	if !strings.HasPrefix(customer, "cus_") {
		t.Fatalf("customer %q after the first clicks", customer)
	}

	before := len(rec.Keys("POST /v1/checkout/sessions"))
	locations := clickFive()
	sameKey("POST /v1/checkout/sessions", rec.Keys("POST /v1/checkout/sessions")[before:], 5)
	if n := len(rec.Keys("POST /v1/customers")); n != customerCalls {
		t.Errorf("%d customer requests, want still %d: the workspace has its customer", n, customerCalls)
	}
	for _, l := range locations {
		if l != locations[0] || !strings.HasPrefix(l, "https://checkout.stripe.com/") {
			t.Errorf("Checkout URLs %q, want one", locations)
			break
		}
	}
	for _, form := range rec.Sent("POST /v1/checkout/sessions")[before:] {
		if got := form.Get("customer"); got != customer {
			t.Errorf("session for customer %q, want %q", got, customer)
		}
	}
}
