package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"atrium/internal/billing"
	"atrium/internal/config"
	"atrium/internal/mail"
	"atrium/internal/metrics"
	"atrium/internal/server"
	"atrium/internal/store"
)

// runServe runs the web server until ctx ends, then shuts down gracefully:
// /readyz answers 503 for SHUTDOWN_DRAIN_SECONDS so the load balancer stops
// sending, in-flight requests finish (up to SHUTDOWN_TIMEOUT_SECONDS), the
// mail worker finishes its current message and stops, and the database
// closes.
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
	if cfg.MigrateOnStart {
		applied, err := db.MigrateUp(ctx)
		if err != nil {
			return err
		}
		for _, m := range applied {
			logger.Info("migration applied", "version", m.Version, "name", m.Name)
		}
	}

	reg := metrics.New()
	reg.RegisterDB(db.SQL(), "atrium")
	limitStore, err := server.OpenLimiterStore(ctx, cfg, logger, reg)
	if err != nil {
		return err
	}
	defer limitStore.Close()
	var redisCheck server.RedisCheck
	if limitStore.Redis() {
		redisCheck = limitStore
	}

	var sender mail.Sender
	if cfg.MailStub() {
		sender = mail.NewLogSender(logger)
	} else {
		sender, err = mail.NewSMTPSender(mail.SMTPConfig{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port,
			Username: cfg.SMTP.Username, Password: cfg.SMTP.Password, From: cfg.SMTP.From, TLS: cfg.SMTP.TLS})
		if err != nil {
			return err
		}
	}
	outbox := store.NewOutboxService(db)
	reg.RegisterOutbox(outboxStats(outbox))
	worker := mail.NewWorker(outbox, sender, logger)
	worker.Lease, worker.Metrics = cfg.Cluster.OutboxLease, reg
	var draining atomic.Bool

	// The flash cookie's signing key: FLASH_KEY, or one made at first start
	// and kept in the database so that every instance shares it.
	flashKey := []byte(cfg.FlashKey)
	if len(flashKey) == 0 {
		if flashKey, err = db.Secret(ctx, "flash_key"); err != nil {
			return fmt.Errorf("%w (run `atrium migrate` if MIGRATE_ON_START is off)", err)
		}
	}
	tfKey, err := twoFactorKey(ctx, cfg, db)
	if err != nil {
		return err
	}
	workspaces := store.NewWorkspaceService(db)
	workspaces.MaxOwned = cfg.MaxWorkspacesPerUser
	twoFactor := store.NewTwoFactorService(db, tfKey)
	twoFactor.Notice = mail.SecurityNotices(cfg.AppName, cfg.AppURL.String()+"/settings/account")

	handler := server.New(server.Deps{
		Logger:             logger,
		Config:             cfg,
		DB:                 db,
		Auth:               store.NewAuthService(db),
		Users:              store.NewUserService(db),
		Audit:              store.NewAuditService(db),
		Workspaces:         workspaces,
		Members:            store.NewMemberService(db),
		WorkspaceTwoFactor: workspaces,
		Invites:            store.NewInviteService(db).WithMailLimits(server.InviteMailLimits(cfg)),
		Outbox:             outbox,
		Billing:            store.NewBillingService(db),
		APIKeys:            store.NewAPIKeyService(db),
		TwoFactor:          twoFactor,
		Resources:          store.NewResources(db),
		Stripe:             newStripe(cfg, logger),
		Limiter:            server.NewRateLimiter(limitStore, cfg),
		MailQueued:         worker.Notify,
		FlashKey:           flashKey,
		Metrics:            reg,
		Redis:              redisCheck,
		Draining:           draining.Load,
	})

	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on PORT=%d: %w", cfg.Port, err)
	}
	srv := &http.Server{
		Handler:           handler,
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

	workerCtx, stopWorker := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); worker.Run(workerCtx) }()
	wg.Go(func() { housekeepHourly(workerCtx, db, logger) })

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
	// The worker finishes the message it is sending, then stops; the
	// cancel is the backstop for a send that hangs.
	worker.Stop()
	select {
	case <-workerDone:
	case <-time.After(cfg.ShutdownTimeout):
		logger.Warn("outbox worker did not stop in time; its message returns to the queue when the lease ends")
	}
	stopWorker()
	<-workerDone
	wg.Wait()
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		logger.Info("server stopped")
		return nil
	}
	return err
}

func openDB(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.Database.Driver, cfg.Database.DSN, store.Options{
		MaxOpenConns: cfg.DBMaxOpenConns, MaxIdleConns: cfg.DBMaxIdleConns, ConnMaxLifetime: cfg.DBConnMaxLifetime,
	})
	if err != nil {
		return nil, fmt.Errorf("%w (check DATABASE_URL)", err)
	}
	return db, nil
}

// newStripe returns the Stripe client, or nil when billing is off.
func newStripe(cfg *config.Config, logger *slog.Logger) *billing.Client {
	if !cfg.BillingEnabled() {
		return nil
	}
	return billing.New(billing.Config{SecretKey: cfg.Stripe.SecretKey, PriceID: cfg.Stripe.PriceID,
		APIBase: cfg.Stripe.APIBase, Logger: logger})
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

// twoFactorKey returns the key sealing authenticator secrets: the SHA-256
// of TWO_FACTOR_KEY, or a key kept in the database like the flash key.
func twoFactorKey(ctx context.Context, cfg *config.Config, db *store.DB) ([]byte, error) {
	if cfg.TwoFactorKey != "" {
		sum := sha256.Sum256([]byte(cfg.TwoFactorKey))
		return sum[:], nil
	}
	return db.Secret(ctx, "two_factor_key")
}
