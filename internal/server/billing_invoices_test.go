package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing/billingtest"
)

// TestBillingInvoices_Roles: the owner of a paying workspace sees its
// invoices from stripe-mock (one draft of $10.00), read again from Stripe
// only once the cache is a minute old; an admin sees no invoice section, a
// member gets 403, and the owner of another workspace gets 404 and never
// causes a request for this workspace's customer.
func TestBillingInvoices_Roles(t *testing.T) {
	t.Parallel()
	rec := billingtest.NewRecorder(t, billingtest.StripeMock(t))
	a := newTestApp(t, "sqlite", withStripe(rec.URL))
	owner, slug, wsID := billingOwner(t, a, "owner@example.com")
	a.mustApply(t, subscriptionEvent("evt_paid", "customer.subscription.created", "active", time.Now(), wsID, "cus_acme"), app.EventApplied)
	admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
	member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
	other, otherSlug, otherID := billingOwner(t, a, "other@example.com")
	a.mustApply(t, subscriptionEvent("evt_other", "customer.subscription.created", "active", time.Now(), otherID, "cus_other"), app.EventApplied)
	path := "/w/" + slug + "/billing"

	page := owner.Get(path)
	if page.StatusCode != http.StatusOK || !page.Has("billing-invoices") {
		t.Fatalf("owner: status %d, invoices %v; want 200 with the invoice section\n%s", page.StatusCode, page.Has("billing-invoices"), page.Body)
	}
	if n := page.Doc.Find(`[data-testid="billing-invoice"]`).Length(); n != 1 {
		t.Fatalf("%d invoice rows, want stripe-mock's 1", n)
	}
	for id, want := range map[string]string{"billing-invoice-amount": "$10.00", "billing-invoice-status": "Draft", "billing-invoice-number": "Not numbered yet"} {
		if got := strings.TrimSpace(page.Text(id)); got != want {
			t.Errorf("%s %q, want %q", id, got, want)
		}
	}
	if page.Has("billing-invoices-error") || page.Has("billing-invoices-empty") {
		t.Errorf("owner sees the error or the empty state beside the list")
	}
	customers := func() []string {
		var out []string
		for _, q := range rec.Sent("GET /v1/invoices") {
			out = append(out, q.Get("customer"))
		}
		return out
	}
	if got := customers(); len(got) != 1 || got[0] != "cus_acme" {
		t.Fatalf("invoice requests for customers %q, want one for cus_acme", got)
	}

	// A reload within the minute is served from memory.
	owner.Get(path)
	if n := len(customers()); n != 1 {
		t.Errorf("%d invoice requests after a reload, want still 1", n)
	}
	a.Clock.Add(61 * time.Second)
	owner.Get(path)
	if n := len(customers()); n != 2 {
		t.Errorf("%d invoice requests a minute later, want 2", n)
	}

	page = admin.Get(path)
	if page.StatusCode != http.StatusOK || page.Has("billing-invoices") || page.Has("billing-invoice") {
		t.Errorf("admin: status %d, invoices %v; want 200 without invoices", page.StatusCode, page.Has("billing-invoices"))
	}
	if res := member.Get(path); res.StatusCode != http.StatusForbidden || strings.Contains(res.Body, "$10.00") {
		t.Errorf("member: status %d, want 403 without invoices", res.StatusCode)
	}

	// Tenant isolation: the other owner sees their own workspace's
	// invoices, never this one's.
	if res := other.Get(path); res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "billing-invoice") {
		t.Errorf("owner of another workspace: status %d, want 404 without invoices", res.StatusCode)
	}
	if res := other.Get("/w/" + otherSlug + "/billing"); res.StatusCode != http.StatusOK || !res.Has("billing-invoices") {
		t.Errorf("other owner's own page: status %d, invoices %v", res.StatusCode, res.Has("billing-invoices"))
	}
	for _, c := range customers() {
		if c != "cus_acme" && c != "cus_other" {
			t.Errorf("invoice request for customer %q", c)
		}
	}
	if got := customers(); got[len(got)-1] != "cus_other" || len(got) != 3 {
		t.Errorf("invoice requests %q, want the other owner's page to ask for cus_other only", got)
	}
}

// fakeStripe answers the invoice list and the subscription read with
// fixed bodies, as Stripe would for a new subscription with a promotion.
func fakeStripe(t *testing.T, invoices, subscription string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/invoices":
			_, _ = io.WriteString(w, invoices)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/subscriptions/"):
			_, _ = io.WriteString(w, subscription)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"not in this fake"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestBillingInvoices_EmptyAndDiscount: with no invoice yet the owner reads
// when the first arrives, and the active discount is a sentence.
func TestBillingInvoices_EmptyAndDiscount(t *testing.T) {
	t.Parallel()
	end := time.Date(2027, 3, 5, 12, 0, 0, 0, time.UTC)
	base := fakeStripe(t, `{"object":"list","url":"/v1/invoices","has_more":false,"data":[]}`,
		fmt.Sprintf(`{"id":"sub_test","object":"subscription","status":"active","discount":{"id":"di_1","object":"discount",
		"coupon":{"id":"LAUNCH","object":"coupon","name":"Launch offer","percent_off":20,"duration":"repeating","duration_in_months":3},"end":%d}}`, end.Unix()))
	a := newTestApp(t, "sqlite", withStripe(base))
	owner, slug, wsID := billingOwner(t, a, "owner@example.com")
	a.mustApply(t, subscriptionEvent("evt_paid", "customer.subscription.created", "active", time.Now(), wsID, "cus_acme"), app.EventApplied)

	page := owner.Get("/w/" + slug + "/billing")
	if page.StatusCode != http.StatusOK || !page.Has("billing-invoices-empty") {
		t.Fatalf("status %d, empty state %v; want 200 with it\n%s", page.StatusCode, page.Has("billing-invoices-empty"), page.Body)
	}
	if got := page.Text("billing-invoices-empty"); !strings.Contains(got, "the first arrives when") {
		t.Errorf("empty state %q", got)
	}
	if got, want := page.Text("billing-discount"), "Launch offer: 20% off until 5 Mar 2027"; got != want {
		t.Errorf("discount %q, want %q", got, want)
	}
}

// TestBillingInvoices_StripeDown: when Stripe fails, the billing page is
// still 200, with a sentence in place of the list and the error logged.
func TestBillingInvoices_StripeDown(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"Stripe is having a bad day"}}`)
	}))
	t.Cleanup(down.Close)
	a := newTestApp(t, "sqlite", withStripe(down.URL))
	owner, slug, wsID := billingOwner(t, a, "owner@example.com")
	a.mustApply(t, subscriptionEvent("evt_paid", "customer.subscription.created", "active", time.Now(), wsID, "cus_acme"), app.EventApplied)

	page := owner.Get("/w/" + slug + "/billing")
	if page.StatusCode != http.StatusOK || !page.Has("billing-invoices-error") || page.Has("billing-invoice") {
		t.Fatalf("status %d, error sentence %v; want 200 with the sentence and no list\n%s", page.StatusCode, page.Has("billing-invoices-error"), page.Body)
	}
	if got := page.Text("billing-plan"); !strings.Contains(got, "Pro") {
		t.Errorf("plan %q, want the rest of the page as usual", got)
	}
	if strings.Contains(page.Body, "bad day") {
		t.Errorf("the page shows Stripe's error")
	}
	if line := a.logLine(t, "stripe call failed"); line == nil || !strings.Contains(fmt.Sprint(line["error"]), "bad day") {
		t.Errorf("log line %v, want the Stripe error", line)
	}
}
