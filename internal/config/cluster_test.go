package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"atrium/internal/config"
)

// defaultCluster is the Cluster of an empty environment.
var defaultCluster = config.Cluster{
	RateLimitStoreFailure: config.StoreFailureMemory,
	RedisTimeout:          300 * time.Millisecond,
	ShutdownDrain:         5 * time.Second,
}

// defaultJobs is the Jobs of an empty environment.
var defaultJobs = config.Jobs{Workers: 10, PollInterval: 500 * time.Millisecond, RescueAfter: 2 * time.Minute}

func TestLoad_Jobs(t *testing.T) {
	t.Parallel()
	got := mustLoad(t, config.Env{"JOB_WORKERS": "3", "JOB_POLL_INTERVAL_MS": "100", "JOB_RESCUE_AFTER_SECONDS": "30"}).Jobs
	if want := (config.Jobs{Workers: 3, PollInterval: 100 * time.Millisecond, RescueAfter: 30 * time.Second}); got != want {
		t.Fatalf("Jobs = %+v, want %+v", got, want)
	}
	_, err := config.Load(config.Env{"JOB_WORKERS": "0", "JOB_POLL_INTERVAL_MS": "10", "JOB_RESCUE_AFTER_SECONDS": "1"})
	if err == nil {
		t.Fatal("Load accepted invalid job settings")
	}
	for _, name := range []string{"JOB_WORKERS", "JOB_POLL_INTERVAL_MS", "JOB_RESCUE_AFTER_SECONDS"} {
		if !strings.Contains(err.Error(), name+"=") {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

func TestLoad_Cluster(t *testing.T) {
	t.Parallel()
	got := mustLoad(t, config.Env{
		"METRICS_ADDR": "127.0.0.1:9090", "RATE_LIMIT_STORE_FAILURE": "Closed", "REDIS_TIMEOUT_MS": "150",
		"SHUTDOWN_DRAIN_SECONDS": "0",
	}).Cluster
	want := config.Cluster{MetricsAddr: "127.0.0.1:9090", RateLimitStoreFailure: config.StoreFailureClosed,
		RedisTimeout: 150 * time.Millisecond, ShutdownDrain: 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Cluster mismatch (-want +got):\n%s", diff)
	}

	_, err := config.Load(config.Env{
		"METRICS_ADDR": "9090", "RATE_LIMIT_STORE_FAILURE": "open", "REDIS_TIMEOUT_MS": "5",
		"SHUTDOWN_DRAIN_SECONDS": "-1",
	})
	if err == nil {
		t.Fatal("Load accepted invalid cluster settings")
	}
	for _, name := range []string{"METRICS_ADDR", "RATE_LIMIT_STORE_FAILURE", "REDIS_TIMEOUT_MS",
		"SHUTDOWN_DRAIN_SECONDS"} {
		if !strings.Contains(err.Error(), name+"=") {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}

	_, err = config.Load(config.Env{"PORT": "8080", "METRICS_ADDR": ":8080"})
	if err == nil || !strings.Contains(err.Error(), "never served on the public port") {
		t.Fatalf("METRICS_ADDR on PORT: %v, want a refusal", err)
	}
}
