package server

import (
	"net/http"
	"strconv"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/layout"
	"atrium/web/page"
)

// requireTwoFactorPolicy keeps members without a second factor out of a
// workspace that requires one: every route it wraps answers 403 with the
// walkthrough that sets one up (or leaves), inside the workspace's
// navigation. Both flags come with the session and the membership, so it
// adds no query.
func (s *Server) requireTwoFactorPolicy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := scopeFrom(r.Context())
		p := app.PrincipalFromContext(r.Context())
		if !sc.ws.RequireTwoFactor || p.MeetsTwoFactorPolicyOf(sc.ws.ID) {
			next.ServeHTTP(w, r)
			return
		}
		if p.User.TwoFactor {
			// A factor, but this session signed in with a link alone
			// (before it was set up): it confirms it first.
			redirect(w, r, reauthURL(wsPath(sc.ws, "/")))
			return
		}
		v := page.TwoFactorRequiredView{Workspace: sc.ws.Name, URL: workspaceURL(sc.ws.Slug),
			SetupAppURL: "/settings/account/two-factor/app?next=" + wsPath(sc.ws, "/"),
			PasskeyURL:  "/settings/account#two-factor", Owner: sc.m.Role == app.RoleOwner}
		s.render(w, r, http.StatusForbidden, page.TwoFactorRequired(s.workspacePage(w, r, "", ""), v))
	})
}

// handleWorkspaceTwoFactor handles "POST /w/{slug}/settings/two-factor"
// (owners): required=on requires two-factor sign-in of every member, after
// a confirmation that counts who it locks out; required=off makes it
// optional. A refusal (no second factor of the owner's own) shows the
// settings page again with the reason beside the toggle.
func (s *Server) handleWorkspaceTwoFactor(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	var required bool
	switch r.PostFormValue("required") {
	case "on":
		required = true
	case "off":
	default:
		s.Error(w, r, app.FieldErrorf("required", "Choose whether two-factor sign-in is required."))
		return
	}
	frame := func() layout.Page { return s.workspacePage(w, r, "", "settings") }
	if !required && sc.ws.RequireTwoFactor && !s.confirmed(w, r, frame, page.ConfirmOptionalTwoFactor(r.Context(), workspaceURL(sc.ws.Slug), sc.ws.Name)) {
		return
	}
	// Without a factor of their own the store refuses the owner anyway:
	// no point asking them to confirm first.
	if required && !sc.ws.RequireTwoFactor && app.PrincipalFromContext(r.Context()).User.TwoFactor &&
		r.PostFormValue("confirm") != "yes" {
		keys, err := s.WorkspaceTwoFactor.FindKeysWithoutTwoFactor(r.Context(), sc.scope())
		if err != nil {
			s.Error(w, r, err)
			return
		}
		s.confirmed(w, r, frame, page.ConfirmRequireTwoFactor(r.Context(), workspaceURL(sc.ws.Slug), sc.ws.Name, s.membersWithoutTwoFactor(r), keyChoices(r, keys)))
		return
	}
	revoke, err := revokeKeyIDs(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var revoked int
	if required && len(revoke) > 0 {
		revoked, err = s.WorkspaceTwoFactor.RequireTwoFactor(r.Context(), sc.scope(), revoke)
	} else {
		err = s.WorkspaceTwoFactor.SetTwoFactorRequired(r.Context(), sc.scope(), required)
	}
	if err != nil {
		if app.ErrorCode(err) == app.EINVALID {
			v := s.settingsView(r)
			v.TwoFactor.Error = i18n.ErrorText(r.Context(), err)
			s.renderSettings(w, r, http.StatusUnprocessableEntity, v)
			return
		}
		if app.ErrorCode(err) == app.ENOTFOUND && app.ErrorField(err) == "revoke_key" {
			// The list of keys changed since the confirmation was shown.
			s.errorPage(w, r, http.StatusNotFound, i18n.ErrorText(r.Context(), err)+" "+i18n.T(r.Context(), "workspaces.two_factor.reload"))
			return
		}
		s.Error(w, r, err)
		return
	}
	msg := i18n.T(r.Context(), "workspaces.two_factor.optional_flash")
	if required {
		msg = i18n.T(r.Context(), "workspaces.two_factor.required_flash")
		if revoked > 0 {
			msg += " " + i18n.N(r.Context(), "workspaces.two_factor.keys_revoked", revoked)
		}
	}
	s.setFlash(w, "success", msg)
	redirect(w, r, wsPath(sc.ws, "/settings"))
}

// twoFactorPolicy returns the settings page's two-factor card for the
// viewer; owners looking at an optional policy also get the count of
// members it would lock out.
func (s *Server) twoFactorPolicy(r *http.Request) page.TwoFactorPolicy {
	sc := scopeFrom(r.Context())
	v := page.TwoFactorPolicy{Required: sc.ws.RequireTwoFactor,
		CanChange: app.CanSetTwoFactorPolicy(sc.m.Role, false, false) == nil,
		OwnFactor: app.PrincipalFromContext(r.Context()).User.TwoFactor, Without: -1}
	if v.CanChange && !v.Required && v.OwnFactor {
		v.Without = s.membersWithoutTwoFactor(r)
		if keys, err := s.WorkspaceTwoFactor.FindKeysWithoutTwoFactor(r.Context(), sc.scope()); err == nil {
			v.KeysAtRisk = len(keys)
		} else if !clientGone(r) {
			// The form then confirms in a dialog; the server's page still
			// lists the keys when the dialog's answer arrives unconfirmed.
			s.Logger.WarnContext(r.Context(), "find keys without two-factor", "request_id", requestIDFrom(r.Context()), "error", err.Error())
		}
	}
	return v
}

// keyChoices words API keys for the confirmation that offers to revoke
// them.
func keyChoices(r *http.Request, keys []*app.KeyWithoutTwoFactor) []page.KeyChoice {
	out := make([]page.KeyChoice, 0, len(keys))
	for _, k := range keys {
		out = append(out, page.KeyChoice{ID: k.ID, Label: i18n.T(r.Context(), "workspaces.two_factor.key_choice",
			"Name", k.Name, "Prefix", k.Prefix, "Creator", k.Creator())})
	}
	return out
}

// maxRevokeKeys bounds the keys one confirmation may revoke.
const maxRevokeKeys = 500

// revokeKeyIDs reads the "revoke_key" ids of the confirmation.
func revokeKeyIDs(r *http.Request) ([]int64, error) {
	raw := r.PostForm["revoke_key"]
	if len(raw) > maxRevokeKeys {
		return nil, app.Errorf(app.EINVALID, "Too many API keys in one request.")
	}
	ids := make([]int64, 0, len(raw))
	for _, v := range raw {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, app.FieldErrorf("revoke_key", "That isn’t an API key of this workspace. Reload the settings and try again.")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// membersWithoutTwoFactor counts the workspace's members who have no
// second factor, or returns -1 when they cannot be counted (the
// confirmation then words it without the number).
func (s *Server) membersWithoutTwoFactor(r *http.Request) int {
	n, err := s.WorkspaceTwoFactor.CountMembersWithoutTwoFactor(r.Context(), scopeFrom(r.Context()).scope())
	if err != nil {
		if !clientGone(r) {
			s.Logger.WarnContext(r.Context(), "count members without two-factor", "request_id", requestIDFrom(r.Context()), "error", err.Error())
		}
		return -1
	}
	return n
}
