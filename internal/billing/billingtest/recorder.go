package billingtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Recorder is a proxy in front of a Stripe API (a stripe-mock) that keeps
// the form body (the query of a GET) and the Idempotency-Key header of
// every request, by "METHOD /path". Point the client's APIBase at its URL.
type Recorder struct {
	URL  string
	mu   sync.Mutex
	reqs map[string][]url.Values
	keys map[string][]string
}

// NewRecorder starts a Recorder forwarding to upstream, closed when the
// test ends.
func NewRecorder(t testing.TB, upstream string) *Recorder {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rec := &Recorder{reqs: map[string][]url.Values{}, keys: map[string][]string{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		if r.Method == http.MethodGet {
			form = r.URL.Query()
		}
		route := r.Method + " " + r.URL.Path
		rec.mu.Lock()
		rec.reqs[route] = append(rec.reqs[route], form)
		rec.keys[route] = append(rec.keys[route], r.Header.Get("Idempotency-Key"))
		rec.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// Sent returns the forms sent to route ("POST /v1/customers"), or the
// queries of a GET route, in order.
func (r *Recorder) Sent(route string) []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]url.Values(nil), r.reqs[route]...)
}

// Keys returns the Idempotency-Key headers sent to route, in order ("" for
// a request without one).
func (r *Recorder) Keys(route string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.keys[route]...)
}

// WithInvoicePreview returns the URL of a server that answers Stripe's
// invoice preview (POST /v1/invoices/create_preview) with invoice, a JSON
// object, and forwards every other request to upstream: stripe-mock
// answers a preview with a fixed invoice whose amounts a test cannot
// choose. The form sent is kept for the test to read.
func WithInvoicePreview(t testing.TB, upstream, invoice string) (base string, sent func() []url.Values) {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		queries []url.Values
	)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/invoices/create_preview" {
			_ = r.ParseForm()
			mu.Lock()
			queries = append(queries, r.PostForm)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, invoice)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []url.Values {
		mu.Lock()
		defer mu.Unlock()
		return append([]url.Values(nil), queries...)
	}
}

// UpcomingSeatInvoice is an upcoming invoice of a per-seat subscription
// after one seat more: a proration line of 387 (cents) for the rest of the
// month, and the next month's 4800 for the seats.
const UpcomingSeatInvoice = `{"id": "upcoming_in_1", "object": "invoice", "currency": "usd", "total": 5187,
	"lines": {"object": "list", "has_more": false, "data": [
		{"id": "il_prorate", "object": "line_item", "amount": 387, "currency": "usd", "proration": true, "quantity": 1},
		{"id": "il_next", "object": "line_item", "amount": 4800, "currency": "usd", "proration": false, "quantity": 4}]}}`
