package server

import (
	"net/http"
	"time"

	"atrium/internal/app"
	"atrium/web/page"
)

// The plan catalog's surfaces: what a workspace's plan allows, read from
// s.Config.Plans (app.Catalog) by every check, and the refusal a page
// gives for a feature the plan lacks. The pricing page is pricing.go.

// planWith returns the name of the first plan of the catalog that
// includes f ("Pro"), or "".
func (s *Server) planWith(f app.Feature) string {
	for _, p := range s.Config.Plans.Plans {
		if p.Includes(f) {
			return p.Name
		}
	}
	return ""
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
func (s *Server) refusePlan(w http.ResponseWriter, r *http.Request, ws *app.Workspace, f app.Feature, what string) {
	v := page.ErrorView{Status: http.StatusForbidden, Title: "Not part of your plan",
		Message: what + " isn’t part of this workspace’s plan."}
	if url := s.upgradeURL(ws); url != "" {
		if name := s.planWith(f); name != "" {
			v.Message = what + " is part of the " + name + " plan. Upgrade the workspace on its billing page to use it."
		}
		v.ActionURL, v.ActionLabel = url, "See plans and upgrade"
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

// auditPlan returns what ws's plan allows of its audit log, for the page.
func (s *Server) auditPlan(ws *app.Workspace) page.AuditPlanView {
	v := page.AuditPlanView{HistoryDays: s.Config.Plans.Effective(ws).AuditDays, BillingURL: s.upgradeURL(ws)}
	if !s.Config.Plans.CanUse(ws, app.FeatureAuditExport) {
		v.ExportPlan = s.planWith(app.FeatureAuditExport)
		if v.ExportPlan == "" {
			v.ExportPlan = "another plan"
		}
	}
	return v
}

// planInForce names ws's plan in force with its billing interval
// ("Business, billed yearly") and lists what it includes.
func (s *Server) planInForce(ws *app.Workspace) page.BillingPlanView {
	p := s.Config.Plans.Effective(ws)
	v := page.BillingPlanView{Name: p.Name,
		Includes: []string{seatsText(p.Seats), apiRateText(p.APIRate), historyText(p.AuditDays)}}
	if p.Paid() {
		if _, iv, ok := s.Config.Plans.ForPrice(ws.PriceID); ok {
			v.Name += map[app.Interval]string{app.Monthly: ", billed monthly", app.Annual: ", billed yearly"}[iv]
		}
	}
	for _, f := range app.Features {
		if p.Includes(f) {
			v.Includes = append(v.Includes, app.FeatureName(f))
		}
	}
	return v
}
