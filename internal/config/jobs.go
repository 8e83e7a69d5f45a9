package config

import "time"

// Jobs holds the settings of the job queue (internal/jobs), which every
// instance of `atrium serve` works.
type Jobs struct {
	// Workers is JOB_WORKERS, default 10: how many jobs of each queue one
	// instance runs at once.
	Workers int
	// PollInterval is JOB_POLL_INTERVAL_MS, default 500: how often each
	// queue looks for due jobs, so how long a queued email or delivery may
	// wait before it starts.
	PollInterval time.Duration
	// RescueAfter is JOB_RESCUE_AFTER_SECONDS, default 120: how long a job
	// may run before it is taken as abandoned by an instance that died and
	// is run again. It must exceed the longest job (an email's send is
	// bounded at 30 s).
	RescueAfter time.Duration
}

// jobs reads the Jobs variables.
func (l *loader) jobs() Jobs {
	workers, _ := l.int("JOB_WORKERS", 10, 1, 1000, "expected a whole number from 1 to 1000")
	return Jobs{
		Workers: workers,
		PollInterval: l.duration("JOB_POLL_INTERVAL_MS", 500, 50, time.Millisecond,
			"expected a whole number of milliseconds, at least 50"),
		RescueAfter: l.duration("JOB_RESCUE_AFTER_SECONDS", 120, 5, time.Second,
			"expected a whole number of seconds, at least 5"),
	}
}
