// Package config reads Atrium's settings from environment variables and an
// optional .env file, checks every one of them and reports all problems at
// once. It never reads the process environment by itself: callers pass an
// Env (FromOS in main, a literal map in tests).
package config

import (
	"atrium/internal/app"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Env is a set of environment variables, by name. An empty (or blank) value
// means the variable is unset.
type Env map[string]string

// FromOS returns the process environment as an Env.
func FromOS() Env {
	env := make(Env)
	for _, kv := range os.Environ() {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		env[name] = value
	}
	return env
}

// WithDefaults returns a new Env holding e's variables, with fallback
// filling in every variable that e lacks or leaves empty. It merges a .env
// file under the real environment: env.WithDefaults(dotenv).
func (e Env) WithDefaults(fallback Env) Env {
	out := make(Env, len(e)+len(fallback))
	for name, value := range fallback {
		out[name] = value
	}
	for name, value := range e {
		if isSet(value) || !isSet(out[name]) {
			out[name] = value
		}
	}
	return out
}

// isSet reports whether an environment value counts as set: empty and
// blank values mean "use the default".
func isSet(value string) bool { return strings.TrimSpace(value) != "" }

// Defaults of the public site's settings. `make rename` rewrites
// DefaultAppName.
const (
	DefaultAppName     = "Atrium"
	DefaultDescription = "A multi-tenant SaaS starter: magic-link sign-in, workspaces, invites, billing and an audit log, ready to build on."
)

// Values of Config.Env (APP_ENV).
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvProduction  = "production"
)

// Values of Database.Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Values of SMTP.TLS (SMTP_TLS).
const (
	TLSMandatory     = "mandatory"     // STARTTLS required
	TLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	TLSNone          = "none"          // plain text
	TLSImplicit      = "implicit"      // TLS from the first byte, usually port 465
)

// Config is Atrium's validated configuration. Load builds it; each field
// names the variable it comes from.
type Config struct {
	Env               string        // APP_ENV: development (default) | test | production
	AppURL            *url.URL      // APP_URL, default http://localhost:PORT, stored without a trailing slash
	Port              int           // PORT, default 8080; 0 picks a free port
	Database          Database      // DATABASE_URL, default "sqlite:data/atrium.db"
	DBMaxOpenConns    int           // DB_MAX_OPEN_CONNS, default 10
	DBMaxIdleConns    int           // DB_MAX_IDLE_CONNS, default DBMaxOpenConns (at most that)
	DBConnMaxLifetime time.Duration // DB_CONN_MAX_LIFETIME_MINUTES, default 30; 0 = no limit
	MigrateOnStart    bool          // MIGRATE_ON_START, default true

	SMTP   SMTP   // SMTP_* variables
	Stripe Stripe // STRIPE_* variables

	RateLimitMax         int           // RATE_LIMIT_MAX, default 50, at least 10
	RateLimitWindow      time.Duration // RATE_LIMIT_WINDOW_MINUTES, default 5
	LoginRateLimitMax    int           // LOGIN_RATE_LIMIT_MAX magic-link requests per email, default 5
	LoginRateLimitWindow time.Duration // LOGIN_RATE_LIMIT_WINDOW_MINUTES, default 15
	RedisURL             string        // REDIS_URL, optional redis:// or rediss:// URL
	APIRateLimitMax      int           // API_RATE_LIMIT_MAX requests per API key per minute, default 600, at least 1
	APIBadKeyMax         int           // API_BAD_KEY_MAX requests without a usable key per client network per minute, default 30, at least 1

	// Mail abuse limits: sign-in links per address from all networks, and
	// invite emails per invite and per address.
	LoginAddressMax        int           // LOGIN_ADDRESS_MAX sign-in emails per address per login window, default 50 (10 networks' budgets), at least LOGIN_RATE_LIMIT_MAX
	InviteResendInterval   time.Duration // INVITE_RESEND_INTERVAL_MINUTES between two emails of one invite, default 5
	InviteResendsPerDay    int           // INVITE_RESENDS_PER_DAY per invite, default 5
	InviteEmailsPerAddress int           // INVITE_EMAILS_PER_ADDRESS_PER_DAY from all workspaces, default 10

	TrustedProxies  []netip.Prefix // TRUSTED_PROXIES: comma-separated IPs or CIDRs; default none
	LogLevel        slog.Level     // LOG_LEVEL: debug | info (default) | warn | error
	ShutdownTimeout time.Duration  // SHUTDOWN_TIMEOUT_SECONDS, default 15

	// AdminAllowedNetworks is ADMIN_ALLOWED_NETWORKS: comma-separated IPs
	// or CIDRs the operator console (/admin) answers from; default none,
	// which means any network (staff still need two-factor sign-in).
	AdminAllowedNetworks []netip.Prefix

	FreePlanSeats     int    // FREE_PLAN_SEATS, default 3
	ProPlanSeats      int    // PRO_PLAN_SEATS, default 0 = unlimited
	BusinessPlanSeats int    // BUSINESS_PLAN_SEATS, default 0 = unlimited
	ProPlanPriceLabel string // PRO_PLAN_PRICE_LABEL, optional: Pro's price as the pricing page words it, instead of the catalog's amount

	TrialDays      int           // BILLING_TRIAL_DAYS, default 0 (no trial), at most 730
	TrialNeedsCard bool          // BILLING_TRIAL_NEEDS_CARD, default false: a trial starts without a payment method
	GracePeriod    time.Duration // BILLING_GRACE_DAYS a past-due workspace keeps working, default 7

	// Plans is the plan catalog (internal/app/plan.go) with this
	// configuration's prices, seats and trial: every entitlement check
	// reads it.
	Plans *app.Catalog

	MaxWorkspacesPerUser int // MAX_WORKSPACES_PER_USER workspaces one person may own, default 20, at least 1

	// WebhookAllowPrivate is WEBHOOK_ALLOW_PRIVATE, default false: lets
	// webhook endpoints use plain http, any port and private or loopback
	// addresses, for development against a receiver on the same machine.
	// Refused when APP_ENV=production.
	WebhookAllowPrivate bool

	// SSODNSResolver is SSO_DNS_RESOLVER, optional: the DNS server
	// (host:port) asked for the TXT records that verify workspaces'
	// single sign-on domains. Empty: the system's resolver.
	SSODNSResolver string

	// FlashKey is FLASH_KEY, optional: at least 32 characters signing the
	// flash-message cookie. Empty: a key made at first start and kept in
	// the database.
	FlashKey string
	// TwoFactorKey is TWO_FACTOR_KEY, optional: at least 32 characters
	// sealing authenticator-app secrets. Empty: a key made at first start
	// and kept in the database.
	TwoFactorKey string

	AppName         string            // PUBLIC_APP_NAME, default DefaultAppName
	Description     string            // PUBLIC_APP_DESCRIPTION: the meta description, default a one-line pitch
	ContactEmail    string            // PUBLIC_CONTACT_EMAIL, default "hello@example.com": the address the legal pages give
	DisableIndexing bool              // DISABLE_INDEXING, default false: noindex on every page and a robots.txt that disallows everything
	Public          map[string]string // every set PUBLIC_* variable, PUBLIC_APP_NAME included: with the plan settings, the only values ever rendered into pages

	Cluster Cluster // running several instances: metrics, Redis failure mode, drain (cluster.go)
	Jobs    Jobs    // the job queue: workers, polling, rescue of abandoned jobs (jobs.go)

	// Providers are the identity providers people may sign in with, from
	// the OIDC_<NAME>_* variables, sorted by name (oidc.go).
	Providers []Provider
}

// Database says which database to open and how.
type Database struct {
	Driver string // DriverSQLite or DriverPostgres
	DSN    string // sqlite: the file path ("data/atrium.db", "/abs/x.db"); postgres: the URL as given
}

// SMTP holds the outgoing mail settings. An empty Host means stub mode:
// mail is written to the log instead of being sent.
type SMTP struct {
	Host     string // SMTP_HOST; empty = stub mode
	Port     int    // SMTP_PORT, default 587 (465 when TLS is implicit)
	Username string // SMTP_USERNAME
	Password string // SMTP_PASSWORD, kept verbatim
	From     string // SMTP_FROM, default "Atrium <no-reply@localhost>"
	TLS      string // SMTP_TLS: TLSMandatory (default), TLSOpportunistic, TLSNone or TLSImplicit
}

// Stripe holds the billing settings. An empty SecretKey turns billing off.
type Stripe struct {
	SecretKey     string // STRIPE_SECRET_KEY; empty = billing off
	WebhookSecret string // STRIPE_WEBHOOK_SECRET
	PriceID       string // STRIPE_PRICE_ID: Pro, monthly
	// The other prices of the plan catalog; each is optional.
	ProAnnual       string // STRIPE_PRICE_PRO_ANNUAL
	BusinessMonthly string // STRIPE_PRICE_BUSINESS_MONTHLY
	BusinessAnnual  string // STRIPE_PRICE_BUSINESS_ANNUAL
	Currency        string // BILLING_CURRENCY, default usd: the currency every price is in
	LiveMode        bool   // STRIPE_LIVE_MODE, default false; must match the key's kind
	APIBase         string // STRIPE_API_BASE, optional (a fake Stripe in tests), without a trailing slash
	AutomaticTax    bool   // STRIPE_AUTOMATIC_TAX, default false: Stripe Tax in Checkout
}

// Load builds a Config from env, checking every variable. When some are
// invalid it returns a *ValidationError listing all of them. When a PUBLIC_*
// variable looks like a server-only secret it returns a *GuardError, joined
// with the *ValidationError if there is one too; errors.As finds either.
func Load(env Env) (*Config, error) {
	l := &loader{env: env}
	c := &Config{}

	c.Env = l.choice("APP_ENV", EnvDevelopment, "expected development, test or production",
		EnvDevelopment, EnvTest, EnvProduction)
	c.Port, _ = l.int("PORT", 8080, 0, 65535, "expected a port number from 0 to 65535")
	// Without APP_URL, links point at this machine on the port it listens on.
	defaultURL := "http://localhost:8080"
	if c.Port != 0 {
		defaultURL = fmt.Sprintf("http://localhost:%d", c.Port)
	}
	c.AppURL = l.appURL("APP_URL", defaultURL)
	c.Database = l.database("DATABASE_URL", "sqlite:data/atrium.db")
	l.loadDBPool(c)
	c.MigrateOnStart = l.bool("MIGRATE_ON_START", true)
	c.WebhookAllowPrivate = l.bool("WEBHOOK_ALLOW_PRIVATE", false)
	if c.Env == EnvProduction && c.WebhookAllowPrivate {
		l.add(Problem{Var: "WEBHOOK_ALLOW_PRIVATE",
			Message: "must be off when APP_ENV=production (it lets webhooks reach the server's own network)"})
	}

	c.SSODNSResolver = l.value("SSO_DNS_RESOLVER")
	if c.SSODNSResolver != "" {
		if _, port, err := net.SplitHostPort(c.SSODNSResolver); err != nil || port == "" {
			l.problem("SSO_DNS_RESOLVER", "must be host:port, such as 1.1.1.1:53")
		}
	}

	c.SMTP = l.smtp()
	if c.Env == EnvProduction && c.SMTP.Host == "" {
		l.add(Problem{Var: "SMTP_HOST",
			Message: "required when APP_ENV=production (stub mode writes sign-in links to the log)"})
	}
	c.Stripe = l.stripe()

	c.RateLimitMax, _ = l.int("RATE_LIMIT_MAX", 50, 10, maxInt,
		"expected a whole number of requests, at least 10")
	c.RateLimitWindow = l.duration("RATE_LIMIT_WINDOW_MINUTES", 5, 1, time.Minute,
		"expected a whole number of minutes, at least 1")
	c.LoginRateLimitMax, _ = l.int("LOGIN_RATE_LIMIT_MAX", 5, 1, maxInt,
		"expected a whole number of requests per email, at least 1")
	c.LoginRateLimitWindow = l.duration("LOGIN_RATE_LIMIT_WINDOW_MINUTES", 15, 1, time.Minute,
		"expected a whole number of minutes, at least 1")
	c.RedisURL = l.redisURL("REDIS_URL")
	c.APIRateLimitMax, _ = l.int("API_RATE_LIMIT_MAX", 600, 1, maxInt,
		"expected a whole number of requests per API key per minute, at least 1")
	c.APIBadKeyMax, _ = l.int("API_BAD_KEY_MAX", 30, 1, maxInt,
		"expected a whole number of requests per client network per minute, at least 1")
	l.loadMailLimits(c)

	c.TrustedProxies = l.prefixes("TRUSTED_PROXIES")
	c.AdminAllowedNetworks = l.prefixes("ADMIN_ALLOWED_NETWORKS")
	c.LogLevel = l.logLevel("LOG_LEVEL")
	c.ShutdownTimeout = l.duration("SHUTDOWN_TIMEOUT_SECONDS", 15, 1, time.Second,
		"expected a whole number of seconds, at least 1")

	c.FreePlanSeats, _ = l.int("FREE_PLAN_SEATS", 3, 1, maxInt,
		"expected a whole number of seats, at least 1")
	c.ProPlanSeats, _ = l.int("PRO_PLAN_SEATS", 0, 0, maxInt,
		"expected a whole number of seats, at least 0 (0 = unlimited)")
	c.BusinessPlanSeats, _ = l.int("BUSINESS_PLAN_SEATS", 0, 0, maxInt,
		"expected a whole number of seats, at least 0 (0 = unlimited)")
	c.ProPlanPriceLabel = l.priceLabel("PRO_PLAN_PRICE_LABEL", "")
	c.TrialDays, _ = l.int("BILLING_TRIAL_DAYS", 0, 0, 730, "expected a whole number of days from 0 (no trial) to 730")
	c.TrialNeedsCard = l.bool("BILLING_TRIAL_NEEDS_CARD", false)
	c.GracePeriod = l.duration("BILLING_GRACE_DAYS", 7, 0, 24*time.Hour, "expected a whole number of days, at least 0")

	c.MaxWorkspacesPerUser, _ = l.int("MAX_WORKSPACES_PER_USER", 20, 1, 100000,
		"expected a whole number of workspaces, from 1 to 100000")
	c.FlashKey = l.secretKey("FLASH_KEY", 32)
	c.TwoFactorKey = l.secretKey("TWO_FACTOR_KEY", 32)

	c.AppName = l.str("PUBLIC_APP_NAME", DefaultAppName)
	c.Description = l.str("PUBLIC_APP_DESCRIPTION", DefaultDescription)
	c.ContactEmail = l.email("PUBLIC_CONTACT_EMAIL", "hello@example.com")
	c.DisableIndexing = l.bool("DISABLE_INDEXING", false)
	c.Public = publicVars(env, c.AppName)
	c.Cluster = l.cluster(c.Port)
	c.Jobs = l.jobs()
	c.Providers = l.providers(c.Env)
	c.Plans = c.catalog()

	var errs []error
	if names := SecretGuard(env); len(names) > 0 {
		errs = append(errs, &GuardError{Names: names})
	}
	if len(l.problems) > 0 {
		errs = append(errs, &ValidationError{Problems: l.problems})
	}
	switch len(errs) {
	case 0:
		return c, nil
	case 1:
		return nil, errs[0]
	default:
		return nil, errors.Join(errs...)
	}
}

// loadDBPool reads the connection pool sizes. Idle connections default to
// DB_MAX_OPEN_CONNS: a connection closed for want of an idle slot takes its
// prepared statements with it, and the next one prepares them all again.
func (l *loader) loadDBPool(c *Config) {
	open, openOK := l.int("DB_MAX_OPEN_CONNS", 10, 1, maxInt,
		"expected a whole number of connections, at least 1")
	idle, idleOK := l.int("DB_MAX_IDLE_CONNS", open, 0, maxInt,
		"expected a whole number of connections, at least 0 and at most DB_MAX_OPEN_CONNS")
	if openOK && idleOK && idle > open {
		l.problem("DB_MAX_IDLE_CONNS", fmt.Sprintf(
			"expected at most DB_MAX_OPEN_CONNS (%d)", open))
	}
	c.DBMaxOpenConns, c.DBMaxIdleConns = open, idle
	c.DBConnMaxLifetime = l.duration("DB_CONN_MAX_LIFETIME_MINUTES", 30, 0, time.Minute,
		"expected a whole number of minutes, at least 0 (0 = no limit)")
}

// loadMailLimits reads the limits on sign-in and invite emails. A
// per-address sign-in ceiling below the per-network budget would hide the
// 429 that tells a real user to wait, so it is refused.
func (l *loader) loadMailLimits(c *Config) {
	n, ok := l.int("LOGIN_ADDRESS_MAX", max(50, 10*c.LoginRateLimitMax), 1, maxInt,
		"expected a whole number of sign-in emails per address, at least 1")
	if ok && n < c.LoginRateLimitMax {
		l.problem("LOGIN_ADDRESS_MAX", fmt.Sprintf("expected at least LOGIN_RATE_LIMIT_MAX (%d)", c.LoginRateLimitMax))
	}
	c.LoginAddressMax = n
	c.InviteResendInterval = l.duration("INVITE_RESEND_INTERVAL_MINUTES", 5, 1, time.Minute,
		"expected a whole number of minutes, at least 1")
	c.InviteResendsPerDay, _ = l.int("INVITE_RESENDS_PER_DAY", 5, 1, maxInt,
		"expected a whole number of resends per invite, at least 1")
	c.InviteEmailsPerAddress, _ = l.int("INVITE_EMAILS_PER_ADDRESS_PER_DAY", 10, 1, maxInt,
		"expected a whole number of invite emails per address, at least 1")
}

// publicVars collects every set PUBLIC_* variable, with PUBLIC_APP_NAME
// always present.
func publicVars(env Env, appName string) map[string]string {
	pub := map[string]string{"PUBLIC_APP_NAME": appName}
	for name, value := range env {
		if strings.HasPrefix(name, "PUBLIC_") && name != "PUBLIC_APP_NAME" && isSet(value) {
			pub[name] = strings.TrimSpace(value)
		}
	}
	return pub
}

// IsProduction reports whether APP_ENV is production.
func (c *Config) IsProduction() bool { return c.Env == EnvProduction }

// IsDevelopment reports whether APP_ENV is development.
func (c *Config) IsDevelopment() bool { return c.Env == EnvDevelopment }

// MailStub reports whether mail goes to the log instead of an SMTP server.
func (c *Config) MailStub() bool { return c.SMTP.Host == "" }

// catalog builds the plan catalog from the configuration.
func (c *Config) catalog() *app.Catalog {
	return app.NewCatalog(app.CatalogConfig{
		Currency:  c.Stripe.Currency,
		FreeSeats: c.FreePlanSeats, ProSeats: c.ProPlanSeats, BusinessSeats: c.BusinessPlanSeats,
		ProMonthly: c.Stripe.PriceID, ProAnnual: c.Stripe.ProAnnual,
		BusinessMonthly: c.Stripe.BusinessMonthly, BusinessAnnual: c.Stripe.BusinessAnnual,
		FreeAPIRate: c.APIRateLimitMax, ProAPIRate: c.APIRateLimitMax, BusAPIRate: 5 * c.APIRateLimitMax,
		TrialDays: c.TrialDays, TrialNeedsCard: c.TrialNeedsCard, GracePeriod: c.GracePeriod,
		NoUpgrade:        !c.BillingOffered(),
		ProMonthlyAmount: 1200, ProAnnualAmount: 12000, BusMonthlyAmount: 2400, BusAnnualAmount: 24000,
	})
}

// BillingEnabled reports whether a Stripe secret key is configured.
func (c *Config) BillingEnabled() bool { return c.Stripe.SecretKey != "" }

// BillingOffered reports whether the app shows billing at all: always with
// Stripe configured, and outside production without it (the demo upgrade in
// development, the setup notice in tests). Production without Stripe has
// no Billing tab, no upgrade prompts and no buy button on /pricing.
func (c *Config) BillingOffered() bool { return c.BillingEnabled() || !c.IsProduction() }

// SecureCookies reports whether cookies must carry the Secure flag, that is
// whether APP_URL is https.
func (c *Config) SecureCookies() bool { return c.AppURL != nil && c.AppURL.Scheme == "https" }

// Addr returns the address to listen on, ":PORT".
func (c *Config) Addr() string { return fmt.Sprintf(":%d", c.Port) }

// SecretValues returns the non-empty values of secret settings: the SMTP
// password, the Stripe secret key and webhook secret, FLASH_KEY, the identity providers' client secrets, and the passwords in
// DATABASE_URL and REDIS_URL. Tests search rendered pages and logs for them.
func (c *Config) SecretValues() []string {
	var out []string
	add := func(v string) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	add(c.SMTP.Password)
	add(c.Stripe.SecretKey)
	add(c.Stripe.WebhookSecret)
	add(c.FlashKey)
	add(c.TwoFactorKey)
	if c.Database.Driver == DriverPostgres {
		for _, p := range urlPasswords(c.Database.DSN) {
			add(p)
		}
	}
	for _, p := range urlPasswords(c.RedisURL) {
		add(p)
	}
	for _, p := range c.Providers {
		add(p.ClientSecret)
	}
	return out
}

// urlPasswords returns the passwords in a URL: from its user info and from
// a "password" query parameter (a form Postgres accepts).
func urlPasswords(raw string) []string {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
	}
	out = append(out, u.Query()["password"]...)
	return out
}
