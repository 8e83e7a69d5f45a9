package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/billing/billingtest"
	"atrium/internal/config"
)

// TestServe_Metrics scrapes METRICS_ADDR after some traffic and checks
// that every metric the runbook's alerts use is there, and that the public
// port does not serve them.
func TestServe_Metrics(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	srv := startServe(t, config.Env{"METRICS_ADDR": addr, "RATE_LIMIT_MAX": "10",
		"STRIPE_SECRET_KEY": "sk_test_metrics", "STRIPE_WEBHOOK_SECRET": billingWebhookSecret, "STRIPE_API_BASE": "http://127.0.0.1:9"})

	c := newClient(t, srv.URL)
	c.Get("/")
	for range 11 { // the eleventh is refused: a rate-limit rejection
		c.Post("/logout", url.Values{})
	}
	deliverStripeEvent(t, srv.URL, billingtest.Event{ID: "evt_metrics", Type: "customer.created", Created: time.Now(),
		Object: map[string]any{"id": "cus_metrics", "object": "customer"}})

	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape METRICS_ADDR: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	text := string(b)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d\n%s", res.StatusCode, text)
	}
	for _, want := range []string{
		`atrium_http_request_duration_seconds_bucket{method="GET",route="/",status="2xx"`,
		`atrium_http_request_duration_seconds_count{method="POST",route="/logout",status="4xx"} 1`,
		"atrium_http_requests_in_flight ",
		"atrium_outbox_queue_depth ",
		"atrium_outbox_oldest_due_seconds ",
		"atrium_outbox_deliveries_total ",
		"atrium_outbox_delivery_failures_total ",
		`atrium_webhook_events_total{result="ignored"} 1`,
		`atrium_rate_limit_rejections_total{budget="general"} 1`,
		"atrium_rate_limit_store_fallbacks_total ",
		`go_sql_open_connections{db_name="atrium"}`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", text)
	}
	if pub := c.Get("/metrics"); pub.Status != http.StatusNotFound {
		t.Errorf("GET /metrics on the public port: status %d, want 404", pub.Status)
	}
}
