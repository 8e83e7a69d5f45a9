// Package wire builds a running Atrium from its configuration and an open
// database: the store's services, the mail sender and the job queue, the
// rate limiter's store, the Stripe client, and the HTTP handler over them.
// It is the one place that joins internal/store to internal/server (the
// handlers never import the store), used by `atrium serve` and by the
// tests that start the app. Process concerns (flags, listeners, the
// metrics server, signals and graceful drain) stay with the caller.
package wire

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ulule/limiter/v3"

	"atrium/internal/billing"
	"atrium/internal/config"
	"atrium/internal/i18n"
	"atrium/internal/jobs"
	"atrium/internal/mail"
	"atrium/internal/metrics"
	"atrium/internal/outbound"
	"atrium/internal/server"
	"atrium/internal/store"
)

// Options are what New needs; Config, DB and Logger are required.
type Options struct {
	Config *config.Config
	DB     *store.DB
	Logger *slog.Logger
	// Now is the clock of the handlers and the jobs' records; optional,
	// defaults to time.Now. (The store's clock is DB.Now.)
	Now func() time.Time
	// Metrics records database, job queue, mail, rate-limit and request
	// metrics; optional (nil records nothing).
	Metrics *metrics.Metrics
	// TwoFactorKey seals authenticator secrets; optional, defaults to
	// TwoFactorKey(Config, DB).
	TwoFactorKey []byte
	// LimitStore replaces the rate limiter's store, which defaults to
	// server.OpenLimiterStore(Config); optional. New does not close it.
	LimitStore limiter.Store
	// Draining reports that shutdown has begun (/readyz then answers 503);
	// optional.
	Draining func() bool
}

// App is Atrium wired up: Handler serves the web app and Jobs works the
// job queue (mail, housekeeping) once the caller starts it. Close releases
// what New opened (the rate limiter's store), not the database.
type App struct {
	Handler http.Handler
	Jobs    *jobs.Runner
	// Webhooks delivers the workspaces' outgoing webhooks (as jobs).
	Webhooks *store.WebhookService
	closers  []func() error
}

// New builds the services over opts.DB, the mail sender (SMTP, or the log
// in stub mode), the job queue's workers, the rate limiter, the Stripe client
// when billing is on, and the handler. The flash cookie's key is FLASH_KEY
// or one kept in the database, so that every instance shares it.
func New(ctx context.Context, opts Options) (*App, error) {
	cfg, db, logger := opts.Config, opts.DB, opts.Logger
	a := &App{}
	ok := false
	defer func() {
		if !ok {
			_ = a.Close()
		}
	}()

	if opts.Metrics != nil {
		opts.Metrics.RegisterDB(db.SQL(), "atrium")
	}
	limitStore, redisCheck := opts.LimitStore, server.RedisCheck(nil)
	if limitStore == nil {
		ls, err := server.OpenLimiterStore(ctx, cfg, logger, opts.Metrics)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, ls.Close)
		limitStore = ls
		if ls.Redis() {
			redisCheck = ls
		}
	}

	sender, err := NewSender(cfg, logger)
	if err != nil {
		return nil, err
	}
	outbox := store.NewOutboxService(db)
	if opts.Metrics != nil {
		opts.Metrics.RegisterOutbox(func(ctx context.Context) (metrics.OutboxStats, error) {
			st, err := outbox.Stats(ctx)
			return metrics.OutboxStats{Pending: int(st.Pending), OldestDue: st.OldestDue}, err
		})
		opts.Metrics.RegisterJobs(func(ctx context.Context) ([]metrics.QueueStats, error) {
			return JobStats(ctx, db)
		})
	}
	flashKey := []byte(cfg.FlashKey)
	if len(flashKey) == 0 {
		if flashKey, err = db.Secret(ctx, "flash_key"); err != nil {
			return nil, fmt.Errorf("%w (run `atrium migrate` if MIGRATE_ON_START is off)", err)
		}
	}
	tfKey := opts.TwoFactorKey
	if tfKey == nil {
		if tfKey, err = TwoFactorKey(ctx, cfg, db); err != nil {
			return nil, err
		}
	}
	workspaces := store.NewWorkspaceService(db)
	workspaces.MaxOwned = cfg.MaxWorkspacesPerUser
	twoFactor := store.NewTwoFactorService(db, tfKey)
	catalog := NewCatalog(cfg)
	twoFactor.Notice = mail.SecurityNotices(catalog, cfg.AppName, cfg.AppURL.String()+"/settings/account")
	identities := store.NewIdentityService(db)
	identities.Notice = mail.IdentityNotices(catalog, cfg.AppName, cfg.AppURL.String()+"/settings/account")
	sso := store.NewSSOService(db, tfKey, cfg.Plans)
	sso.Notice = identities.Notice

	a.Webhooks = NewWebhooks(cfg, db, tfKey, logger)
	billingSvc := NewBilling(cfg, db)
	deliverer := &mail.Deliverer{Outbox: outbox, Sender: sender, Logger: logger, Now: opts.Now, Metrics: opts.Metrics}
	stripeClient := NewStripe(cfg, logger)
	var seats jobs.SeatSyncer
	if stripeClient != nil {
		seats = &billing.SeatSync{Client: stripeClient, Store: billingSvc}
	}
	if a.Jobs, err = jobs.New(db.JobDriver(), jobs.Deps{Mail: deliverer, Housekeeper: db, Webhooks: a.Webhooks, Dunning: billingSvc, Seats: seats}, jobs.Config{
		Workers: cfg.Jobs.Workers, PollInterval: cfg.Jobs.PollInterval, RescueAfter: cfg.Jobs.RescueAfter,
		Logger: logger, Metrics: opts.Metrics,
	}); err != nil {
		return nil, err
	}

	a.Handler = server.New(server.Deps{
		Logger:             logger,
		Config:             cfg,
		Catalog:            catalog,
		DB:                 db,
		Auth:               store.NewAuthService(db),
		Users:              store.NewUserService(db),
		Audit:              store.NewAuditService(db),
		Workspaces:         workspaces,
		Members:            store.NewMemberService(db),
		WorkspaceTwoFactor: workspaces,
		Invites:            store.NewInviteService(db).WithMailLimits(server.InviteMailLimits(cfg)),
		Outbox:             outbox,
		Billing:            billingSvc,
		APIKeys:            store.NewAPIKeyService(db),
		TwoFactor:          twoFactor,
		Identities:         identities,
		Admin:              store.NewAdminService(db),
		Jobs:               store.NewJobQueueService(db),
		Resources:          store.NewResources(db),
		Hooks:              a.Webhooks,
		SSO:                sso,
		Stripe:             stripeClient,
		Limiter:            server.NewRateLimiter(limitStore, cfg),
		Now:                opts.Now,
		FlashKey:           flashKey,
		Metrics:            opts.Metrics,
		Redis:              redisCheck,
		Draining:           opts.Draining,
	})
	ok = true
	return a, nil
}

// Close releases what New opened, not the database; the caller stops the
// job queue it started.
func (a *App) Close() error {
	var first error
	for _, c := range a.closers {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	a.closers = nil
	return first
}

// NewWebhooks returns the webhook service: secrets sealed with the key
// that seals authenticator secrets, addresses checked by the production
// rules unless WEBHOOK_ALLOW_PRIVATE, and owners told by email when an
// endpoint is turned off.
func NewWebhooks(cfg *config.Config, db *store.DB, key []byte, logger *slog.Logger) *store.WebhookService {
	hooks := store.NewWebhookService(db, key, outbound.Options{AllowPrivate: cfg.WebhookAllowPrivate})
	hooks.Notice = mail.WebhookDisabledNotices(NewCatalog(cfg), cfg.AppName, cfg.AppURL.String()+"/app")
	hooks.Logger = logger
	return hooks
}

// NewBilling returns the billing service: owners told by email when a
// trial ends soon or a payment fails, workspaces restricted after the
// catalog's grace period.
func NewBilling(cfg *config.Config, db *store.DB) *store.BillingService {
	svc := store.NewBillingService(db)
	svc.Notice = mail.BillingNotices(NewCatalog(cfg), cfg.AppName, cfg.AppURL.String(), cfg.Plans.GracePeriod)
	svc.Grace = cfg.Plans.GracePeriod
	return svc
}

// NewCatalog returns the message catalogs pages and emails are written
// from: the shipped languages, and the pseudo-locale en-XA outside
// production.
func NewCatalog(cfg *config.Config) *i18n.Catalog {
	return i18n.MustNew(i18n.Options{Pseudo: cfg.Env != config.EnvProduction})
}

// NewSender returns the mail sender for cfg: SMTP, or the log in stub mode
// (no SMTP_HOST).
func NewSender(cfg *config.Config, logger *slog.Logger) (mail.Sender, error) {
	if cfg.MailStub() {
		return mail.NewLogSender(logger), nil
	}
	return mail.NewSMTPSender(SMTPConfig(cfg))
}

// SMTPConfig returns the SMTP_* settings of cfg as the mail package takes
// them.
func SMTPConfig(cfg *config.Config) mail.SMTPConfig {
	return mail.SMTPConfig{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port,
		Username: cfg.SMTP.Username, Password: cfg.SMTP.Password, From: cfg.SMTP.From, TLS: cfg.SMTP.TLS}
}

// NewStripe returns the Stripe client, or nil when billing is off.
func NewStripe(cfg *config.Config, logger *slog.Logger) *billing.Client {
	if !cfg.BillingEnabled() {
		return nil
	}
	return billing.New(billing.Config{SecretKey: cfg.Stripe.SecretKey, PriceID: cfg.Stripe.PriceID,
		APIBase: cfg.Stripe.APIBase, AutomaticTax: cfg.Stripe.AutomaticTax, Plans: cfg.Plans, Logger: logger})
}

// TwoFactorKey returns the key sealing authenticator secrets: the SHA-256
// of TWO_FACTOR_KEY, or a key kept in the database like the flash key.
func TwoFactorKey(ctx context.Context, cfg *config.Config, db *store.DB) ([]byte, error) {
	if cfg.TwoFactorKey != "" {
		sum := sha256.Sum256([]byte(cfg.TwoFactorKey))
		return sum[:], nil
	}
	return db.Secret(ctx, "two_factor_key")
}

// JobStats reads the state of every job queue for the metrics.
func JobStats(ctx context.Context, db *store.DB) ([]metrics.QueueStats, error) {
	qs, err := db.JobStats(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]metrics.QueueStats, len(qs))
	for i, q := range qs {
		out[i] = metrics.QueueStats{Queue: q.Queue, Waiting: q.Waiting, Running: q.Running, GivenUp: q.GivenUp}
		if !q.OldestDue.IsZero() && now.After(q.OldestDue) {
			out[i].OldestDue = now.Sub(q.OldestDue)
		}
	}
	return out, nil
}
