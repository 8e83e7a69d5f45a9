package main

import (
	"fmt"
	"io"
	"math/rand/v2"
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

// TestServe_MetricsMethodsBounded sends 1,000 requests with made-up
// methods, signed out, and checks that the request metrics gain one
// "other" series per route and status, not one per method: any client can
// choose the method, and every label value is a series kept in memory.
func TestServe_MetricsMethodsBounded(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	srv := startServe(t, config.Env{"METRICS_ADDR": addr, "RATE_LIMIT_MAX": "100000"})
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range 1000 {
		method := fmt.Sprintf("X%dQ%d", i, rand.IntN(1<<30))
		req, err := http.NewRequest(method, srv.URL+[]string{"/", "/login", "/nowhere"}[i%3], nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape METRICS_ADDR: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	series, methods := 0, map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "atrium_http_request_duration_seconds_count{") {
			continue
		}
		series++
		if _, rest, ok := strings.Cut(line, `method="`); ok {
			m, _, _ := strings.Cut(rest, `"`)
			methods[m] = true
		}
	}
	if series > 20 {
		t.Errorf("%d request series after 1,000 made-up methods, want a handful", series)
	}
	if !methods["other"] || len(methods) > 2 {
		t.Errorf("%d method labels (other: %v), want other and GET (the health checks)", len(methods), methods["other"])
	}
}
