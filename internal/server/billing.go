package server

import (
	"errors"
	"io"
	"net/http"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/web/page"
)

// handleBilling handles "GET /w/{slug}/billing": owners manage, admins see
// the status read-only.
func (s *Server) handleBilling(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	stats, err := s.Workspaces.FindWorkspaceStats(r.Context(), sc.ws.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ws := sc.ws
	v := page.BillingView{
		Slug: ws.Slug, Plan: planLabel(ws.Plan), Status: statusLabel(ws.SubscriptionStatus),
		SeatsUsed: stats.SeatsUsed(), SeatLimit: seatLabel(s.plans().Seats(ws)),
		PastDue:   ws.SubscriptionStatus == app.SubPastDue,
		Lapsed:    ws.SubscriptionStatus == app.SubCanceled || ws.SubscriptionStatus == app.SubUnpaid,
		CanManage: app.CanManageBilling(sc.m.Role) == nil, Enabled: s.Stripe != nil,
		DemoMode: s.Stripe == nil && s.Config.IsDevelopment(), HasCustomer: ws.StripeCustomerID != "",
		IsPro: app.PlanFor(ws.SubscriptionStatus) == app.PlanPro && ws.Plan == app.PlanPro,
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
		when := s.formatDate(ws.CurrentPeriodEnd, p.User.TimeZone)
		v.Renewal = "Renews on " + when
		if ws.CancelAtPeriodEnd {
			v.Renewal = "Cancels on " + when
		}
	}
	s.render(w, r, http.StatusOK, page.Billing(s.workspacePage(w, r, "Billing", "billing"), v))
}

// handleBillingReturn handles "GET /w/{slug}/billing/return?checkout=…",
// where Stripe sends the owner back after Checkout.
func (s *Server) handleBillingReturn(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	switch r.URL.Query().Get("checkout") {
	case "success":
		s.setFlash(w, "success", "Thanks! Your payment went through. The plan updates as soon as Stripe confirms it, usually within seconds.")
	case "cancel":
		s.setFlash(w, "info", "Checkout was cancelled; nothing was charged.")
	}
	redirect(w, r, wsPath(sc.ws, "/billing"))
}

// handleCheckout handles "POST /w/{slug}/billing/checkout" (owners): it
// starts a Stripe Checkout Session and sends the owner to it.
func (s *Server) handleCheckout(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	if s.Stripe == nil {
		s.errorPage(w, r, http.StatusNotFound, "Billing is not configured on this server.")
		return
	}
	if app.PlanFor(sc.ws.SubscriptionStatus) == app.PlanPro && sc.ws.StripeSubscriptionID != "" {
		s.setFlash(w, "info", "This workspace already has a subscription. Use Manage billing to change it.")
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	}
	base := s.Config.AppURL.String() + wsPath(sc.ws, "/billing/return")
	co, err := s.Stripe.StartCheckout(r.Context(), sc.ws, p.User.Email, base+"?checkout=success", base+"?checkout=cancel")
	if err != nil {
		s.stripeFailed(w, r, err)
		return
	}
	if err := s.Billing.RecordCheckoutStarted(r.Context(), sc.ws.ID, co.CustomerID, co.SessionID); err != nil {
		s.Error(w, r, err)
		return
	}
	redirect(w, r, co.URL)
}

// handlePortal handles "POST /w/{slug}/billing/portal" (owners).
func (s *Server) handlePortal(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if s.Stripe == nil || sc.ws.StripeCustomerID == "" {
		s.setFlash(w, "error", "There is no Stripe customer for this workspace yet. Upgrade first.")
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
	s.errorPage(w, r, http.StatusBadGateway, "We could not reach Stripe just now. Nothing was charged; please try again in a minute.")
}

// handleDemoUpgrade handles "POST /w/{slug}/billing/demo-upgrade" (owners):
// development only, when Stripe is not configured.
func (s *Server) handleDemoUpgrade(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if s.Stripe != nil || !s.Config.IsDevelopment() {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	if err := s.Billing.DemoUpgrade(r.Context(), sc.ws.ID); err != nil {
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", "Demo upgrade: the workspace is on Pro now. No payment was taken.")
	redirect(w, r, wsPath(sc.ws, "/billing"))
}

// webhookBadBudget is how many unverifiable webhook requests one client
// may send per minute before being refused without a signature check.
const webhookBadBudget = 30

// handleStripeWebhook handles "POST /api/billing/webhook". It trusts only
// the Stripe-Signature header: no session, no CSRF check, no browser rate
// limit. Each event is recorded in the transaction that applies it, so a
// redelivery answers 200 and changes nothing.
func (s *Server) handleStripeWebhook(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	secret := s.Config.Stripe.WebhookSecret
	if secret == "" {
		s.Logger.ErrorContext(ctx, "stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set", "request_id", requestIDFrom(ctx))
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "webhook secret not configured"})
		return
	}
	key := "webhook-bad:" + clientKey(s.Limiter.ClientIP(r))
	// Peek reports Reached only once the count is past the limit; the
	// budget is spent when nothing Remains.
	if lc, err := s.Limiter.webhook.Peek(ctx, key); err == nil && (lc.Reached || lc.Remaining == 0) {
		w.Header().Set("Retry-After", "60")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many invalid requests"})
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
	ev, err := billing.VerifyEvent(payload, r.Header.Get("Stripe-Signature"), secret)
	if err != nil {
		_, _ = s.Limiter.webhook.Increment(ctx, key, 1)
		s.Logger.WarnContext(ctx, "stripe webhook refused: bad signature", "request_id", requestIDFrom(ctx), "error", err.Error())
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid signature"})
		return
	}
	log := s.Logger.With("request_id", requestIDFrom(ctx), "stripe_event_id", ev.ID, "stripe_event_type", ev.Type)
	if ev.APIVersion != "" && ev.APIVersion != billing.APIVersion {
		log.WarnContext(ctx, "stripe webhook API version differs from the client's; pin the endpoint to it in the Stripe dashboard",
			"event_api_version", ev.APIVersion, "client_api_version", billing.APIVersion)
	}
	upd, err := billing.Interpret(ev)
	if err != nil {
		// Stored for replay; answering 200 stops a retry loop over a payload
		// that will never parse, and the error log raises the alarm.
		log.ErrorContext(ctx, "stripe webhook event could not be read; stored for replay", "error", err.Error())
		ev.Error, upd = err.Error(), nil
	}
	result, err := s.Billing.ApplyStripeEvent(ctx, *ev, upd)
	if err != nil {
		log.ErrorContext(ctx, "stripe webhook event not applied; Stripe will retry", "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "not applied"})
		return
	}
	switch result {
	case app.EventUnmatched:
		log.WarnContext(ctx, "stripe webhook event matches no workspace; stored for replay (atrium billing replay)")
	case app.EventIgnored:
		log.InfoContext(ctx, "stripe webhook event ignored")
	default:
		log.InfoContext(ctx, "stripe webhook event "+result)
	}
	writeJSON(w, http.StatusOK, map[string]any{"received": true, "result": result, "at": time.Now().UTC().Format(time.RFC3339)})
}
