package server

import (
	"context"
	"net/http"
	"strings"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/component"
	"atrium/web/page"
)

// handleAccountShow handles "GET /settings/account".
func (s *Server) handleAccountShow(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	s.renderAccount(w, r, http.StatusOK, page.AccountView{Name: p.User.Name, TimeZone: p.User.TimeZone, Language: p.User.Language})
}

// renderAccount renders the account page around v's profile form values.
func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, v page.AccountView) {
	ctx := r.Context()
	p := app.PrincipalFromContext(ctx)
	sessions, err := s.Auth.FindSessions(ctx, p.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v.Email, v.TimeZones = p.User.Email, timeZoneChoices(p.User.TimeZone)
	for _, c := range s.catalog.Choices() {
		v.Languages = append(v.Languages, component.Option{Value: c.Tag, Label: c.Name, Lang: c.Tag})
	}
	v.Sessions = make([]page.SessionRow, 0, len(sessions))
	for _, ss := range sessions {
		v.Sessions = append(v.Sessions, page.SessionRow{
			ID:       ss.ID,
			Current:  ss.ID == p.Session.ID,
			Device:   describeDevice(ctx, ss.UserAgent),
			IP:       ss.IP,
			Created:  s.formatTime(r.Context(), ss.CreatedAt, p.User.TimeZone),
			LastSeen: s.formatTime(r.Context(), ss.LastSeenAt, p.User.TimeZone),
		})
	}
	keys, err := s.APIKeys.CountAPIKeysCreatedBy(r.Context(), app.Scope{}, p.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if keys > 0 {
		v.DeleteKeysNote = i18n.N(ctx, "account.delete.keys_note", keys)
	}
	blocking, err := s.Users.FindSoleOwnerships(r.Context(), p.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if len(blocking) > 0 {
		v.DeleteBlocked = soleOwnerMessage(ctx, blocking)
		for _, ws := range blocking {
			v.Blocking = append(v.Blocking, page.BlockingWorkspace{Name: ws.Name, MembersURL: workspaceURL(ws.Slug).Page("members"),
				SettingsURL: workspaceURL(ws.Slug).Page("settings")})
		}
	}
	if v.TwoFactor, err = s.twoFactorView(r, &p.User); err != nil {
		s.Error(w, r, err)
		return
	}
	if v.Identities, err = s.identitiesView(r, &p.User); err != nil {
		s.Error(w, r, err)
		return
	}
	pg := s.page(w, r, i18n.T(ctx, "account.title"))
	pg.Section = "account"
	s.render(w, r, status, page.Account(pg, v))
}

// soleOwnerMessage says why an account that is the last owner of these
// workspaces cannot be deleted yet, as app.SoleOwnerMessage does in
// English.
func soleOwnerMessage(ctx context.Context, ws []app.WorkspaceRef) string {
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.Name
	}
	if len(ws) == 1 {
		return i18n.T(ctx, "account.delete.blocked_one", "Workspace", names[0])
	}
	return i18n.T(ctx, "account.delete.blocked_many", "Workspaces", strings.Join(names[:len(names)-1], ", "), "Last", names[len(names)-1])
}

// handleAccountUpdate handles "POST /settings/account": display name, time
// zone and language. A form without a language field (an older page) keeps
// the saved one.
func (s *Server) handleAccountUpdate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := page.AccountView{Name: r.PostFormValue("name"), TimeZone: strings.TrimSpace(r.PostFormValue("time_zone")),
		Language: strings.TrimSpace(r.PostFormValue("language"))}
	_, sentLanguage := r.PostForm["language"]
	if !sentLanguage {
		v.Language = app.PrincipalFromContext(ctx).User.Language
	}
	name, err := app.ValidateUserName(v.Name)
	if err != nil {
		v.NameError = i18n.ErrorText(ctx, err)
	} else {
		v.Name = name
	}
	tz := v.TimeZone
	if !validTimeZone(tz) {
		v.TimeZoneError = i18n.T(ctx, "account.profile.time_zone_invalid")
	}
	if v.Language != "" && !s.catalog.Shipped(v.Language) {
		v.LanguageError = i18n.T(ctx, "account.profile.language_invalid")
	}
	if v.NameError != "" || v.TimeZoneError != "" || v.LanguageError != "" {
		v.Name, v.TimeZone, v.Language = formEcho(v.Name), formEcho(v.TimeZone), formEcho(v.Language)
		s.renderAccount(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	u, err := s.Users.UpdateUser(ctx, app.UserUpdate{Name: &name, TimeZone: &tz, Language: &v.Language})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// The message is in the language just chosen, like the page after it.
	r = s.withLocale(w, r, u.Language, u.TimeZone)
	s.setFlash(w, "success", i18n.T(r.Context(), "account.profile.saved"))
	redirect(w, r, "/settings/account")
}

// handleAccountDelete handles "POST /settings/account/delete", confirmed by
// typing the account's email address. Refused while the user is the last
// owner of a workspace.
func (s *Server) handleAccountDelete(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	if !strings.EqualFold(strings.TrimSpace(r.PostFormValue("confirm")), p.User.Email) {
		s.renderAccount(w, r, http.StatusUnprocessableEntity, page.AccountView{Name: p.User.Name, TimeZone: p.User.TimeZone,
			DeleteError: i18n.T(r.Context(), "account.delete.mismatch"), DeleteConfirm: formEcho(r.PostFormValue("confirm"))})
		return
	}
	if err := s.Users.DeleteUser(r.Context()); err != nil {
		if app.ErrorCode(err) == app.ECONFLICT {
			s.renderAccount(w, r, http.StatusConflict, page.AccountView{Name: p.User.Name, TimeZone: p.User.TimeZone,
				DeleteError: i18n.ErrorText(r.Context(), err)})
			return
		}
		s.Error(w, r, err)
		return
	}
	s.clearSessionCookie(w)
	s.setFlash(w, "info", i18n.T(r.Context(), "account.delete.done"))
	redirect(w, r, "/login")
}

// handleSessionRevoke handles "POST /settings/account/sessions/{id}/revoke".
// Revoking the current session signs this browser out.
func (s *Server) handleSessionRevoke(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	id, ok := idParam(r, "id")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		// Ask only about a session of this user's, named by its device.
		sessions, err := s.Auth.FindSessions(r.Context(), p.User.ID)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		for _, ss := range sessions {
			if ss.ID == id {
				s.confirmed(w, r, s.inAccount(w, r), page.ConfirmRevokeSession(r.Context(), id, describeDevice(r.Context(), ss.UserAgent), id == p.Session.ID))
				return
			}
		}
		s.setFlash(w, "info", i18n.T(r.Context(), "account.sessions.already_signed_out"))
		redirect(w, r, "/settings/account")
		return
	}
	if id == p.Session.ID {
		s.handleLogout(w, r)
		return
	}
	if err := s.Auth.RevokeSession(r.Context(), p.User.ID, id); err != nil {
		if app.ErrorCode(err) == app.ENOTFOUND {
			s.setFlash(w, "info", i18n.ErrorText(r.Context(), err))
			redirect(w, r, "/settings/account")
			return
		}
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "account.sessions.signed_out"))
	redirect(w, r, "/settings/account")
}

// handleSessionRevokeOthers handles "POST /settings/account/sessions/revoke-others".
func (s *Server) handleSessionRevokeOthers(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	if !s.confirmed(w, r, s.inAccount(w, r), page.ConfirmRevokeOthers(r.Context())) {
		return
	}
	n, err := s.Auth.RevokeOtherSessions(r.Context(), p.User.ID, p.Session.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	msg := i18n.T(r.Context(), "account.sessions.others_none")
	if n > 0 {
		msg = i18n.N(r.Context(), "account.sessions.others_signed_out", n)
	}
	s.setFlash(w, "success", msg)
	redirect(w, r, "/settings/account")
}
