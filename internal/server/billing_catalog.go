package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/page"
)

// The plan catalog's surfaces: what a workspace's plan allows, read from
// s.Config.Plans (app.Catalog) by every check, and the refusal a page
// gives for a feature the plan lacks. The pricing page is pricing.go.

// planWith returns the name of the first plan of the catalog that
// includes f ("Pro") in the reader's language, or "".
func (s *Server) planWith(ctx context.Context, f app.Feature) string {
	for _, p := range s.Config.Plans.Plans {
		if p.Includes(f) {
			return planName(ctx, p)
		}
	}
	return ""
}

// planName names a catalog plan in the reader's language (the message
// billing.plan.<key>.name); a plan the catalogs have no name for, one a
// fork added, keeps the catalog's.
func planName(ctx context.Context, p app.Plan) string {
	return catalogText(ctx, "billing.plan."+p.Key+".name", p.Name)
}

// planSummary is a plan's sentence on the pricing page, in the reader's
// language (billing.plan.<key>.summary).
func planSummary(ctx context.Context, p app.Plan) string {
	return catalogText(ctx, "billing.plan."+p.Key+".summary", p.Summary)
}

// featureName words a feature as the pricing and billing pages list it
// (billing.feature.<feature>).
func featureName(ctx context.Context, f app.Feature) string {
	return catalogText(ctx, "billing.feature."+string(f), app.FeatureName(f))
}

// catalogText returns the message key, or fallback (the plan catalog's
// English) when no catalog has the key.
func catalogText(ctx context.Context, key, fallback string) string {
	if t := i18n.T(ctx, key); t != key {
		return t
	}
	return fallback
}

// planNamed names the plan stored as key ("pro"), Free for a key the
// catalog does not list.
func (s *Server) planNamed(ctx context.Context, key string) string {
	p, ok := s.Config.Plans.Plan(key)
	if !ok {
		p = s.Config.Plans.Free()
	}
	return planName(ctx, p)
}

// planSeats words a plan's seat cap: "Up to 3 members", "Unlimited
// members" for 0.
func planSeats(ctx context.Context, limit int) string {
	if limit == 0 {
		return i18n.T(ctx, "billing.plan.seats_unlimited")
	}
	return i18n.N(ctx, "billing.plan.seats", limit)
}

// planAPIRate words a plan's API rate: "600 API requests a minute per
// key". The number is written without grouping, as the docs write it.
func planAPIRate(ctx context.Context, perMinute int) string {
	return i18n.T(ctx, "billing.plan.api_rate", "Rate", strconv.Itoa(perMinute))
}

// planHistory words how far back a plan shows the audit log.
func planHistory(ctx context.Context, days int) string {
	switch {
	case days == 0:
		return i18n.T(ctx, "billing.plan.history_all")
	case days%365 == 0:
		return i18n.N(ctx, "billing.plan.history_years", days/365)
	}
	return i18n.N(ctx, "billing.plan.history_days", days)
}

// upgradeURL returns ws's billing page, where a plan is bought; "" when the
// server sells none (production without billing), so no refusal suggests
// an upgrade.
func (s *Server) upgradeURL(ws *app.Workspace) string {
	if !s.Config.BillingOffered() {
		return ""
	}
	return wsPath(ws, "/billing")
}

// refusePlan answers 403 for something ws's plan does not include: what
// it is, the plan that includes it, and a link to the billing page.
//
// what is already in the reader's language ("Exporting the audit log").
func (s *Server) refusePlan(w http.ResponseWriter, r *http.Request, ws *app.Workspace, f app.Feature, what string) {
	ctx := r.Context()
	v := page.ErrorView{Status: http.StatusForbidden, Title: i18n.T(ctx, "billing.refuse.title"),
		Message: i18n.T(ctx, "billing.refuse.not_in_plan", "What", what)}
	if url := s.upgradeURL(ws); url != "" {
		if name := s.planWith(ctx, f); name != "" {
			v.Message = i18n.T(ctx, "billing.refuse.in_plan", "What", what, "Plan", name)
		}
		v.ActionURL, v.ActionLabel = url, i18n.T(ctx, "billing.refuse.action")
	}
	s.render(w, r, http.StatusForbidden, page.Error(s.workspacePage(w, r, v.Title, ""), v))
}

// auditSince returns the oldest time ws's plan shows of its audit log
// (Plan.AuditDays back), or zero when it shows all of it. The bound is
// rounded up to the hour so that it stays the same for an hour: the audit
// page's first-page cache keys on it, and it is one more condition on the
// (workspace_id, created_at, id) index the page reads anyway.
func (s *Server) auditSince(ws *app.Workspace) time.Time {
	days := s.Config.Plans.Effective(ws).AuditDays
	if days <= 0 {
		return time.Time{}
	}
	return s.Now().UTC().AddDate(0, 0, -days).Truncate(time.Hour).Add(time.Hour)
}

// limitAuditHistory narrows f to what ws's plan shows.
func (s *Server) limitAuditHistory(f *app.AuditFilter, ws *app.Workspace) {
	if since := s.auditSince(ws); since.After(f.From) {
		f.From = since
	}
}

// auditPlan returns what ws's plan allows of its audit log, for the page;
// the plan that exports is named in the reader's language.
func (s *Server) auditPlan(ctx context.Context, ws *app.Workspace) page.AuditPlanView {
	v := page.AuditPlanView{HistoryDays: s.Config.Plans.Effective(ws).AuditDays, BillingURL: s.upgradeURL(ws)}
	if !s.Config.Plans.CanUse(ws, app.FeatureAuditExport) {
		v.ExportPlan = s.planWith(ctx, app.FeatureAuditExport)
		if v.ExportPlan == "" {
			v.ExportPlan = i18n.T(ctx, "billing.plan.another")
		}
	}
	return v
}

// planInForce names ws's plan in force with its billing interval
// ("Business, billed yearly") and lists what it includes.
func (s *Server) planInForce(ctx context.Context, ws *app.Workspace) page.BillingPlanView {
	p := s.Config.Plans.Effective(ws)
	v := page.BillingPlanView{Name: planName(ctx, p),
		Includes: []string{planSeats(ctx, p.Seats), planAPIRate(ctx, p.APIRate), planHistory(ctx, p.AuditDays)}}
	if p.Paid() {
		if _, iv, ok := s.Config.Plans.ForPrice(ws.PriceID); ok {
			v.Name = billedName(ctx, v.Name, iv)
		}
	}
	for _, f := range app.Features {
		if p.Includes(f) {
			v.Includes = append(v.Includes, featureName(ctx, f))
		}
	}
	return v
}

// billedName words a plan at an interval: "Pro, billed monthly".
func billedName(ctx context.Context, name string, iv app.Interval) string {
	if iv == app.Annual {
		return i18n.T(ctx, "billing.plan.billed_yearly", "Plan", name)
	}
	return i18n.T(ctx, "billing.plan.billed_monthly", "Plan", name)
}
