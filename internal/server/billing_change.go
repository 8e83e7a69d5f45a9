package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/i18n"
	"atrium/web/layout"
	"atrium/web/page"
)

// The in-app plan changes (billing/change.go): the owner picks a plan on
// /billing/plan, reads its preview, and confirms; or cancels and resumes
// at the period end. Stripe is asked, and the workspace changes when
// Stripe's webhook reports the change; only a downgrade's waiting change
// is recorded at once, so the billing page can show it.

// changeFlash is what every request's flash adds: the local plan follows
// Stripe.
func changeFlash(ctx context.Context) string {
	return " " + i18n.T(ctx, "billing.change.follows_stripe")
}

// changeable reports whether the workspace has a subscription the owner
// may change in-app.
func (s *Server) changeable(ws *app.Workspace) bool {
	return s.Stripe != nil && ws.HasLiveSubscription()
}

// billingChangeView is the change section of the billing page.
func (s *Server) billingChangeView(ctx context.Context, ws *app.Workspace, owner bool, tz string) page.BillingChange {
	v := page.BillingChange{Offered: s.changeable(ws), CanManage: owner, Cancelling: ws.CancelAtPeriodEnd,
		RequestedAt: strconv.FormatInt(s.Now().Unix(), 10)}
	if ws.ScheduledPriceID != "" && !ws.ScheduledChangeAt.IsZero() {
		v.Scheduled = i18n.T(ctx, "billing.change.moves_to", "Target", s.priceName(ctx, ws.ScheduledPriceID),
			"Date", s.formatDate(ctx, ws.ScheduledChangeAt, tz))
	}
	if v.Offered && owner {
		v.Cancel = s.confirmCancel(ctx, ws, v.RequestedAt, tz)
	}
	return v
}

// priceName words a catalog price as "Pro, billed monthly".
func (s *Server) priceName(ctx context.Context, priceID string) string {
	p, iv, ok := s.Config.Plans.ForPrice(priceID)
	if !ok {
		return i18n.T(ctx, "billing.plan.another")
	}
	return billedName(ctx, planName(ctx, p), iv)
}

// confirmCancel is the cancellation's confirmation, naming what the
// workspace keeps and what it moves to.
func (s *Server) confirmCancel(ctx context.Context, ws *app.Workspace, requestedAt, tz string) page.Confirm {
	cur, free := s.Config.Plans.Effective(ws), s.Config.Plans.Free()
	limits := []string{seatsPhrase(ctx, free.Seats)}
	if free.AuditDays > 0 {
		limits = append(limits, i18n.N(ctx, "billing.cancel.audit_days", free.AuditDays))
	}
	var lost []string
	for _, f := range app.Features {
		if cur.Includes(f) && !free.Includes(f) {
			lost = append(lost, featureShort(ctx, f))
		}
	}
	if len(lost) > 0 {
		list := lost[0]
		if n := len(lost); n > 1 {
			list = i18n.T(ctx, "billing.cancel.or_list", "List", strings.Join(lost[:n-1], ", "), "Last", lost[n-1])
		}
		limits = append(limits, i18n.T(ctx, "billing.cancel.without", "Features", list))
	}
	until := i18n.T(ctx, "billing.cancel.period_end")
	if !ws.CurrentPeriodEnd.IsZero() {
		until = s.formatDate(ctx, ws.CurrentPeriodEnd, tz)
	}
	return page.Confirm{
		Title: i18n.T(ctx, "billing.cancel.title", "Plan", planName(ctx, cur)),
		Message: i18n.T(ctx, "billing.cancel.message", "Plan", planName(ctx, cur), "Until", until, "Free", planName(ctx, free),
			"Limits", strings.Join(limits, ", ")),
		Label:     i18n.T(ctx, "billing.cancel.label"),
		Action:    wsPath(ws, "/billing/cancel"),
		Fields:    []page.HiddenField{{Name: "requested_at", Value: requestedAt}},
		CancelURL: wsPath(ws, "/billing"),
	}
}

// featureShort names a feature in a list of what a plan lacks
// (billing.feature.<feature>.short).
func featureShort(ctx context.Context, f app.Feature) string {
	return catalogText(ctx, "billing.feature."+string(f)+".short", string(f))
}

// seatsPhrase words a seat cap in the cancellation's list: "3 seats".
func seatsPhrase(ctx context.Context, n int) string {
	if n == 0 {
		return i18n.T(ctx, "billing.cancel.seats_unlimited")
	}
	return i18n.N(ctx, "billing.cancel.seats", n)
}

// handleChangePlan handles "GET /w/{slug}/billing/plan": the plans the
// workspace can move to. Owners choose; admins see them read-only.
func (s *Server) handleChangePlan(w http.ResponseWriter, r *http.Request) {
	sc, ctx := scopeFrom(r.Context()), r.Context()
	if !s.changeable(sc.ws) {
		s.setFlash(w, "info", i18n.T(ctx, "billing.change.no_subscription"))
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	}
	v := page.ChangePlanView{URL: workspaceURL(sc.ws.Slug), CanManage: app.CanManageBilling(sc.m.Role) == nil}
	for _, p := range s.Config.Plans.Sold() {
		for _, iv := range []app.Interval{app.Monthly, app.Annual} {
			pr := p.Price(iv)
			if pr.ID == "" {
				continue
			}
			o := page.PlanOption{PriceID: pr.ID, Name: planName(ctx, p), Interval: i18n.T(ctx, "billing.change.billed."+string(iv)),
				Price:     s.priceLabel(ctx, p, iv),
				Scheduled: pr.ID == sc.ws.ScheduledPriceID}
			// A price the catalog does not list counts as Pro monthly
			// (Catalog.ChangeKind): that one is then the current plan.
			switch s.Config.Plans.ChangeKind(sc.ws.PriceID, pr.ID) {
			case app.ChangeNone:
				o.Current = true
			case app.ChangeUpgrade:
				o.Note = i18n.T(ctx, "billing.change.upgrade_note")
			case app.ChangeDowngrade:
				o.Note = i18n.T(ctx, "billing.change.downgrade_note")
			}
			v.Options = append(v.Options, o)
		}
	}
	s.render(w, r, http.StatusOK, page.ChangePlan(s.workspacePage(w, r, i18n.T(ctx, "billing.change.title"), "billing"), v))
}

// handleChangePlanPreview handles "GET /w/{slug}/billing/plan/preview?price=…"
// (owners): what the change costs, from Stripe, and the Confirm button.
func (s *Server) handleChangePlanPreview(w http.ResponseWriter, r *http.Request) {
	sc, ctx := scopeFrom(r.Context()), r.Context()
	p := app.PrincipalFromContext(ctx)
	if !s.changeable(sc.ws) {
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	}
	price := r.URL.Query().Get("price")
	pv, err := s.Stripe.PreviewChange(r.Context(), sc.ws, price, s.Now())
	switch {
	case errors.Is(err, billing.ErrNoChange):
		s.setFlash(w, "info", i18n.T(ctx, "billing.change.not_offered"))
		redirect(w, r, wsPath(sc.ws, "/billing/plan"))
		return
	case err != nil:
		s.stripeFailed(w, r, err)
		return
	}
	plan, _, _ := s.Config.Plans.ForPrice(price)
	tz := p.User.TimeZone
	v := page.ChangePreviewView{URL: workspaceURL(sc.ws.Slug), PriceID: price, Target: s.priceName(ctx, price),
		ProrationDate: strconv.FormatInt(pv.ProrationDate.Unix(), 10), Downgrade: pv.Kind == app.ChangeDowngrade,
		Summary: s.previewSentence(ctx, pv, tz)}
	v.Title = i18n.T(ctx, "billing.preview.upgrade_title", "Target", v.Target)
	v.Question = i18n.T(ctx, "billing.preview.upgrade_question", "Target", v.Target)
	if v.Downgrade {
		v.Title = i18n.T(ctx, "billing.preview.move_title", "Target", v.Target)
		v.Question = i18n.T(ctx, "billing.preview.move_question", "Target", v.Target)
		cur := s.Config.Plans.Effective(sc.ws)
		if cur.Key != plan.Key {
			v.Note = i18n.T(ctx, "billing.preview.stays_note", "Plan", planName(ctx, cur))
		}
	}
	s.render(w, r, http.StatusOK, page.ChangePreview(s.workspacePage(w, r, v.Title, "billing"), v))
}

// previewSentence words a preview: "You pay $18.40 today for the rest of
// this period; from 5 Jan 2027 you pay $240.00 a year."
func (s *Server) previewSentence(ctx context.Context, pv *billing.Preview, tz string) string {
	args := []any{"Today", i18n.Money(ctx, pv.DueToday, pv.Currency), "Date", s.formatDate(ctx, pv.RecurringFrom, tz),
		"Then", perInterval(ctx, i18n.Money(ctx, pv.Recurring, pv.Currency), pv.Interval)}
	switch {
	case pv.Kind == app.ChangeDowngrade:
		return i18n.T(ctx, "billing.preview.downgrade", args...)
	case pv.DueToday <= 0:
		return i18n.T(ctx, "billing.preview.credit", args...)
	case pv.NewPeriod:
		// The interval changed: a new period starts now.
		return i18n.T(ctx, "billing.preview.new_period", args...)
	}
	return i18n.T(ctx, "billing.preview.rest_of_period", args...)
}

// perInterval words an amount billed every interval: "$240.00 a year".
func perInterval(ctx context.Context, amount string, iv app.Interval) string {
	if iv == app.Annual {
		return i18n.T(ctx, "billing.price.per_year", "Amount", amount)
	}
	return i18n.T(ctx, "billing.price.per_month", "Amount", amount)
}

// handleChangePlanConfirm handles "POST /w/{slug}/billing/plan" (owners):
// the confirmed change of a preview (price, proration_date, confirm=yes).
func (s *Server) handleChangePlanConfirm(w http.ResponseWriter, r *http.Request) {
	sc, ctx := scopeFrom(r.Context()), r.Context()
	if !s.changeable(sc.ws) {
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	}
	price := r.PostFormValue("price")
	if r.PostFormValue("confirm") != "yes" {
		redirect(w, r, wsPath(sc.ws, "/billing/plan/preview?price=")+url.QueryEscape(price))
		return
	}
	sec, err := strconv.ParseInt(r.PostFormValue("proration_date"), 10, 64)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, i18n.T(ctx, "billing.change.incomplete"))
		return
	}
	ch, err := s.Stripe.ChangePlan(r.Context(), sc.ws, price, time.Unix(sec, 0), s.Now())
	switch {
	case errors.Is(err, billing.ErrPreviewExpired):
		s.setFlash(w, "info", i18n.T(ctx, "billing.preview.expired"))
		redirect(w, r, wsPath(sc.ws, "/billing/plan/preview?price=")+url.QueryEscape(price))
		return
	case errors.Is(err, billing.ErrNoChange):
		s.setFlash(w, "info", i18n.T(ctx, "billing.change.already"))
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	case err != nil:
		s.stripeFailed(w, r, err)
		return
	}
	plan, iv, _ := s.Config.Plans.ForPrice(price)
	md := map[string]any{"price_id": price, "plan": plan.Name, "interval": string(iv), "proration_date": sec,
		"kind": map[app.PlanChange]string{app.ChangeUpgrade: "upgrade", app.ChangeDowngrade: "downgrade"}[ch.Kind]}
	if err := s.Billing.RecordBillingRequest(r.Context(), sc.scope(), app.ActionPlanChangeRequested, md); err != nil {
		s.Error(w, r, err)
		return
	}
	if ch.Kind == app.ChangeDowngrade {
		if err := s.Billing.SchedulePlanChange(r.Context(), sc.scope(), app.ScheduledChange{PriceID: price, At: ch.EffectiveAt,
			ScheduleID: ch.ScheduleID, Plan: plan.Name, Interval: iv}); err != nil {
			s.Error(w, r, err)
			return
		}
		s.setFlash(w, "success", i18n.T(ctx, "billing.change.scheduled_flash", "Target", s.priceName(ctx, price),
			"Date", s.formatDate(ctx, ch.EffectiveAt, app.PrincipalFromContext(ctx).User.TimeZone)))
	} else {
		s.setFlash(w, "success", i18n.T(ctx, "billing.change.moving_flash", "Target", s.priceName(ctx, price))+changeFlash(ctx))
	}
	redirect(w, r, wsPath(sc.ws, "/billing"))
}

// requestedAt reads the instant the owner was shown a cancel, resume or
// keep form (requested_at), the key that makes a double submit one
// request. A form older than billing.PreviewWindow is refused.
func (s *Server) requestedAt(r *http.Request) (time.Time, bool) {
	sec, err := strconv.ParseInt(r.PostFormValue("requested_at"), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	at, now := time.Unix(sec, 0), s.Now()
	return at, now.Sub(at) <= billing.PreviewWindow && at.Sub(now) <= time.Minute
}

// handleCancelConfirm handles "GET /w/{slug}/billing/cancel" (owners):
// the cancellation's confirmation as a page, for a link or a reload.
func (s *Server) handleCancelConfirm(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if !s.changeable(sc.ws) || sc.ws.CancelAtPeriodEnd {
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	}
	c := s.confirmCancel(r.Context(), sc.ws, strconv.FormatInt(s.Now().Unix(), 10), app.PrincipalFromContext(r.Context()).User.TimeZone)
	s.render(w, r, http.StatusOK, page.ConfirmPage(s.workspacePage(w, r, "", "billing"), c))
}

// formRequestedAt is the requested_at a confirmation page posts back: the
// form's own, or now for a form that had none.
func (s *Server) formRequestedAt(r *http.Request) string {
	if v := r.PostFormValue("requested_at"); v != "" {
		return v
	}
	return strconv.FormatInt(s.Now().Unix(), 10)
}

// handleCancelSubscription handles "POST /w/{slug}/billing/cancel"
// (owners, confirmed): the subscription ends when the paid period does.
func (s *Server) handleCancelSubscription(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if !s.changeable(sc.ws) {
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	}
	tz := app.PrincipalFromContext(r.Context()).User.TimeZone
	c := s.confirmCancel(r.Context(), sc.ws, s.formRequestedAt(r), tz)
	if !s.confirmed(w, r, func() layout.Page { return s.workspacePage(w, r, "", "billing") }, c) {
		return
	}
	s.cancelOrResume(w, r, true)
}

// handleResumeSubscription handles "POST /w/{slug}/billing/resume"
// (owners): a cancelling subscription renews again.
func (s *Server) handleResumeSubscription(w http.ResponseWriter, r *http.Request) {
	if !s.changeable(scopeFrom(r.Context()).ws) {
		redirect(w, r, wsPath(scopeFrom(r.Context()).ws, "/billing"))
		return
	}
	s.cancelOrResume(w, r, false)
}

// cancelOrResume asks Stripe to set cancel_at_period_end and audits the
// request; the workspace changes when the webhook reports it.
func (s *Server) cancelOrResume(w http.ResponseWriter, r *http.Request, cancel bool) {
	sc := scopeFrom(r.Context())
	at, ok := s.requestedAt(r)
	if !ok {
		s.setFlash(w, "info", i18n.T(r.Context(), "billing.stale_page"))
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	}
	if err := s.Stripe.CancelAtPeriodEnd(r.Context(), sc.ws, cancel, at); err != nil {
		s.stripeFailed(w, r, err)
		return
	}
	action, msg := app.ActionResumed, i18n.T(r.Context(), "billing.resume.flash")
	if cancel {
		action, msg = app.ActionCancelRequested, i18n.T(r.Context(), "billing.cancel.flash")
		if sc.ws.ScheduledPriceID != "" {
			// The waiting downgrade's schedule was released first.
			if err := s.Billing.WithdrawPlanChange(r.Context(), sc.scope()); err != nil {
				s.Error(w, r, err)
				return
			}
		}
	}
	if err := s.Billing.RecordBillingRequest(r.Context(), sc.scope(), action, map[string]any{"requested_at": at.Unix()}); err != nil {
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", msg+changeFlash(r.Context()))
	redirect(w, r, wsPath(sc.ws, "/billing"))
}

// handleKeepPlan handles "POST /w/{slug}/billing/plan/keep" (owners,
// confirmed): the waiting downgrade is withdrawn and the plan stays.
func (s *Server) handleKeepPlan(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if !s.changeable(sc.ws) || sc.ws.ScheduledPriceID == "" {
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	}
	ctx := r.Context()
	c := page.ConfirmKeepPlan(ctx, workspaceURL(sc.ws.Slug), s.planNamed(ctx, sc.ws.Plan), s.priceName(ctx, sc.ws.ScheduledPriceID),
		s.formRequestedAt(r))
	if !s.confirmed(w, r, func() layout.Page { return s.workspacePage(w, r, "", "billing") }, c) {
		return
	}
	at, ok := s.requestedAt(r)
	if !ok {
		s.setFlash(w, "info", i18n.T(ctx, "billing.stale_page"))
		redirect(w, r, wsPath(sc.ws, "/billing"))
		return
	}
	if err := s.Stripe.KeepPlan(r.Context(), sc.ws, at); err != nil {
		s.stripeFailed(w, r, err)
		return
	}
	if err := s.Billing.WithdrawPlanChange(r.Context(), sc.scope()); err != nil {
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(ctx, "billing.keep.flash", "Plan", s.planNamed(ctx, sc.ws.Plan)))
	redirect(w, r, wsPath(sc.ws, "/billing"))
}
