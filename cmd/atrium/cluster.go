package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"atrium/internal/config"
	"atrium/internal/metrics"
)

// serveMetrics serves GET /metrics on METRICS_ADDR, a listener of its own
// that never shares the public port. Without METRICS_ADDR it does
// nothing. stop closes the listener.
func serveMetrics(cfg *config.Config, m *metrics.Metrics, logger *slog.Logger) (stop func(), err error) {
	if cfg.Cluster.MetricsAddr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.Cluster.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on METRICS_ADDR=%s: %w", cfg.Cluster.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", "error", err.Error())
		}
	}()
	logger.Info("metrics listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// drainAndShutdown makes /readyz answer 503, waits SHUTDOWN_DRAIN_SECONDS
// for the load balancer to notice (still answering every request), then
// stops taking connections and lets in-flight requests finish within
// SHUTDOWN_TIMEOUT_SECONDS.
func drainAndShutdown(cfg *config.Config, logger *slog.Logger, srv *http.Server, draining *atomic.Bool, serveErr <-chan error) error {
	draining.Store(true)
	logger.Info("draining: /readyz answers 503", "drain", cfg.Cluster.ShutdownDrain.String())
	select {
	case <-time.After(cfg.Cluster.ShutdownDrain):
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// clusterSummary is check-config's line on the settings of several
// instances.
func clusterSummary(cfg *config.Config) string {
	metricsAt := "metrics off"
	if cfg.Cluster.MetricsAddr != "" {
		metricsAt = "metrics on " + cfg.Cluster.MetricsAddr
	}
	redisFailure := ""
	if cfg.RedisURL != "" {
		redisFailure = fmt.Sprintf("; Redis down: %s (calls time out after %s)", cfg.Cluster.RateLimitStoreFailure, cfg.Cluster.RedisTimeout)
	}
	return fmt.Sprintf("%s%s; drain %s on SIGTERM; jobs: %d workers a queue, abandoned jobs rescued after %s", metricsAt, redisFailure,
		cfg.Cluster.ShutdownDrain, cfg.Jobs.Workers, cfg.Jobs.RescueAfter)
}
