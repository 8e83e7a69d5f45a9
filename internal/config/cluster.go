package config

import (
	"net"
	"strconv"
	"time"
)

// Values of Cluster.RateLimitStoreFailure (RATE_LIMIT_STORE_FAILURE).
const (
	// StoreFailureMemory falls back to a per-instance budget while Redis is
	// unreachable.
	StoreFailureMemory = "memory"
	// StoreFailureClosed refuses state-changing requests (503) while Redis
	// is unreachable.
	StoreFailureClosed = "closed"
)

// Cluster holds the settings that matter once several instances share a
// database and Redis.
type Cluster struct {
	// MetricsAddr is METRICS_ADDR: host:port of the Prometheus listener,
	// separate from the public port; empty (the default) turns it off.
	MetricsAddr string
	// RateLimitStoreFailure is RATE_LIMIT_STORE_FAILURE: StoreFailureMemory
	// (default) or StoreFailureClosed.
	RateLimitStoreFailure string
	// RedisTimeout is REDIS_TIMEOUT_MS, default 300: the longest any Redis
	// call may take, dial included.
	RedisTimeout time.Duration
	// ShutdownDrain is SHUTDOWN_DRAIN_SECONDS, default 5: how long /readyz
	// answers 503 before the server stops taking requests.
	ShutdownDrain time.Duration
}

// cluster reads the Cluster variables; publicPort is PORT, which
// METRICS_ADDR may not share.
func (l *loader) cluster(publicPort int) Cluster {
	c := Cluster{
		RateLimitStoreFailure: l.choice("RATE_LIMIT_STORE_FAILURE", StoreFailureMemory,
			"expected memory or closed", StoreFailureMemory, StoreFailureClosed),
		RedisTimeout: l.duration("REDIS_TIMEOUT_MS", 300, 10, time.Millisecond,
			"expected a whole number of milliseconds, at least 10"),
		ShutdownDrain: l.duration("SHUTDOWN_DRAIN_SECONDS", 5, 0, time.Second,
			"expected a whole number of seconds, at least 0"),
	}
	if v := l.value("METRICS_ADDR"); v != "" {
		_, port, err := net.SplitHostPort(v)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil || n < 0 || n > 65535:
			l.problem("METRICS_ADDR", "expected host:port, like 127.0.0.1:9090 (keep it off the public network)")
		case n != 0 && n == publicPort:
			l.problem("METRICS_ADDR", "must use another port than PORT: metrics are never served on the public port")
		default:
			c.MetricsAddr = v
		}
	}
	return c
}

// ParseDatabaseURL reads a database URL as DATABASE_URL is read
// (sqlite:PATH or postgres://…), for commands that take one as a flag.
func ParseDatabaseURL(name, raw string) (Database, error) {
	l := &loader{env: Env{name: raw}}
	d := l.database(name, "")
	if len(l.problems) > 0 {
		return Database{}, &ValidationError{Problems: l.problems}
	}
	return d, nil
}
