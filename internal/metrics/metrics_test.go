package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"atrium/internal/metrics"
)

// TestMetrics_NilRecordsNothing checks that code given no metrics can call
// every recording method.
func TestMetrics_NilRecordsNothing(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.RequestStarted()()
	m.ObserveRequest("/", "GET", 200, time.Millisecond)
	m.EmailDelivered()
	m.EmailFailed()
	m.WebhookEvent("applied")
	m.RateLimited("general")
	m.LimiterFallback()
	m.RegisterDB(nil, "atrium")
	m.RegisterOutbox(nil)
}

func TestMetrics_Exposition(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.RegisterOutbox(func(context.Context) (metrics.OutboxStats, error) {
		return metrics.OutboxStats{Pending: 7, OldestDue: 90 * time.Second}, nil
	})
	m.ObserveRequest("/w/{slug}/members", "GET", 503, 20*time.Millisecond)
	m.WebhookEvent("duplicate")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`atrium_http_request_duration_seconds_count{method="GET",route="/w/{slug}/members",status="5xx"} 1`,
		"atrium_outbox_queue_depth 7",
		"atrium_outbox_oldest_due_seconds 90",
		"atrium_outbox_stats_up 1",
		`atrium_webhook_events_total{result="duplicate"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}
