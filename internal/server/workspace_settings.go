package server

import (
	"net/http"
	"strings"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/page"
)

// settingsView returns the settings page of the request's workspace as it
// is saved: its name and slug, what the viewer's role may change, the
// two-factor card and, while a subscription is live, why the workspace
// cannot be deleted yet. Every path that shows the page starts from it;
// an error path sets its error and the input it keeps on the value.
func (s *Server) settingsView(r *http.Request) page.WorkspaceSettingsView {
	sc := scopeFrom(r.Context())
	v := page.WorkspaceSettingsView{URL: workspaceURL(sc.ws.Slug), Name: sc.ws.Name, NewSlug: sc.ws.Slug,
		CanEdit: app.CanEditWorkspace(sc.m.Role) == nil, CanDelete: app.CanDeleteWorkspace(sc.m.Role) == nil, CanSSO: app.CanManageSSO(sc.m.Role) == nil,
		TwoFactor: s.twoFactorPolicy(r)}
	s.explainStillPaying(r, sc.ws, &v)
	return v
}

// renderSettings renders the settings page v with status.
func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, status int, v page.WorkspaceSettingsView) {
	s.render(w, r, status, page.WorkspaceSettings(s.workspacePage(w, r, i18n.T(r.Context(), "workspaces.settings.nav_title"), "settings"), v))
}

// handleWorkspaceSettings handles "GET /w/{slug}/settings" (owners and admins).
func (s *Server) handleWorkspaceSettings(w http.ResponseWriter, r *http.Request) {
	s.renderSettings(w, r, http.StatusOK, s.settingsView(r))
}

// explainStillPaying fills in why a workspace with a live subscription
// cannot be deleted yet, and the way to cancel it: the Customer Portal
// when billing is on, the demo downgrade on a development server without
// it, else the billing page.
func (s *Server) explainStillPaying(r *http.Request, ws *app.Workspace, v *page.WorkspaceSettingsView) {
	if !ws.HasLiveSubscription() {
		return
	}
	ctx := r.Context()
	switch {
	case s.Stripe != nil && ws.StripeCustomerID != "":
		v.StillPaying = i18n.T(ctx, "workspaces.delete.still_paying")
		v.CancelAction, v.CancelLabel = wsPath(ws, "/billing/portal"), i18n.T(ctx, "workspaces.delete.cancel_portal")
	case s.Stripe == nil && s.Config.IsDevelopment():
		v.StillPaying = i18n.T(ctx, "workspaces.delete.still_paying_demo")
		v.CancelAction, v.CancelLabel = wsPath(ws, "/billing/demo-downgrade"), i18n.T(ctx, "workspaces.delete.cancel_demo")
	default:
		v.StillPaying = i18n.T(ctx, "workspaces.delete.still_paying_operator")
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
			v := s.settingsView(r)
			v.Name, v.NewSlug, v.Errors = formEcho(name), formEcho(slug), fieldErrors(r.Context(), err, "slug", "name")
			s.renderSettings(w, r, http.StatusUnprocessableEntity, v)
			return
		}
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "workspaces.settings.saved"))
	redirect(w, r, wsPath(ws, "/settings"))
}

// handleWorkspaceDelete handles "POST /w/{slug}/delete" (owners), which
// needs the workspace's name typed to confirm.
func (s *Server) handleWorkspaceDelete(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if strings.TrimSpace(r.PostFormValue("confirm")) != sc.ws.Name {
		v := s.settingsView(r)
		v.ConfirmValue = formEcho(r.PostFormValue("confirm"))
		v.Errors = page.FieldErrors{"confirm": i18n.T(r.Context(), "workspaces.delete.mismatch", "Name", sc.ws.Name)}
		s.renderSettings(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if err := s.Workspaces.DeleteWorkspace(r.Context(), sc.scope()); err != nil {
		if app.ErrorCode(err) == app.ECONFLICT {
			// Still paying: the settings page says how to cancel first.
			v := s.settingsView(r)
			if v.StillPaying == "" {
				v.StillPaying = i18n.ErrorText(r.Context(), err)
			}
			s.renderSettings(w, r, http.StatusConflict, v)
			return
		}
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "workspaces.deleted", "Name", sc.ws.Name))
	redirect(w, r, "/settings/workspaces")
}
