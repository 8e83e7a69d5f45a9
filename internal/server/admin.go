package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/layout"
	"atrium/web/page"
)

// The operator console (/admin): staff only, everyone else gets the same
// 404 as an unknown address. Its actions are in admin_actions.go, "view
// as" in admin_viewas.go.

// adminRateLimit is how many console requests a staff member may make per
// minute, of any method.
const adminRateLimit = 300

// requireStaff answers 404 to anyone but staff (signed out, signed in, an
// API key, a network outside ADMIN_ALLOWED_NETWORKS, or a staff member
// viewing as a user, whose principal is the user), and the two-factor page
// to staff whose session did not use a second factor.
func (s *Server) requireStaff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := app.PrincipalFromContext(r.Context())
		if p == nil || !s.adminNetworkAllowed(r) {
			s.handleNotFound(w, r)
			return
		}
		if _, err := s.Admin.FindStaff(r.Context(), p.User.ID); err != nil {
			if app.ErrorCode(err) == app.ENOTFOUND {
				s.handleNotFound(w, r)
				return
			}
			s.Error(w, r, err)
			return
		}
		if !p.MeetsTwoFactorPolicy() {
			s.render(w, r, http.StatusForbidden, page.AdminTwoFactor(s.page(w, r, ""),
				page.AdminTwoFactorView{Enrolled: p.User.TwoFactor, AccountURL: "/settings/account"}))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// adminNetworkAllowed reports whether the client is in
// ADMIN_ALLOWED_NETWORKS (any client when it is empty).
func (s *Server) adminNetworkAllowed(r *http.Request) bool {
	nets := s.Config.AdminAllowedNetworks
	if len(nets) == 0 {
		return true
	}
	ip := s.Limiter.ClientIP(r)
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// adminRateLimited counts every console request against the staff
// member's own budget, through the rate limiter's store.
func (s *Server) adminRateLimited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := "admin:" + strconv.FormatInt(app.UserIDFromContext(r.Context()), 10)
		lc, err := s.Limiter.admin.Get(r.Context(), key)
		if !s.limitAllows(w, r, lc, err) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// adminPage returns the layout data of a console page.
func (s *Server) adminPage(w http.ResponseWriter, r *http.Request, title, section string) layout.Page {
	p := s.page(w, r, title)
	p.Section = section
	p.NoIndex = true
	return p
}

// staffTZ is the staff member's time zone, for the console's times.
func staffTZ(r *http.Request) string {
	if p := app.PrincipalFromContext(r.Context()); p != nil {
		return p.User.TimeZone
	}
	return "UTC"
}

// handleAdminHome handles "GET /admin": the user search is the console's
// first page.
func (s *Server) handleAdminHome(w http.ResponseWriter, r *http.Request) {
	redirect(w, r, "/admin/users")
}

// handleAdminUsers handles "GET /admin/users?q=": users whose email or
// name starts with q.
func (s *Server) handleAdminUsers(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("q")
	v := page.AdminUsersView{Query: raw}
	q, err := app.CleanAdminQuery(raw)
	status := http.StatusOK
	if err != nil {
		v.Error, status = i18n.ErrorText(r.Context(), err), http.StatusUnprocessableEntity
	} else {
		users, err := s.Admin.SearchUsers(r.Context(), q, app.AdminPageSize)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		tz := staffTZ(r)
		for _, u := range users {
			last := s.formatDate(r.Context(), u.LastSignInAt, tz)
			if last == "" {
				last = "—"
			}
			v.Users = append(v.Users, page.AdminUserRow{URL: adminUserURL(u.ID), Email: u.Email, Name: u.Name,
				Created: s.formatDate(r.Context(), u.CreatedAt, tz), LastSignIn: last, Workspaces: i18n.Number(r.Context(), int64(u.Workspaces)),
				TwoFactor: u.TwoFactor, Suspended: u.Suspended(), Staff: u.Staff})
		}
	}
	s.render(w, r, status, page.AdminUsers(s.adminPage(w, r, i18n.T(r.Context(), "admin.users.title"), "admin-users"), v))
}

// handleAdminWorkspaces handles "GET /admin/workspaces?q=".
func (s *Server) handleAdminWorkspaces(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("q")
	v := page.AdminWorkspacesView{Query: raw}
	q, err := app.CleanAdminQuery(raw)
	status := http.StatusOK
	if err != nil {
		v.Error, status = i18n.ErrorText(r.Context(), err), http.StatusUnprocessableEntity
	} else {
		list, err := s.Admin.SearchWorkspaces(r.Context(), q, app.AdminPageSize)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		tz := staffTZ(r)
		for _, ws := range list {
			v.Workspaces = append(v.Workspaces, page.AdminWorkspaceRow{URL: adminWorkspaceURL(ws.ID), Slug: ws.Slug, Name: ws.Name,
				Plan: s.planLabel(ws.Plan), Status: ws.Status, Seats: i18n.Number(r.Context(), int64(ws.Members)), Owner: ws.OwnerEmail,
				Created: s.formatDate(r.Context(), ws.CreatedAt, tz), Suspended: ws.Suspended()})
		}
	}
	s.render(w, r, status, page.AdminWorkspaces(s.adminPage(w, r, i18n.T(r.Context(), "admin.workspaces.title"), "admin-workspaces"), v))
}

func adminUserURL(id int64) string      { return "/admin/users/" + strconv.FormatInt(id, 10) }
func adminWorkspaceURL(id int64) string { return "/admin/workspaces/" + strconv.FormatInt(id, 10) }

// pathID reads a positive id route parameter; 0 when it is not one.
func pathID(r *http.Request, name string) int64 {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// yesNo words a flag.
func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// handleAdminUser handles "GET /admin/users/{userID}".
func (s *Server) handleAdminUser(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "userID")
	d, err := s.Admin.FindAdminUser(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ctx, tz, u := r.Context(), staffTZ(r), d.User
	last := s.formatTime(ctx, u.LastSignInAt, tz)
	if last == "" {
		last = i18n.T(ctx, "admin.user.never_signed_in")
	}
	status := i18n.T(ctx, "admin.status.active")
	if u.Suspended() {
		status = i18n.T(ctx, "admin.user.suspended_on", "Date", s.formatDate(ctx, u.SuspendedAt, tz), "Reason", u.SuspendedReason)
	}
	v := page.AdminUserView{Heading: u.Email, Facts: []page.AdminFact{
		{Label: i18n.T(ctx, "admin.user.email"), Value: u.Email, TestID: "admin-user-email", Data: true},
		{Label: i18n.T(ctx, "admin.user.name"), Value: yesNo(u.Name != "", u.Name, "—"), Data: true},
		{Label: i18n.T(ctx, "admin.created"), Value: s.formatTime(ctx, u.CreatedAt, tz)},
		{Label: i18n.T(ctx, "admin.user.last_sign_in"), Value: last},
		{Label: i18n.T(ctx, "admin.user.two_factor"), Value: i18n.T(ctx, yesNo(u.TwoFactor, "admin.user.two_factor_on", "admin.user.two_factor_off"))},
		{Label: i18n.T(ctx, "admin.user.sessions"), Value: i18n.Number(ctx, int64(d.Sessions))},
		{Label: i18n.T(ctx, "admin.status.label"), Value: status, TestID: "admin-user-status"},
	}}
	if u.Staff {
		v.Facts = append(v.Facts, page.AdminFact{Label: i18n.T(ctx, "admin.user.staff"),
			Value: i18n.T(ctx, "admin.user.staff_granted", "Command", "atrium staff grant")})
	}
	base := adminUserURL(u.ID)
	if !u.Staff && !u.Suspended() {
		v.Actions = append(v.Actions, page.AdminAction{Label: i18n.T(ctx, "admin.user.action.view_as"), URL: base + "/view-as", TestID: "admin-view-as"})
	}
	if !u.Suspended() {
		v.Actions = append(v.Actions, page.AdminAction{Label: i18n.T(ctx, "admin.user.action.send_link"), URL: base + "/send-link", TestID: "admin-send-link"})
	}
	v.Actions = append(v.Actions, page.AdminAction{Label: i18n.T(ctx, "admin.user.action.end_sessions"), URL: base + "/end-sessions",
		TestID: "admin-end-sessions", Danger: true})
	switch {
	case u.Suspended():
		v.Actions = append(v.Actions, page.AdminAction{Label: i18n.T(ctx, "admin.action.unsuspend"), URL: base + "/unsuspend", TestID: "admin-unsuspend"})
	case !u.Staff:
		v.Actions = append(v.Actions, page.AdminAction{Label: i18n.T(ctx, "admin.action.suspend"), URL: base + "/suspend", TestID: "admin-suspend", Danger: true})
	}
	for _, uw := range d.Workspaces {
		v.Workspaces = append(v.Workspaces, page.AdminLinkRow{Label: uw.Name, URL: adminWorkspaceURL(uw.ID),
			Detail: i18n.T(ctx, "admin.user.workspace_detail", "Address", "/w/"+uw.Slug, "Role", roleName(ctx, uw.Role))})
	}
	v.Audit = s.adminAuditRows(r.Context(), d.Audit, tz)
	s.render(w, r, http.StatusOK, page.AdminUser(s.adminPage(w, r, u.Email, "admin-users"), v))
}

// adminAuditRows formats audit entries for a console page.
func (s *Server) adminAuditRows(ctx context.Context, entries []*app.AuditEntry, tz string) []page.AdminAuditRow {
	out := make([]page.AdminAuditRow, 0, len(entries))
	for _, e := range entries {
		where := i18n.T(ctx, "admin.audit.system")
		if e.WorkspaceID != 0 {
			where = i18n.T(ctx, "admin.audit.workspace", "ID", strconv.FormatInt(e.WorkspaceID, 10))
		}
		out = append(out, page.AdminAuditRow{When: s.formatTime(ctx, e.CreatedAt, tz), Summary: auditSummary(ctx, e), Where: where})
	}
	return out
}

// stripeDashboard returns the Stripe dashboard's address of a customer
// ("customers") or subscription ("subscriptions") in the key's mode.
func (s *Server) stripeDashboard(kind, id string) string {
	base := "https://dashboard.stripe.com/"
	if !s.Config.Stripe.LiveMode {
		base += "test/"
	}
	return base + kind + "/" + url.PathEscape(id)
}

// handleAdminWorkspace handles "GET /admin/workspaces/{workspaceID}".
func (s *Server) handleAdminWorkspace(w http.ResponseWriter, r *http.Request) {
	id := pathID(r, "workspaceID")
	d, err := s.Admin.FindAdminWorkspace(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ctx, tz, ws := r.Context(), staffTZ(r), d.Workspace
	status := i18n.T(ctx, "admin.status.active")
	if ws.Suspended() {
		status = i18n.T(ctx, "admin.workspace.suspended_on", "Date", s.formatDate(ctx, ws.SuspendedAt, tz), "Reason", ws.SuspendedReason)
	}
	v := page.AdminWorkspaceView{Heading: ws.Name, Facts: []page.AdminFact{
		{Label: i18n.T(ctx, "admin.workspace.address"), Value: "/w/" + ws.Slug, TestID: "admin-workspace-slug", Data: true},
		{Label: i18n.T(ctx, "admin.created"), Value: s.formatTime(ctx, ws.CreatedAt, tz)},
		{Label: i18n.T(ctx, "admin.workspace.owner"), Value: yesNo(ws.OwnerEmail != "", ws.OwnerEmail, "—"), Data: true},
		{Label: i18n.T(ctx, "admin.workspace.seats_used"), Value: i18n.Number(ctx, int64(ws.Members))},
		{Label: i18n.T(ctx, "admin.workspace.plan"), Value: s.planLabel(ws.Plan), Data: true},
		{Label: i18n.T(ctx, "admin.workspace.subscription_status"), Value: yesNo(ws.Status != "", ws.Status, i18n.T(ctx, "admin.workspace.no_subscription")),
			Data: ws.Status != ""},
		{Label: i18n.T(ctx, "admin.status.label"), Value: status, TestID: "admin-workspace-status"},
	}}
	if !ws.CurrentPeriodEnd.IsZero() {
		end := s.formatDate(ctx, ws.CurrentPeriodEnd, tz)
		if ws.CancelAtPeriodEnd {
			end = i18n.T(ctx, "admin.workspace.period_end_cancels", "Date", end)
		}
		v.Facts = append(v.Facts, page.AdminFact{Label: i18n.T(ctx, "admin.workspace.period_end"), Value: end})
	}
	if ws.StripeCustomerID != "" {
		v.Facts = append(v.Facts, page.AdminFact{Label: i18n.T(ctx, "admin.workspace.stripe_customer"), Value: ws.StripeCustomerID,
			Link: s.stripeDashboard("customers", ws.StripeCustomerID), TestID: "admin-stripe-customer", Data: true})
	}
	if ws.StripeSubscription != "" {
		v.Facts = append(v.Facts, page.AdminFact{Label: i18n.T(ctx, "admin.workspace.stripe_subscription"), Value: ws.StripeSubscription,
			Link: s.stripeDashboard("subscriptions", ws.StripeSubscription), TestID: "admin-stripe-subscription", Data: true})
	}
	base := adminWorkspaceURL(ws.ID)
	if ws.Suspended() {
		v.Actions = append(v.Actions, page.AdminAction{Label: i18n.T(ctx, "admin.action.unsuspend"), URL: base + "/unsuspend", TestID: "admin-unsuspend"})
	} else {
		v.Actions = append(v.Actions, page.AdminAction{Label: i18n.T(ctx, "admin.action.suspend"), URL: base + "/suspend", TestID: "admin-suspend", Danger: true})
	}
	if s.Stripe != nil {
		v.Actions = append(v.Actions, page.AdminAction{Label: i18n.T(ctx, "admin.workspace.action.billing_sync"), URL: base + "/billing-sync",
			TestID: "admin-billing-sync"})
	}
	for _, m := range d.Members {
		v.Members = append(v.Members, page.AdminLinkRow{Label: m.Email, URL: adminUserURL(m.UserID),
			Detail: i18n.T(ctx, "admin.workspace.member_detail", "Role", roleName(ctx, m.Role), "Date", s.formatDate(ctx, m.Since, tz))})
	}
	for _, inv := range d.Invites {
		v.Invites = append(v.Invites, page.AdminLinkRow{Label: inv.Email,
			Detail: i18n.T(ctx, "admin.workspace.invite_detail", "Role", roleName(ctx, inv.Role), "Sent", s.formatDate(ctx, inv.CreatedAt, tz),
				"Expires", s.formatDate(ctx, inv.ExpiresAt, tz))})
	}
	v.Audit = s.adminAuditRows(r.Context(), d.Audit, tz)
	s.render(w, r, http.StatusOK, page.AdminWorkspace(s.adminPage(w, r, ws.Name, "admin-workspaces"), v))
}
