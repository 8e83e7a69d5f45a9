package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"atrium/internal/config"
	"atrium/internal/metrics"
	"atrium/internal/store"
	"atrium/internal/wire"
)

// runServe runs the web server until ctx ends, then shuts down gracefully:
// /readyz answers 503 for SHUTDOWN_DRAIN_SECONDS so the load balancer stops
// sending, in-flight requests finish (up to SHUTDOWN_TIMEOUT_SECONDS), the
// running jobs finish (an email being sent is sent and recorded) and the
// job queue stops, and the database closes.
func runServe(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments")
	}
	cfg, err := loadConfig(env, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))

	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrateOnStart(ctx, cfg, db, logger); err != nil {
		return err
	}

	reg := metrics.New()
	var draining atomic.Bool
	atrium, err := wire.New(ctx, wire.Options{Config: cfg, DB: db, Logger: logger, Metrics: reg, Draining: draining.Load})
	if err != nil {
		return err
	}
	defer atrium.Close()

	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on PORT=%d: %w", cfg.Port, err)
	}
	srv := &http.Server{
		Handler:           atrium.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	stopMetrics, err := serveMetrics(cfg, reg, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()

	// Not ctx: the jobs stop after the HTTP drain, not at the signal.
	if err := atrium.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	stopWebhooks := startWebhookPoller(cfg, atrium.Poller, logger)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	port := ln.Addr().(*net.TCPAddr).Port
	logger.Info("server started", "addr", ln.Addr().String(), "app_url", cfg.AppURL.String(),
		"database", cfg.Database.Driver, "mail", mailMode(cfg), "billing", cfg.BillingEnabled(), "version", version)
	printBanner(stderr, cfg, port)

	select {
	case err = <-serveErr:
		err = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
		err = drainAndShutdown(cfg, logger, srv, &draining, serveErr)
	}
	// The jobs running now finish (an email being sent is sent and
	// recorded); what is still running after SHUTDOWN_TIMEOUT_SECONDS is
	// cancelled and runs again on another instance or after a restart.
	atrium.Jobs.Stop(cfg.ShutdownTimeout)
	stopWebhooks()
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		logger.Info("server stopped")
		return nil
	}
	return err
}

// migrateOnStart applies pending migrations when MIGRATE_ON_START is on.
func migrateOnStart(ctx context.Context, cfg *config.Config, db *store.DB, logger *slog.Logger) error {
	if !cfg.MigrateOnStart {
		return nil
	}
	applied, err := db.MigrateUp(ctx)
	if err != nil {
		return err
	}
	for _, m := range applied {
		logger.Info("migration applied", "version", m.Version, "name", m.Name)
	}
	return nil
}

// openConfigured loads the configuration (printing every problem) and
// opens its database, for the commands that need both; the caller closes
// the database.
func openConfigured(ctx context.Context, env config.Env, stderr io.Writer) (*config.Config, *store.DB, error) {
	cfg, err := loadConfig(env, stderr)
	if err != nil {
		return nil, nil, err
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, db, nil
}

// openDB opens the configured database with its pool settings.
func openDB(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.Database.Driver, cfg.Database.DSN, store.Options{
		MaxOpenConns: cfg.DBMaxOpenConns, MaxIdleConns: cfg.DBMaxIdleConns, ConnMaxLifetime: cfg.DBConnMaxLifetime,
	})
	if err != nil {
		return nil, fmt.Errorf("%w (check DATABASE_URL)", err)
	}
	return db, nil
}

func mailMode(cfg *config.Config) string {
	if cfg.MailStub() {
		return "stub"
	}
	return "smtp"
}

// printBanner tells a person at the terminal where the app is and how to
// sign in.
func printBanner(w io.Writer, cfg *config.Config, port int) {
	url := cfg.AppURL.String()
	if cfg.Port == 0 {
		url = "http://localhost:" + strconv.Itoa(port)
	}
	fmt.Fprintf(w, "\nAtrium %s is running at %s (database: %s)\n", version, url, cfg.Database.Driver)
	if cfg.MailStub() {
		fmt.Fprintf(w, "Mail is in stub mode: open %s/login, enter any email, and copy the sign-in link from the\n"+
			"\"email not sent (stub mode ...)\" log line below.\n", url)
	} else {
		fmt.Fprintf(w, "Mail goes through %s:%d.\n", cfg.SMTP.Host, cfg.SMTP.Port)
	}
	if !cfg.BillingEnabled() {
		fmt.Fprintln(w, "Billing is off (STRIPE_SECRET_KEY is empty).")
	}
	fmt.Fprintln(w, "Press Ctrl+C to stop.")
	fmt.Fprintln(w)
}
