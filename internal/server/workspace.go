package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/layout"
	"atrium/web/page"
)

const workspaceKey ctxKey = 2

// workspaceScope is the workspace of a /w/{slug} request and the signed-in
// user's membership of it.
type workspaceScope struct {
	ws *app.Workspace
	m  *app.Membership
}

// scope is the app.Scope the request acts in: the signed-in member in
// the workspace. Every workspace-scoped service call takes it.
func (sc *workspaceScope) scope() app.Scope {
	return app.Scope{WorkspaceID: sc.ws.ID, UserID: sc.m.UserID}
}

func scopeFrom(ctx context.Context) *workspaceScope {
	sc, _ := ctx.Value(workspaceKey).(*workspaceScope)
	return sc
}

// loadWorkspace resolves {slug} together with the user's membership in one
// query. Anyone who is not a member gets the same 404 as for a workspace
// that does not exist, so existence does not leak.
func (s *Server) loadWorkspace(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := app.PrincipalFromContext(r.Context())
		slug := chi.URLParam(r, "slug")
		if !app.ValidSlugSyntax(slug) {
			// No workspace can have this address: answer without a query.
			s.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		ws, m, err := s.Workspaces.FindWorkspaceForMember(r.Context(), slug, p.User.ID)
		if err != nil {
			if app.ErrorCode(err) == app.ENOTFOUND {
				s.errorPage(w, r, http.StatusNotFound, "")
				return
			}
			s.Error(w, r, err)
			return
		}
		if !s.workspaceGate(w, r, ws) { // views and suspensions (admin_viewas.go)
			return
		}
		ctx := context.WithValue(r.Context(), workspaceKey, &workspaceScope{ws: ws, m: m})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requireRole answers 403 to members whose role is below min.
func (s *Server) requireRole(min app.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !scopeFrom(r.Context()).m.Role.AtLeast(min) {
				s.errorPage(w, r, http.StatusForbidden, i18n.T(r.Context(), "workspaces.forbidden_role"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// workspacePage returns the layout of a page inside the current workspace:
// the tabs the user's role may open, and the user's workspaces for the
// header's switcher (one indexed query). It remembers the workspace as the
// one /app opens next time.
func (s *Server) workspacePage(w http.ResponseWriter, r *http.Request, title, section string) layout.Page {
	p := s.page(w, r, title)
	sc := scopeFrom(r.Context())
	p.Section = section
	p.Workspace = &layout.WorkspaceNav{Name: sc.ws.Name, Slug: sc.ws.Slug, URL: workspaceURL(sc.ws.Slug), Role: roleName(r.Context(), sc.m.Role),
		CanManage: sc.m.Role.AtLeast(app.RoleAdmin), CanSeeAudit: app.CanSeeAudit(sc.m.Role) == nil,
		CanSeeBilling: app.CanSeeBilling(sc.m.Role) == nil && s.Config.BillingOffered()}
	if pr := app.PrincipalFromContext(r.Context()); pr != nil {
		// The switcher is navigation: without the list it still names the
		// current workspace, so a failed read does not fail the page.
		if list, err := s.Workspaces.FindSwitcher(r.Context(), pr.User.ID); err == nil {
			for _, uw := range list {
				p.Workspace.Switch = append(p.Workspace.Switch, layout.WorkspaceLink{Name: uw.Name, Slug: uw.Slug, URL: workspaceURL(uw.Slug),
					Role: roleName(r.Context(), uw.Role), Current: uw.ID == sc.ws.ID})
			}
		} else if !clientGone(r) {
			s.Logger.WarnContext(r.Context(), "workspace switcher", "request_id", requestIDFrom(r.Context()), "error", err.Error())
		}
	}
	p.BillingBanner = s.billingBanner(r, sc.ws, sc.m.Role, section)
	s.rememberWorkspace(w, r, sc.ws.Slug)
	return p
}

// lastWorkspaceCookie names the cookie holding the slug of the workspace
// last opened in this browser; /app opens it when the user still belongs
// to it. Under HTTPS it carries the __Host- prefix (Server.lastWSCookie).
const lastWorkspaceCookie = "atrium_last_ws"

// rememberWorkspace sets the last-workspace cookie when it names another
// workspace.
func (s *Server) rememberWorkspace(w http.ResponseWriter, r *http.Request, slug string) {
	if c, err := r.Cookie(s.lastWSCookie); err == nil && c.Value == slug {
		return
	}
	setCookie(w, &http.Cookie{Name: s.lastWSCookie, Value: slug, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// handleAppHome handles "GET /app": it opens the workspace last used in
// this browser, else the user's first; with none, the user's pending
// invitations come first, then the form to create a workspace.
func (s *Server) handleAppHome(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	list, err := s.Workspaces.FindWorkspacesByUser(r.Context(), p.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if len(list) == 0 {
		redirect(w, r, "/workspaces/new")
		return
	}
	if c, err := r.Cookie(s.lastWSCookie); err == nil {
		for _, uw := range list {
			if uw.Slug == c.Value {
				redirect(w, r, string(workspaceURL(uw.Slug)))
				return
			}
		}
	}
	redirect(w, r, string(workspaceURL(list[0].Slug)))
}

// handleWorkspaceNew handles "GET /workspaces/new".
func (s *Server) handleWorkspaceNew(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	list, err := s.Workspaces.FindWorkspacesByUser(r.Context(), p.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	waiting, err := s.waitingInvites(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	pg := s.page(w, r, i18n.T(r.Context(), "workspaces.new.title"))
	pg.Section = "workspaces"
	s.render(w, r, http.StatusOK, page.WorkspaceNew(pg, page.WorkspaceNewView{FirstWorkspace: len(list) == 0, Waiting: waiting}))
}

// waitingInvites lists the pending, unexpired invitations addressed to the
// signed-in user, for the banner that offers to accept them.
func (s *Server) waitingInvites(r *http.Request) ([]page.WaitingInvite, error) {
	p := app.PrincipalFromContext(r.Context())
	invites, err := s.Invites.FindInvitesForEmail(r.Context(), p.User.Email)
	if err != nil {
		return nil, err
	}
	out := make([]page.WaitingInvite, 0, len(invites))
	for _, inv := range invites {
		base := "/invitations/" + strconv.FormatInt(inv.ID, 10)
		out = append(out, page.WaitingInvite{Workspace: inv.WorkspaceName, Role: roleName(r.Context(), inv.Role), Inviter: inv.InvitedBy(),
			AcceptURL: base + "/accept", DeclineURL: base + "/decline"})
	}
	return out, nil
}

// handleWorkspaceCreate handles "POST /workspaces".
func (s *Server) handleWorkspaceCreate(w http.ResponseWriter, r *http.Request) {
	name, slug := r.PostFormValue("name"), r.PostFormValue("slug")
	ws, err := s.Workspaces.CreateWorkspace(r.Context(), name, slug)
	if err != nil {
		if code := app.ErrorCode(err); code == app.EINVALID || code == app.ECONFLICT {
			v := page.WorkspaceNewView{Name: formEcho(name), Slug: formEcho(slug), Errors: fieldErrors(r.Context(), err, "slug", "name")}
			pg := s.page(w, r, i18n.T(r.Context(), "workspaces.new.title"))
			pg.Section = "workspaces"
			s.render(w, r, http.StatusUnprocessableEntity, page.WorkspaceNew(pg, v))
			return
		}
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "workspaces.created", "Name", ws.Name))
	redirect(w, r, wsPath(ws, ""))
}

// formEcho returns what a person typed, trimmed, for a form shown again
// with an error; bytes that are not UTF-8 become U+FFFD.
func formEcho(s string) string { return strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD") }

// handleDashboard handles "GET /w/{slug}".
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	stats, err := s.Workspaces.FindWorkspaceStats(r.Context(), sc.scope())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// Recent activity is part of the audit log, which only owners and admins read.
	var entries []*app.AuditEntry
	if app.CanSeeAudit(sc.m.Role) == nil {
		if entries, err = s.Audit.FindAuditEntries(r.Context(), app.AuditFilter{Scope: sc.scope(), Limit: 10}); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	limit := s.plans().Seats(sc.ws)
	v := page.DashboardView{
		Name: sc.ws.Name, URL: workspaceURL(sc.ws.Slug), Plan: s.planLabel(sc.ws.Plan),
		Status: subscriptionStatus(r.Context(), sc.ws.SubscriptionStatus), StatusActive: sc.ws.SubscriptionStatus == app.SubActive,
		Members: stats.Members, SeatsUsed: stats.SeatsUsed(), SeatLimit: seatLimit(r.Context(), limit),
		PendingInvites: stats.PendingInvites, CanSeeAudit: app.CanSeeAudit(sc.m.Role) == nil,
		CanInvite: app.CanManageInvites(sc.m.Role) == nil,
	}
	for _, e := range entries {
		v.Recent = append(v.Recent, s.auditRow(r.Context(), e, sc.ws, p.User.TimeZone))
	}
	s.render(w, r, http.StatusOK, page.Dashboard(s.workspacePage(w, r, sc.ws.Name, "dashboard"), v))
}

// plans returns the seat rule of the plan catalog.
func (s *Server) plans() app.PlanLimits { return s.Config.Plans.Limits() }

// planLabel names a plan as the catalog does ("Pro").
func (s *Server) planLabel(plan string) string {
	if p, ok := s.Config.Plans.Plan(plan); ok {
		return p.Name
	}
	return s.Config.Plans.Free().Name
}

func statusLabel(status string) string {
	if status == "" {
		return ""
	}
	return strings.ToUpper(status[:1]) + strings.ReplaceAll(status[1:], "_", " ")
}

// handleWorkspaces handles "GET /settings/workspaces": the user's
// workspaces, invitations waiting for them, and a create form.
func (s *Server) handleWorkspaces(w http.ResponseWriter, r *http.Request) {
	s.renderWorkspaces(w, r, http.StatusOK, page.WorkspaceNewView{})
}

func (s *Server) renderWorkspaces(w http.ResponseWriter, r *http.Request, status int, form page.WorkspaceNewView) {
	p := app.PrincipalFromContext(r.Context())
	list, err := s.Workspaces.FindWorkspacesByUser(r.Context(), p.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	invites, err := s.Invites.FindInvitesForEmail(r.Context(), p.User.Email)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := page.WorkspacesView{New: form}
	for _, uw := range list {
		v.Workspaces = append(v.Workspaces, page.WorkspaceRow{Name: uw.Name, URL: workspaceURL(uw.Slug), Role: roleName(r.Context(), uw.Role), Members: uw.Members})
		v.CanTestEmail = v.CanTestEmail || uw.Role == app.RoleOwner
	}
	for _, inv := range invites {
		v.Invites = append(v.Invites, page.PendingInviteRow{Workspace: inv.WorkspaceName, Role: roleName(r.Context(), inv.Role),
			Inviter: inv.InvitedBy(), AcceptURL: "/invitations/" + strconv.FormatInt(inv.ID, 10), Expires: s.formatTime(r.Context(), inv.ExpiresAt, p.User.TimeZone)})
	}
	pg := s.page(w, r, i18n.T(r.Context(), "workspaces.title"))
	pg.Section = "workspaces"
	s.render(w, r, status, page.Workspaces(pg, v))
}
