package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// QueueStats is the state of one job queue at a scrape.
type QueueStats struct {
	Queue string
	// Waiting counts the jobs not yet finished: due now, scheduled for
	// later, or waiting for a retry.
	Waiting int
	// Running counts the jobs being worked.
	Running int
	// OldestDue is how long the oldest job that is due has waited; 0 when
	// none is.
	OldestDue time.Duration
	// GivenUp counts the jobs that failed every attempt and are kept for
	// inspection (`atrium jobs list --state discarded`).
	GivenUp int
}

// RegisterJobs adds the job queue gauges, read from stats at each scrape,
// and the failed-attempt counter.
func (m *Metrics) RegisterJobs(stats func(ctx context.Context) ([]QueueStats, error)) {
	if m == nil {
		return
	}
	m.registry.MustRegister(&jobsCollector{stats: stats,
		waiting: prometheus.NewDesc("atrium_jobs_waiting", "Jobs waiting in a queue: due, scheduled or retrying.", []string{"queue"}, nil),
		running: prometheus.NewDesc("atrium_jobs_running", "Jobs being worked, by queue.", []string{"queue"}, nil),
		oldest: prometheus.NewDesc("atrium_jobs_oldest_due_seconds",
			"How long the oldest due job of a queue has waited to start (0 when none is due).", []string{"queue"}, nil),
		givenUp: prometheus.NewDesc("atrium_jobs_given_up", "Jobs that failed every attempt, still kept, by queue.", []string{"queue"}, nil),
		up:      prometheus.NewDesc("atrium_jobs_stats_up", "1 when the job queue could be read at this scrape.", nil, nil),
	})
}

// JobFailed counts a failed attempt of a job.
func (m *Metrics) JobFailed(queue, kind string) {
	if m == nil {
		return
	}
	m.jobFailures.WithLabelValues(queue, kind).Inc()
}

type jobsCollector struct {
	stats                                 func(ctx context.Context) ([]QueueStats, error)
	waiting, running, oldest, givenUp, up *prometheus.Desc
}

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.waiting, c.running, c.oldest, c.givenUp, c.up} {
		ch <- d
	}
}

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	qs, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, q := range qs {
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(q.Waiting), q.Queue)
		ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(q.Running), q.Queue)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, q.OldestDue.Seconds(), q.Queue)
		ch <- prometheus.MustNewConstMetric(c.givenUp, prometheus.GaugeValue, float64(q.GivenUp), q.Queue)
	}
}
