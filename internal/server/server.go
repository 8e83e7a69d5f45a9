// Package server is Atrium's HTTP layer: routes, middleware, and one file of
// handlers per noun. Handlers decode and validate input, call one service
// method, and render a view model or redirect.
package server

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/config"
	"atrium/internal/docs"
	"atrium/internal/i18n"
	"atrium/internal/metrics"
	"atrium/internal/oidc"
	"atrium/internal/outbound"
)

// Database is what the health checks need from the store.
type Database interface {
	Ping(ctx context.Context) error
	PendingMigrations(ctx context.Context) (int, error)
}

// Deps are the server's dependencies. Every field is required unless its
// comment says otherwise.
type Deps struct {
	Logger     *slog.Logger
	Config     *config.Config
	DB         Database
	Auth       app.AuthService
	Users      app.UserService
	Audit      app.AuditService
	Workspaces app.WorkspaceService
	Members    app.MemberService
	// WorkspaceTwoFactor is the workspace two-factor policy.
	WorkspaceTwoFactor app.WorkspaceTwoFactorService
	Invites            app.InviteService
	Outbox             app.OutboxService
	Billing            app.BillingService
	APIKeys            app.APIKeyService
	TwoFactor          app.TwoFactorService
	// Identities are the accounts at identity providers linked to users.
	Identities app.IdentityService
	// Providers are the identity providers to sign in with; optional,
	// defaults to the configured ones (OIDC_*) over the outbound client.
	Providers *oidc.Registry
	// Admin is the operator console's store (admin.go).
	Admin app.AdminService
	// Jobs is the console's view of the job queue (admin_jobs.go).
	Jobs app.JobQueueService
	// SSO is workspace single sign-on: connections, domains, sign-in.
	SSO app.SSOService
	// Resolver looks up the TXT records that verify single sign-on
	// domains; optional, defaults to SSO_DNS_RESOLVER or the system's.
	Resolver Resolver
	// Hooks are the workspaces' outgoing webhook endpoints.
	Hooks app.WebhookService
	// Resources are the services of the resources made with `make
	// scaffold` (store.NewResources); their routes need them.
	Resources app.Resources
	// Stripe makes outbound Stripe calls; nil when billing is off.
	Stripe  *billing.Client
	Limiter *RateLimiter
	// Now is the clock; optional, defaults to time.Now.
	Now func() time.Time
	// Docs are the /docs pages; optional, defaults to the embedded ones
	// (docs.Builtin), rendered once here.
	Docs *docs.Library
	// Webhooks is the Stripe webhook pipeline; optional, defaults to a
	// billing.Receiver over Billing and Stripe with STRIPE_WEBHOOK_SECRET.
	Webhooks *billing.Receiver
	// FlashKey signs the flash cookie; optional, defaults to a random key
	// of this process (a restart then drops pending messages). Serve
	// passes FLASH_KEY or the key kept in the database.
	FlashKey []byte
	// Metrics records request, webhook and rate-limit metrics; optional
	// (nil records nothing).
	Metrics *metrics.Metrics
	// Redis is the shared rate-limit store /readyz checks; optional (nil
	// without REDIS_URL).
	Redis RedisCheck
	// Catalog holds the message catalogs pages and emails are written
	// from; optional, defaults to the embedded ones, with the
	// pseudo-locale en-XA offered outside production.
	Catalog *i18n.Catalog
	// Draining reports that shutdown has begun, so /readyz answers 503 and
	// the load balancer stops sending requests; optional.
	Draining func() bool
}

// RedisCheck is what /readyz needs from the Redis rate-limit store;
// *LimiterStore is one.
type RedisCheck interface {
	Ping(ctx context.Context) error
	// FailClosed reports whether requests are refused while Redis fails
	// (RATE_LIMIT_STORE_FAILURE=closed).
	FailClosed() bool
}

// Server holds the dependencies the handlers share.
type Server struct {
	Deps
	sessionCookie string
	flashCookie   string
	lastWSCookie  string
	flashKey      []byte
	secure        bool
	locations     sync.Map // time zone name -> *time.Location
	seatCosts     stripeCache[*billing.SeatPreview]
	webhooks      *billing.Receiver
	// webAuthn runs passkey ceremonies for APP_URL's host; nil when that
	// host cannot be a WebAuthn relying party (an IP address), and then
	// the passkey routes say passkeys are unavailable and log webAuthnErr.
	// providers are the identity providers people may sign in with.
	providers *oidc.Registry
	// ssoClient makes the requests to workspaces' identity providers;
	// resolver looks up their domains' TXT records.
	ssoClient   *http.Client
	resolver    Resolver
	webAuthn    *webauthn.WebAuthn
	webAuthnErr error
	// webhookSecretLog throttles the missing-secret error of the webhook.
	webhookSecretLog logEvery
	// detailsCache keeps the billing page's invoices and discount briefly.
	detailsCache stripeCache[stripeDetails]
	// catalog is Deps.Catalog or the default one.
	catalog *i18n.Catalog
	// auditChoiceCache keeps the audit filter's choices by language.
	auditChoiceCache sync.Map
}

// New returns Atrium's HTTP handler.
func New(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Draining == nil {
		d.Draining = func() bool { return false }
	}
	if d.Docs == nil {
		d.Docs = docs.Builtin()
	}
	s := &Server{Deps: d, secure: d.Config.SecureCookies(), sessionCookie: "atrium_session",
		flashCookie: flashCookieName, lastWSCookie: lastWorkspaceCookie, flashKey: d.FlashKey, webhooks: d.Webhooks}
	s.detailsCache.keep, s.seatCosts.keep = keepStripeDetails, keepSeatCost
	s.catalog = d.Catalog
	if s.catalog == nil {
		s.catalog = i18n.MustNew(i18n.Options{Pseudo: d.Config.Env != config.EnvProduction})
	}
	if s.webhooks == nil {
		s.webhooks = &billing.Receiver{Store: d.Billing, Plans: d.Config.Plans, Secret: d.Config.Stripe.WebhookSecret, Logger: d.Logger, Now: d.Now}
		if d.Stripe != nil {
			s.webhooks.Stripe = d.Stripe
		}
	}
	s.sessionCookie = s.hostCookie(s.sessionCookie)
	s.flashCookie = s.hostCookie(s.flashCookie)
	s.lastWSCookie = s.hostCookie(s.lastWSCookie)
	s.webAuthn, s.webAuthnErr = newWebAuthn(d.Config)
	s.providers = d.Providers
	if s.providers == nil {
		s.providers = oidc.New(d.Config, outbound.NewClient(oidc.ClientOptions(d.Config)))
	}
	s.ssoClient = outbound.NewClient(oidc.ClientOptions(d.Config))
	s.resolver = d.Resolver
	if s.resolver == nil {
		s.resolver = newResolver(d.Config)
	}
	if len(s.flashKey) == 0 {
		s.flashKey = make([]byte, 32)
		_, _ = rand.Read(s.flashKey)
	}
	return s.routes()
}

// location returns the named time zone, loaded once, or UTC.
func (s *Server) location(name string) *time.Location {
	if name == "" || name == "UTC" {
		return time.UTC
	}
	if l, ok := s.locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	s.locations.Store(name, l)
	return l
}

// formatDate formats the day of t in the time zone tz, the way the
// language of ctx writes it.
func (s *Server) formatDate(ctx context.Context, t time.Time, tz string) string {
	if t.IsZero() {
		return ""
	}
	if p := i18n.PrinterFrom(ctx); p != nil {
		return p.Date(t, s.location(tz))
	}
	return t.In(s.location(tz)).Format("2 Jan 2006")
}

// formatTime formats t with its time of day in the time zone tz, the way
// the language of ctx writes it.
func (s *Server) formatTime(ctx context.Context, t time.Time, tz string) string {
	if t.IsZero() {
		return ""
	}
	if p := i18n.PrinterFrom(ctx); p != nil {
		return p.DateTime(t, s.location(tz))
	}
	return t.In(s.location(tz)).Format("2 Jan 2006, 15:04 MST")
}

// hostCookie returns the name of a cookie set for path / : under https with
// the __Host- prefix, which pins it to this host, path / and HTTPS.
func (s *Server) hostCookie(name string) string {
	if s.secure {
		return "__Host-" + name
	}
	return name
}
