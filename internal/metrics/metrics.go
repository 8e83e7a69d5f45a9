// Package metrics holds Atrium's Prometheus metrics. One *Metrics is made in
// run with its own registry (no global one) and passed to the parts that
// record into it. Every method is safe on a nil *Metrics, which records
// nothing, so tests and commands that do not serve metrics pass nil.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of Atrium's collectors on one registry.
type Metrics struct {
	registry *prometheus.Registry

	requestDuration  *prometheus.HistogramVec
	inFlight         prometheus.Gauge
	deliveries       prometheus.Counter
	deliveryFailures prometheus.Counter
	webhookEvents    *prometheus.CounterVec
	rateLimited      *prometheus.CounterVec
	limiterFallbacks prometheus.Counter
	jobFailures      *prometheus.CounterVec
}

// New returns the metrics on a new registry, with the Go runtime and
// process collectors registered.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "atrium_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern, method and status class (2xx, 3xx, 4xx, 5xx).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "atrium_http_requests_in_flight",
			Help: "HTTP requests being answered now.",
		}),
		deliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "atrium_outbox_deliveries_total",
			Help: "Emails the mail job delivered.",
		}),
		deliveryFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "atrium_outbox_delivery_failures_total",
			Help: "Failed delivery attempts of the mail job.",
		}),
		webhookEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atrium_webhook_events_total",
			Help: "Stripe webhook deliveries by result (applied, duplicate, stale, ignored, unmatched, unreadable, bad_signature, failed).",
		}, []string{"result"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atrium_rate_limit_rejections_total",
			Help: "Requests refused because a rate-limit budget was spent, by budget.",
		}, []string{"budget"}),
		limiterFallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "atrium_rate_limit_store_fallbacks_total",
			Help: "Rate-limit checks answered by the per-instance memory budget because Redis failed.",
		}),
		jobFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atrium_job_failures_total",
			Help: "Failed job attempts on this instance, by queue and kind (each is retried until its last attempt).",
		}, []string{"queue", "kind"}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requestDuration, m.inFlight, m.deliveries, m.deliveryFailures,
		m.webhookEvents, m.rateLimited, m.limiterFallbacks, m.jobFailures,
	)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// RegisterDB adds the connection pool statistics of db (database/sql
// DBStats) as go_sql_* metrics labelled db_name=name.
func (m *Metrics) RegisterDB(db *sql.DB, name string) {
	if m == nil {
		return
	}
	m.registry.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// OutboxStats is what the outbox gauges read at each scrape.
type OutboxStats struct {
	Pending   int           // messages waiting to be sent, due or not
	OldestDue time.Duration // how long the oldest due message has waited; 0 when none is due
}

// RegisterOutbox adds the outbox gauges, read from stats at each scrape.
func (m *Metrics) RegisterOutbox(stats func(ctx context.Context) (OutboxStats, error)) {
	if m == nil {
		return
	}
	m.registry.MustRegister(&outboxCollector{stats: stats,
		depth: prometheus.NewDesc("atrium_outbox_queue_depth", "Emails waiting in the outbox, due or not.", nil, nil),
		oldest: prometheus.NewDesc("atrium_outbox_oldest_due_seconds",
			"How long the oldest due email has waited to be sent (0 when none is due).", nil, nil),
		up: prometheus.NewDesc("atrium_outbox_stats_up", "1 when the outbox could be read at this scrape.", nil, nil),
	})
}

type outboxCollector struct {
	stats             func(ctx context.Context) (OutboxStats, error)
	depth, oldest, up *prometheus.Desc
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
	ch <- c.up
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, st.OldestDue.Seconds())
}

// RequestStarted counts a request in flight; call the returned function
// when it is answered.
func (m *Metrics) RequestStarted() (done func()) {
	if m == nil {
		return func() {}
	}
	m.inFlight.Inc()
	return m.inFlight.Dec
}

// ObserveRequest records an answered request. route is the matched route
// pattern (never the raw path, which would hold ids and tokens); method is
// labelled as one of the standard methods or "other", since a client may
// send any token as its method and each new label value is a new series
// held in memory for good.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requestDuration.WithLabelValues(route, methodLabel(method), statusClass(status)).Observe(d.Seconds())
}

// methodLabel returns method if it is one of the methods of RFC 9110 or
// PATCH, and "other" for anything else.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "other"
}

func statusClass(status int) string {
	switch {
	case status >= 500:
		return "5xx"
	case status >= 400:
		return "4xx"
	case status >= 300:
		return "3xx"
	default:
		return "2xx"
	}
}

// EmailDelivered counts a delivered email.
func (m *Metrics) EmailDelivered() {
	if m != nil {
		m.deliveries.Inc()
	}
}

// EmailFailed counts a failed delivery attempt.
func (m *Metrics) EmailFailed() {
	if m != nil {
		m.deliveryFailures.Inc()
	}
}

// WebhookEvent counts a webhook delivery by its result.
func (m *Metrics) WebhookEvent(result string) {
	if m != nil {
		m.webhookEvents.WithLabelValues(result).Inc()
	}
}

// RateLimited counts a request refused by the named budget.
func (m *Metrics) RateLimited(budget string) {
	if m != nil {
		m.rateLimited.WithLabelValues(budget).Inc()
	}
}

// LimiterFallback counts a rate-limit check answered from memory because
// Redis failed.
func (m *Metrics) LimiterFallback() {
	if m != nil {
		m.limiterFallbacks.Inc()
	}
}
