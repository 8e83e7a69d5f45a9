package billingtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Line is a line of a previewed (upcoming) invoice.
type Line struct {
	Amount     int64
	Proration  bool
	Start, End int64 // the period, Unix seconds
}

// PlanChangeStripe is what the plan change fake answers that stripe-mock
// cannot: stripe-mock serves every subscription from one fixture (on a
// price no catalog lists), answers every invoice preview with one fixed
// invoice, and does not replay a repeated Idempotency-Key. The fake replays a POST's
// first answer for a key it has seen, as Stripe does for 24 hours.
type PlanChangeStripe struct {
	mu      sync.Mutex
	replays map[string]replay

	// PriceID, Quantity and ScheduleID are the subscription's first item
	// and the schedule that manages it ("" for none).
	PriceID    string
	Quantity   int64
	ScheduleID string
	// Upcoming is the preview for each new price (subscription_items[0]
	// [price]); a price it lacks answers 400.
	Upcoming map[string][]Line
	Currency string
}

type replay struct {
	status int
	body   []byte
}

// SetSubscription changes the subscription's price and schedule.
func (f *PlanChangeStripe) SetSubscription(priceID, scheduleID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.PriceID, f.ScheduleID = priceID, scheduleID
}

// Start serves the fake in front of upstream (a stripe-mock): the
// subscription read and the invoice preview are answered here, every
// other request is passed on. It returns the base URL.
func (f *PlanChangeStripe) Start(t testing.TB, upstream string) string {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/invoices/create_preview":
			// Read a copy: the recorder in front may need the body too.
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			lines, ok := f.Upcoming[form.Get("subscription_details[items][0][price]")]
			if !ok {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "invalid_request_error", "message": "no preview for this price in the fake"}})
				return
			}
			var data []map[string]any
			var total int64
			for i, l := range lines {
				total += l.Amount
				data = append(data, map[string]any{"id": "il_" + string(rune('a'+i)), "object": "line_item", "amount": l.Amount,
					"currency": f.Currency, "proration": l.Proration, "period": map[string]any{"start": l.Start, "end": l.End}})
			}
			writeJSON(w, http.StatusOK, map[string]any{"object": "invoice", "currency": f.Currency, "amount_due": max(total, 0), "total": total,
				"lines": map[string]any{"object": "list", "data": data, "has_more": false}})
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/subscriptions/"):
			id := strings.TrimPrefix(r.URL.Path, "/v1/subscriptions/")
			var schedule any
			if f.ScheduleID != "" {
				schedule = f.ScheduleID
			}
			writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "subscription", "status": "active", "schedule": schedule,
				"items": map[string]any{"object": "list", "data": []map[string]any{{"id": "si_item", "object": "subscription_item",
					"quantity": f.Quantity, "price": map[string]any{"id": f.PriceID, "object": "price"}}}}})
		case r.Method == http.MethodPost && r.Header.Get("Idempotency-Key") != "":
			key := r.Header.Get("Idempotency-Key")
			rp, ok := f.replays[key]
			if !ok {
				rw := httptest.NewRecorder()
				proxy.ServeHTTP(rw, r)
				rp = replay{status: rw.Code, body: rw.Body.Bytes()}
				if f.replays == nil {
					f.replays = map[string]replay{}
				}
				f.replays[key] = rp
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rp.status)
			_, _ = w.Write(rp.body)
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
