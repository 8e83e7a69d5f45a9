package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/internal/mail"
	"atrium/web/layout"
)

// "View as": a staff member sees the app as a user, read-only unless they
// start a write session, for at most app.ImpersonationTTL. The browser
// holds the view's token in its own cookie beside the staff member's
// session; viewAs, one middleware in front of every browser route, swaps
// the principal and refuses what a view may not do. The user's own
// sessions are never read or touched.

// viewAsCookieName is the cookie of a view's token.
const viewAsCookieName = "atrium_view_as"

type viewAsKey struct{}

// viewAsFrom returns the request's view, also on the console's pages where
// the principal stays the staff member.
func viewAsFrom(ctx context.Context) *app.Impersonation {
	imp, _ := ctx.Value(viewAsKey{}).(*app.Impersonation)
	return imp
}

// viewAsOff lists the paths a view never opens, whatever its mode: the
// user's sign-in factors, sessions, email and account (all under
// /settings/account), signing in or out (it would end or replace the staff
// member's session), a workspace's API keys, and Stripe's Checkout and
// portal.
func viewAsOff(path string) bool {
	switch {
	case path == "/logout", path == "/login", strings.HasPrefix(path, "/login/"), strings.HasPrefix(path, "/auth/"),
		path == "/settings/account", strings.HasPrefix(path, "/settings/account/"):
		return true
	}
	if rest, ok := strings.CutPrefix(path, "/w/"); ok {
		if _, sub, ok := strings.Cut(rest, "/"); ok {
			sub = "/" + strings.TrimSuffix(sub, "/")
			return sub == "/settings/api-keys" || strings.HasPrefix(sub, "/settings/api-keys/") ||
				sub == "/billing/checkout" || sub == "/billing/portal"
		}
	}
	return false
}

// isAdminPath reports whether path is the console's.
func isAdminPath(path string) bool { return path == "/admin" || strings.HasPrefix(path, "/admin/") }

// changes reports whether the request's method changes state.
func changes(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// viewAs applies a staff member's view as a user: outside the console the
// request runs as the user, after the one check of what a view may do
// (read-only unless a write session, never the paths of viewAsOff); on
// the console it stays the staff member's, who may only stop the view or
// start its write session. An expired view is ended here.
func (s *Server) viewAs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(s.viewAsCookie())
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		p := app.PrincipalFromContext(r.Context())
		if p == nil || !app.ValidTokenSyntax(c.Value) {
			s.clearViewAsCookie(w)
			next.ServeHTTP(w, r)
			return
		}
		imp, err := s.Admin.FindImpersonation(r.Context(), app.HashToken(c.Value), p.Session.ID)
		switch {
		case app.ErrorCode(err) == app.ENOTFOUND:
			s.clearViewAsCookie(w)
			next.ServeHTTP(w, r)
			return
		case err != nil:
			s.Error(w, r, err)
			return
		case imp.Expired(s.Now()):
			if err := s.Admin.StopImpersonation(r.Context(), imp.ID, app.EndExpired, s.viewAsMailer(r.Context())); err != nil {
				s.Error(w, r, err)
				return
			}
			s.clearViewAsCookie(w)
			s.setFlash(w, "info", i18n.T(r.Context(), "admin.view_as.expired", "Email", imp.Target.Email))
			redirect(w, r, adminUserURL(imp.Target.ID))
			return
		}
		ctx := context.WithValue(r.Context(), viewAsKey{}, imp)
		path := r.URL.Path
		if isAdminPath(path) {
			if changes(r) && path != "/admin/view-as/stop" && path != "/admin/view-as/write" {
				s.errorPage(w, r.WithContext(ctx), http.StatusForbidden, i18n.T(ctx, "admin.view_as.console_refused", "Email", imp.Target.Email))
				return
			}
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if viewAsOff(path) {
			s.errorPage(w, r.WithContext(ctx), http.StatusForbidden, i18n.T(ctx, "admin.view_as.closed"))
			return
		}
		if changes(r) && !imp.Writes() {
			s.errorPage(w, r.WithContext(ctx), http.StatusForbidden, i18n.T(ctx, "admin.view_as.read_only", "Email", imp.Target.Email))
			return
		}
		now := s.Now()
		up := &app.Principal{User: imp.Target, Session: app.Session{UserID: imp.Target.ID, CreatedAt: imp.StartedAt,
			LastSeenAt: now, ExpiresAt: imp.ExpiresAt, SecondFactor: true}}
		ctx = app.WithImpersonation(app.WithPrincipal(ctx, up), imp)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// viewAsBanner returns the banner of the request's view, or nil.
func (s *Server) viewAsBanner(r *http.Request) *layout.ViewAs {
	imp := viewAsFrom(r.Context())
	if imp == nil {
		return nil
	}
	user := imp.Target.Email
	if imp.Target.Name != "" {
		user = imp.Target.Name + " (" + imp.Target.Email + ")"
	}
	return &layout.ViewAs{Staff: imp.Staff.DisplayName(), User: user, Writes: imp.Writes(),
		Until: s.formatTime(r.Context(), imp.ExpiresAt, imp.Staff.TimeZone), StopURL: "/admin/view-as/stop", WriteURL: "/admin/view-as/write"}
}

func (s *Server) viewAsCookie() string { return s.hostCookie(viewAsCookieName) }

func (s *Server) clearViewAsCookie(w http.ResponseWriter) {
	setCookie(w, &http.Cookie{Name: s.viewAsCookie(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// viewAsMailer returns viewAsEmail bound to ctx, for the store to call.
func (s *Server) viewAsMailer(ctx context.Context) func(*app.Impersonation) app.Email {
	return func(imp *app.Impersonation) app.Email { return s.viewAsEmail(ctx, imp) }
}

// viewAsEmail is the email a user gets after a write session.
func (s *Server) viewAsEmail(ctx context.Context, imp *app.Impersonation) app.Email {
	p := s.mailPrinter(ctx, imp.Target.Language)
	return mail.ImpersonationEmail(p, s.Config.AppName, imp.Target.Email, mail.Impersonation{
		Staff: imp.Staff.DisplayName(), Reason: imp.Reason, WriteReason: imp.WriteReason,
		Started: p.DateTime(imp.StartedAt, s.location(imp.Target.TimeZone)), Ended: p.DateTime(imp.EndedAt, s.location(imp.Target.TimeZone)),
		AuditURL: s.Config.AppURL.String() + "/settings/workspaces"})
}

// handleViewAsConfirm handles "GET /admin/users/{userID}/view-as": the
// reason a view needs.
func (s *Server) handleViewAsConfirm(w http.ResponseWriter, r *http.Request) {
	_, subject, back, ok := s.adminSubject(w, r, true)
	if !ok {
		return
	}
	s.renderAdminConfirm(w, r, http.StatusOK, viewAsAction, subject, back, r.URL.Path, "", "")
}

var viewAsAction = adminAction{title: "admin.user.action.view_as", button: "admin.view_as.button", consequence: "admin.view_as.consequence"}

// handleViewAsStart handles "POST /admin/users/{userID}/view-as".
func (s *Server) handleViewAsStart(w http.ResponseWriter, r *http.Request) {
	id, subject, back, ok := s.adminSubject(w, r, true)
	if !ok {
		return
	}
	reason := r.PostFormValue("reason")
	p := app.PrincipalFromContext(r.Context())
	token, hash := app.NewToken()
	imp, err := s.Admin.StartImpersonation(r.Context(), app.NewImpersonation{TokenHash: hash, StaffSessionID: p.Session.ID,
		TargetUserID: id, Reason: reason})
	switch {
	case app.ErrorCode(err) == app.EINVALID:
		s.renderAdminConfirm(w, r, http.StatusUnprocessableEntity, viewAsAction, subject, back, r.URL.Path, reason, i18n.ErrorText(r.Context(), err))
		return
	case err != nil:
		s.Error(w, r, err)
		return
	}
	setCookie(w, &http.Cookie{Name: s.viewAsCookie(), Value: token, Path: "/", MaxAge: int(app.ImpersonationTTL / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	s.setFlash(w, "info", i18n.T(r.Context(), "admin.view_as.started", "Email", imp.Target.Email))
	redirect(w, r, "/app")
}

// handleViewAsStop handles "POST /admin/view-as/stop": back to the staff
// member's own identity, on the user's console page.
func (s *Server) handleViewAsStop(w http.ResponseWriter, r *http.Request) {
	imp := viewAsFrom(r.Context())
	s.clearViewAsCookie(w)
	if imp == nil {
		s.setFlash(w, "info", i18n.T(r.Context(), "admin.view_as.not_viewing"))
		redirect(w, r, "/admin/users")
		return
	}
	if err := s.Admin.StopImpersonation(r.Context(), imp.ID, app.EndStopped, s.viewAsMailer(r.Context())); err != nil {
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "admin.view_as.stopped", "Email", imp.Target.Email))
	redirect(w, r, adminUserURL(imp.Target.ID))
}

var viewAsWriteAction = adminAction{title: "admin.view_as.write.title", button: "admin.view_as.write.button", danger: true,
	consequence: "admin.view_as.write.consequence"}

// handleViewAsWriteShow handles "GET /admin/view-as/write".
func (s *Server) handleViewAsWriteShow(w http.ResponseWriter, r *http.Request) {
	imp := viewAsFrom(r.Context())
	if imp == nil {
		s.handleNotFound(w, r)
		return
	}
	s.renderAdminConfirm(w, r, http.StatusOK, viewAsWriteAction, imp.Target.Email, "/app", r.URL.Path, "", "")
}

// handleViewAsWrite handles "POST /admin/view-as/write": the second
// reason turns the view into a write session.
func (s *Server) handleViewAsWrite(w http.ResponseWriter, r *http.Request) {
	imp := viewAsFrom(r.Context())
	if imp == nil {
		s.handleNotFound(w, r)
		return
	}
	reason := r.PostFormValue("reason")
	err := s.Admin.StartWriteSession(r.Context(), imp.ID, reason)
	switch {
	case app.ErrorCode(err) == app.EINVALID:
		s.renderAdminConfirm(w, r, http.StatusUnprocessableEntity, viewAsWriteAction, imp.Target.Email, "/app", r.URL.Path, reason, i18n.ErrorText(r.Context(), err))
		return
	case app.ErrorCode(err) == app.ECONFLICT:
		s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
	case err != nil:
		s.Error(w, r, err)
		return
	default:
		s.setFlash(w, "info", i18n.T(r.Context(), "admin.view_as.write.started", "Email", imp.Target.Email))
	}
	redirect(w, r, "/app")
}

// workspaceGate runs after loadWorkspace found the workspace: a view notes
// its visit (the workspace's log gets the view's start once), and a
// change to a suspended workspace is refused. It reports whether the
// request goes on.
func (s *Server) workspaceGate(w http.ResponseWriter, r *http.Request, ws *app.Workspace) bool {
	if imp := app.ImpersonationFromContext(r.Context()); imp != nil {
		if err := s.Admin.VisitWorkspace(r.Context(), imp, ws.ID); err != nil {
			s.Error(w, r, err)
			return false
		}
	}
	if !changes(r) {
		return true
	}
	suspended, err := s.Admin.WorkspaceSuspended(r.Context(), ws.ID)
	if err != nil {
		s.Error(w, r, err)
		return false
	}
	if suspended {
		s.errorPage(w, r, http.StatusForbidden, i18n.ErrorText(r.Context(), app.ErrWorkspaceSuspended))
		return false
	}
	return true
}
