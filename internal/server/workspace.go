package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"atrium/internal/app"
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
		ctx := context.WithValue(r.Context(), workspaceKey, &workspaceScope{ws: ws, m: m})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requireRole answers 403 to members whose role is below min.
func (s *Server) requireRole(min app.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !scopeFrom(r.Context()).m.Role.AtLeast(min) {
				s.errorPage(w, r, http.StatusForbidden, "Your role in this workspace does not allow this.")
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
	p.Workspace = &layout.WorkspaceNav{Name: sc.ws.Name, Slug: sc.ws.Slug, Role: sc.m.Role.Label(),
		CanManage: sc.m.Role.AtLeast(app.RoleAdmin), CanSeeAudit: app.CanSeeAudit(sc.m.Role) == nil,
		CanSeeBilling: app.CanSeeBilling(sc.m.Role) == nil && s.Config.BillingOffered()}
	if pr := app.PrincipalFromContext(r.Context()); pr != nil {
		// The switcher is navigation: without the list it still names the
		// current workspace, so a failed read does not fail the page.
		if list, err := s.Workspaces.FindWorkspacesByUser(r.Context(), pr.User.ID); err == nil {
			for _, uw := range list {
				p.Workspace.Switch = append(p.Workspace.Switch, layout.WorkspaceLink{Name: uw.Name, Slug: uw.Slug,
					Role: uw.Role.Label(), Current: uw.ID == sc.ws.ID})
			}
		} else if !clientGone(r) {
			s.Logger.WarnContext(r.Context(), "workspace switcher", "request_id", requestIDFrom(r.Context()), "error", err.Error())
		}
	}
	s.rememberWorkspace(w, r, sc.ws.Slug)
	return p
}

// wsPath returns a path inside the current workspace.
func wsPath(ws *app.Workspace, rest string) string { return "/w/" + ws.Slug + rest }

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
				redirect(w, r, "/w/"+uw.Slug)
				return
			}
		}
	}
	redirect(w, r, "/w/"+list[0].Slug)
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
	pg := s.page(w, r, "Create a workspace")
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
		out = append(out, page.WaitingInvite{Workspace: inv.WorkspaceName, Role: inv.Role.Label(), Inviter: inv.InvitedBy,
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
			v := page.WorkspaceNewView{Name: formEcho(name), Slug: formEcho(slug)}
			if app.ErrorField(err) == "name" {
				v.NameError = app.ErrorMessage(err)
			} else {
				v.SlugError = app.ErrorMessage(err)
			}
			pg := s.page(w, r, "Create a workspace")
			pg.Section = "workspaces"
			s.render(w, r, http.StatusUnprocessableEntity, page.WorkspaceNew(pg, v))
			return
		}
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", "Workspace “"+ws.Name+"” created. Invite your team from Members.")
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
		Name: sc.ws.Name, Slug: sc.ws.Slug, Plan: planLabel(sc.ws.Plan), Status: statusLabel(sc.ws.SubscriptionStatus),
		Members: stats.Members, SeatsUsed: stats.SeatsUsed(), SeatLimit: seatLabel(limit),
		PendingInvites: stats.PendingInvites, CanSeeAudit: app.CanSeeAudit(sc.m.Role) == nil,
		CanInvite: app.CanManageInvites(sc.m.Role) == nil,
	}
	for _, e := range entries {
		v.Recent = append(v.Recent, s.auditRow(e, sc.ws, p.User.TimeZone))
	}
	s.render(w, r, http.StatusOK, page.Dashboard(s.workspacePage(w, r, sc.ws.Name, "dashboard"), v))
}

// plans returns the seat limits from configuration.
func (s *Server) plans() app.PlanLimits {
	return app.PlanLimits{FreeSeats: s.Config.FreePlanSeats, ProSeats: s.Config.ProPlanSeats, NoUpgrade: !s.Config.BillingOffered()}
}

func planLabel(plan string) string {
	if plan == app.PlanPro {
		return "Pro"
	}
	return "Free"
}

func statusLabel(status string) string {
	if status == "" {
		return ""
	}
	return strings.ToUpper(status[:1]) + strings.ReplaceAll(status[1:], "_", " ")
}

func seatLabel(limit int) string {
	if limit == 0 {
		return "Unlimited"
	}
	return strconv.Itoa(limit)
}

// handleWorkspaceSettings handles "GET /w/{slug}/settings" (owners and admins).
func (s *Server) handleWorkspaceSettings(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	v := page.WorkspaceSettingsView{Slug: sc.ws.Slug, Name: sc.ws.Name, NewSlug: sc.ws.Slug,
		CanEdit: app.CanEditWorkspace(sc.m.Role) == nil, CanDelete: app.CanDeleteWorkspace(sc.m.Role) == nil,
		TwoFactor: s.twoFactorPolicy(r)}
	s.explainStillPaying(sc.ws, &v)
	s.render(w, r, http.StatusOK, page.WorkspaceSettings(s.workspacePage(w, r, "Settings", "settings"), v))
}

// explainStillPaying fills in why a workspace with a live subscription
// cannot be deleted yet, and the way to cancel it: the Customer Portal
// when billing is on, the demo downgrade on a development server without
// it, else the billing page.
func (s *Server) explainStillPaying(ws *app.Workspace, v *page.WorkspaceSettingsView) {
	if app.PlanFor(ws.SubscriptionStatus) != app.PlanPro || ws.StripeSubscriptionID == "" {
		return
	}
	switch {
	case s.Stripe != nil && ws.StripeCustomerID != "":
		v.StillPaying = "This workspace still pays for Pro. Cancel the subscription in Stripe’s Customer Portal first; once Stripe confirms, you can delete it here."
		v.CancelAction, v.CancelLabel = wsPath(ws, "/billing/portal"), "Cancel in the Customer Portal"
	case s.Stripe == nil && s.Config.IsDevelopment():
		v.StillPaying = "This workspace has a subscription on record. Billing is off on this development server, so the demo downgrade ends it; then you can delete the workspace."
		v.CancelAction, v.CancelLabel = wsPath(ws, "/billing/demo-downgrade"), "Downgrade to Free (demo)"
	default:
		v.StillPaying = "This workspace has a subscription on record. It must be cancelled before the workspace can be deleted; billing is not configured on this server, so ask an operator."
	}
}

// handleWorkspaceUpdate handles "POST /w/{slug}/settings" (owners): rename
// and change the slug. Old links answer 404 afterwards.
func (s *Server) handleWorkspaceUpdate(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	name, slug := r.PostFormValue("name"), r.PostFormValue("slug")
	ws, err := s.Workspaces.UpdateWorkspace(r.Context(), sc.scope(), app.WorkspaceUpdate{Name: &name, Slug: &slug})
	if err != nil {
		if code := app.ErrorCode(err); code == app.EINVALID || code == app.ECONFLICT {
			v := page.WorkspaceSettingsView{Slug: sc.ws.Slug, Name: formEcho(name), NewSlug: formEcho(slug), CanEdit: true,
				CanDelete: app.CanDeleteWorkspace(sc.m.Role) == nil, TwoFactor: s.twoFactorPolicy(r)}
			if app.ErrorField(err) == "name" {
				v.NameError = app.ErrorMessage(err)
			} else {
				v.SlugError = app.ErrorMessage(err)
			}
			s.render(w, r, http.StatusUnprocessableEntity, page.WorkspaceSettings(s.workspacePage(w, r, "Settings", "settings"), v))
			return
		}
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", "Workspace settings saved.")
	redirect(w, r, wsPath(ws, "/settings"))
}

// handleWorkspaceDelete handles "POST /w/{slug}/delete" (owners), which
// needs the workspace's name typed to confirm.
func (s *Server) handleWorkspaceDelete(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if strings.TrimSpace(r.PostFormValue("confirm")) != sc.ws.Name {
		v := page.WorkspaceSettingsView{Slug: sc.ws.Slug, Name: sc.ws.Name, NewSlug: sc.ws.Slug, CanEdit: true, CanDelete: true,
			ConfirmError: "That doesn’t match. Type the workspace's name, " + sc.ws.Name + ", exactly to confirm.",
			ConfirmValue: formEcho(r.PostFormValue("confirm")), TwoFactor: s.twoFactorPolicy(r)}
		s.render(w, r, http.StatusUnprocessableEntity, page.WorkspaceSettings(s.workspacePage(w, r, "Settings", "settings"), v))
		return
	}
	if err := s.Workspaces.DeleteWorkspace(r.Context(), sc.scope()); err != nil {
		if app.ErrorCode(err) == app.ECONFLICT {
			// Still paying: the settings page says how to cancel first.
			v := page.WorkspaceSettingsView{Slug: sc.ws.Slug, Name: sc.ws.Name, NewSlug: sc.ws.Slug, CanEdit: true, CanDelete: true,
				TwoFactor: s.twoFactorPolicy(r)}
			s.explainStillPaying(sc.ws, &v)
			if v.StillPaying == "" {
				v.StillPaying = app.ErrorMessage(err)
			}
			s.render(w, r, http.StatusConflict, page.WorkspaceSettings(s.workspacePage(w, r, "Settings", "settings"), v))
			return
		}
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", "Workspace “"+sc.ws.Name+"” was deleted.")
	redirect(w, r, "/settings/workspaces")
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
		v.Workspaces = append(v.Workspaces, page.WorkspaceRow{Name: uw.Name, Slug: uw.Slug, Role: uw.Role.Label(), Members: uw.Members})
		v.CanTestEmail = v.CanTestEmail || uw.Role == app.RoleOwner
	}
	for _, inv := range invites {
		v.Invites = append(v.Invites, page.PendingInviteRow{Workspace: inv.WorkspaceName, Role: inv.Role.Label(),
			Inviter: inv.InvitedBy, AcceptURL: "/invitations/" + strconv.FormatInt(inv.ID, 10), Expires: s.formatTime(inv.ExpiresAt, p.User.TimeZone)})
	}
	pg := s.page(w, r, "Workspaces")
	pg.Section = "workspaces"
	s.render(w, r, status, page.Workspaces(pg, v))
}
