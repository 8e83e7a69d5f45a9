package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/i18n"
	"atrium/web/page"
)

// handleBilling handles "GET /w/{slug}/billing": owners manage, admins see
// the status read-only.
func (s *Server) handleBilling(w http.ResponseWriter, r *http.Request) {
	if !s.Config.BillingOffered() {
		s.handleNotFound(w, r)
		return
	}
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	stats, err := s.Workspaces.FindWorkspaceStats(r.Context(), sc.scope())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ws, ctx := sc.ws, r.Context()
	v := page.BillingView{
		URL: workspaceURL(ws.Slug), Plan: s.planNamed(ctx, ws.Plan), Status: subscriptionStatus(ctx, ws.SubscriptionStatus),
		SeatsUsed: stats.SeatsUsed(), SeatLimit: seatLimit(ctx, s.plans().Seats(ws)),
		// During a dunning episode the layout's banner (billing_dunning.go)
		// says it, with the invoice to pay and the restriction date.
		PastDue:   ws.SubscriptionStatus == app.SubPastDue && ws.PaymentFailedAt.IsZero() && !ws.Restricted(),
		Lapsed:    ws.SubscriptionStatus == app.SubCanceled || ws.SubscriptionStatus == app.SubUnpaid,
		CanManage: app.CanManageBilling(sc.m.Role) == nil, Enabled: s.Stripe != nil,
		DemoMode: s.Stripe == nil && s.Config.IsDevelopment(), HasCustomer: ws.StripeCustomerID != "",
		IsPro:    ws.IsPaid(),
		ProName:  planName(ctx, s.proPlan()),
		FreeName: planName(ctx, s.Config.Plans.Free()),
		// The Pro plan's price, e.g. "$12.00 per seat / month".
		PriceLabel: s.priceLabel(ctx, s.proPlan(), app.Monthly),
		InForce:    s.planInForce(ctx, ws),
	}
	switch ws.SubscriptionStatus {
	case app.SubActive, app.SubTrialing:
		v.StatusKind = "success"
	case app.SubPastDue:
		v.StatusKind = "warning"
	case app.SubCanceled, app.SubUnpaid:
		v.StatusKind = "danger"
	}
	if !ws.CurrentPeriodEnd.IsZero() && v.IsPro {
		when := s.formatDate(ctx, ws.CurrentPeriodEnd, p.User.TimeZone)
		v.Renewal = i18n.T(ctx, "billing.renews_on", "Date", when)
		if ws.CancelAtPeriodEnd {
			v.Renewal = i18n.T(ctx, "billing.cancels_on", "Date", when)
		}
	}
	v.Change = s.billingChangeView(ctx, ws, v.CanManage, p.User.TimeZone)
	// Invoices and the discount come from Stripe, for owners only: admins
	// see the plan, not what was paid.
	if v.CanManage {
		s.addStripeDetails(ctx, &v, ws, p.User.TimeZone)
	}
	s.render(w, r, http.StatusOK, page.Billing(s.workspacePage(w, r, i18n.T(ctx, "billing.title"), "billing"), v))
}

// handleBillingReturn handles "GET /w/{slug}/billing/return?checkout=…",
// where Stripe sends the owner back after Checkout.
func (s *Server) handleBillingReturn(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	switch r.URL.Query().Get("checkout") {
	case "success":
		s.setFlash(w, "success", i18n.T(r.Context(), "billing.checkout.success"))
	case "cancel":
		s.setFlash(w, "info", i18n.T(r.Context(), "billing.checkout.cancelled"))
	}
	redirect(w, r, wsPath(sc.ws, "/billing"))
}

// handleCheckout handles "POST /w/{slug}/billing/checkout" (owners): it
// starts a Stripe Checkout Session and sends the owner to it.
func (s *Server) handleCheckout(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	if s.Stripe == nil {
		s.errorPage(w, r, http.StatusNotFound, i18n.T(r.Context(), "billing.not_configured"))
		return
	}
	if sc.ws.HasLiveSubscription() {
		s.setFlash(w, "info", i18n.T(r.Context(), "billing.checkout.already_subscribed"))
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	}
	base := s.Config.AppURL.String() + wsPath(sc.ws, "/billing/return")
	co, err := s.Stripe.StartCheckout(r.Context(), sc.ws, p.User.Email, base+"?checkout=success", base+"?checkout=cancel", s.Now())
	if err != nil {
		s.stripeFailed(w, r, err)
		return
	}
	if err := s.Billing.RecordCheckoutStarted(r.Context(), sc.scope(), co.CustomerID, co.SessionID); err != nil {
		s.Error(w, r, err)
		return
	}
	redirect(w, r, co.URL)
}

// handlePortal handles "POST /w/{slug}/billing/portal" (owners).
func (s *Server) handlePortal(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if s.Stripe == nil || sc.ws.StripeCustomerID == "" {
		s.setFlash(w, "error", i18n.T(r.Context(), "billing.portal.no_customer"))
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	}
	url, err := s.Stripe.PortalURL(r.Context(), sc.ws.StripeCustomerID, s.Config.AppURL.String()+wsPath(sc.ws, "/billing"))
	if err != nil {
		s.stripeFailed(w, r, err)
		return
	}
	redirect(w, r, url)
}

// stripeFailed logs a failed Stripe call and tells the owner to retry.
func (s *Server) stripeFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.Logger.ErrorContext(r.Context(), "stripe call failed", "request_id", requestIDFrom(r.Context()), "error", err.Error())
	s.errorPage(w, r, http.StatusBadGateway, i18n.T(r.Context(), "billing.stripe_failed"))
}

// handleDemoUpgrade handles "POST /w/{slug}/billing/demo-upgrade" (owners):
// development only, when Stripe is not configured.
func (s *Server) handleDemoUpgrade(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if s.Stripe != nil || !s.Config.IsDevelopment() {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	if err := s.Billing.DemoUpgrade(r.Context(), sc.scope()); err != nil {
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "billing.demo.upgraded", "Plan", planName(r.Context(), s.proPlan())))
	redirect(w, r, wsPath(sc.ws, "/billing"))
}

// handleDemoDowngrade handles "POST /w/{slug}/billing/demo-downgrade"
// (owners): development only, when Stripe is not configured. It undoes a
// demo upgrade, or seeded billing, so the free plan can be tried again.
func (s *Server) handleDemoDowngrade(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if s.Stripe != nil || !s.Config.IsDevelopment() {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	if err := s.Billing.DemoDowngrade(r.Context(), sc.scope()); err != nil {
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "billing.demo.downgraded", "Free", planName(r.Context(), s.Config.Plans.Free())))
	redirect(w, r, wsPath(sc.ws, "/billing"))
}

// webhookBadBudget is how many deliveries whose signature does not verify
// one client may send per minute; past it they are answered 429 without a
// log line. A delivery whose signature verifies never spends nor checks it.
const webhookBadBudget = 30

// webhookSecretLogEvery is how often a missing STRIPE_WEBHOOK_SECRET is
// logged while Stripe keeps delivering.
const webhookSecretLogEvery = time.Minute

// handleStripeWebhook handles "POST /api/billing/webhook". It trusts only
// the Stripe-Signature header: no session, no CSRF check, no browser rate
// limit. The pipeline (verify, version check, interpret, apply) is
// billing.Receiver's; the handler keeps the secret check, the body cap,
// the budget of bad signatures and the JSON answer.
func (s *Server) handleStripeWebhook(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !s.Config.BillingEnabled() {
		// Billing is off: there is no webhook, and nothing worth a log line.
		s.Logger.DebugContext(ctx, "stripe webhook: billing is off (STRIPE_SECRET_KEY is empty)", "request_id", requestIDFrom(ctx))
		s.loadSession(http.HandlerFunc(s.handleNotFound)).ServeHTTP(w, r)
		return
	}
	if s.Config.Stripe.WebhookSecret == "" {
		if s.webhookSecretLog.allow(s.Now(), webhookSecretLogEvery) {
			s.Logger.ErrorContext(ctx, "stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set (logged at most once a minute)", "request_id", requestIDFrom(ctx))
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "webhook secret not configured"})
		return
	}
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, billing.MaxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.Logger.WarnContext(ctx, "stripe webhook refused: body too large", "request_id", requestIDFrom(ctx), "limit", billing.MaxWebhookBody)
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"})
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unreadable body"})
		return
	}
	recv := *s.webhooks
	if recv.Logger != nil {
		recv.Logger = recv.Logger.With("request_id", requestIDFrom(ctx))
	}
	rc, err := recv.Receive(ctx, payload, r.Header.Get("Stripe-Signature"))
	switch {
	case errors.Is(err, billing.ErrBadSignature):
		s.Metrics.WebhookEvent("bad_signature")
		s.refuseSignature(w, r, err)
		return
	case err != nil:
		s.Metrics.WebhookEvent("failed")
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "not applied"})
		return
	}
	s.Metrics.WebhookEvent(rc.Result)
	writeJSON(w, http.StatusOK, map[string]any{"received": true, "result": rc.Result, "at": time.Now().UTC().Format(time.RFC3339)})
}

// refuseSignature answers a delivery whose signature does not verify: 400
// with a warning while the client's budget lasts, then 429.
func (s *Server) refuseSignature(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	key := "webhook-bad:" + clientKey(s.Limiter.ClientIP(r))
	// Peek reports Reached only once the count is past the limit; the
	// budget is spent when nothing Remains.
	if lc, perr := s.Limiter.webhook.Peek(ctx, key); perr == nil && (lc.Reached || lc.Remaining == 0) {
		w.Header().Set("Retry-After", "60")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many invalid requests"})
		return
	}
	_, _ = s.Limiter.webhook.Increment(ctx, key, 1)
	s.Logger.WarnContext(ctx, "stripe webhook refused: bad signature", "request_id", requestIDFrom(ctx), "error", err.Error())
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid signature"})
}

// logEvery lets one log line through per interval.
type logEvery struct {
	mu   sync.Mutex
	last time.Time
}

// allow reports whether a line may be logged at now, and if so starts a
// new interval.
func (l *logEvery) allow(now time.Time, every time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < every {
		return false
	}
	l.last = now
	return true
}

// proPlan returns the catalog's Pro plan, the one Checkout sells.
func (s *Server) proPlan() app.Plan {
	p, _ := s.Config.Plans.Plan(app.PlanPro)
	return p
}

// priceLabel words a plan's price at iv for the pricing and billing
// pages: "$12.00 per seat / month" (pricePair's two parts).
func (s *Server) priceLabel(ctx context.Context, p app.Plan, iv app.Interval) string {
	amount, unit := s.pricePair(ctx, p, iv)
	if unit == "" {
		return amount
	}
	return amount + " " + unit
}

// subscriptionStatus names a Stripe subscription status in the reader's
// language ("Active", "Past due"); a status the catalog does not know yet
// reads as its words.
func subscriptionStatus(ctx context.Context, status string) string {
	if status == "" {
		return ""
	}
	key := "billing.status." + status
	if t := i18n.T(ctx, key); t != key {
		return t
	}
	return statusLabel(status)
}

// seatLimit words a seat cap in the reader's language, on the billing page
// and the dashboard: "3", "1,000", or "Unlimited" for 0.
func seatLimit(ctx context.Context, limit int) string {
	if limit == 0 {
		return i18n.T(ctx, "billing.seats_unlimited")
	}
	return i18n.Number(ctx, int64(limit))
}
