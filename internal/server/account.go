package server

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"atrium/internal/app"
	"atrium/web/page"
)

// handleAppHome handles "GET /app", the signed-in landing page.
func (s *Server) handleAppHome(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	v := page.AppHomeView{Name: p.User.Name, Email: p.User.Email}
	s.render(w, r, http.StatusOK, page.AppHome(s.page(w, r, "Home"), v))
}

// handleAccountShow handles "GET /settings/account".
func (s *Server) handleAccountShow(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	sessions, err := s.Auth.FindSessions(r.Context(), p.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := page.AccountView{Email: p.User.Email, Sessions: make([]page.SessionRow, 0, len(sessions))}
	for _, ss := range sessions {
		v.Sessions = append(v.Sessions, page.SessionRow{
			ID:       ss.ID,
			Current:  ss.ID == p.Session.ID,
			Device:   describeDevice(ss.UserAgent),
			IP:       ss.IP,
			Created:  s.formatTime(ss.CreatedAt, p.User.TimeZone),
			LastSeen: s.formatTime(ss.LastSeenAt, p.User.TimeZone),
		})
	}
	s.render(w, r, http.StatusOK, page.Account(s.page(w, r, "Account"), v))
}

// handleSessionRevoke handles "POST /settings/account/sessions/{id}/revoke".
// Revoking the current session signs this browser out.
func (s *Server) handleSessionRevoke(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	if id == p.Session.ID {
		s.handleLogout(w, r)
		return
	}
	if err := s.Auth.RevokeSession(r.Context(), p.User.ID, id); err != nil {
		if app.ErrorCode(err) == app.ENOTFOUND {
			s.setFlash(w, "info", app.ErrorMessage(err))
			redirect(w, r, "/settings/account")
			return
		}
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", "That device has been signed out.")
	redirect(w, r, "/settings/account")
}

// handleSessionRevokeOthers handles "POST /settings/account/sessions/revoke-others".
func (s *Server) handleSessionRevokeOthers(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	n, err := s.Auth.RevokeOtherSessions(r.Context(), p.User.ID, p.Session.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	msg := "You are now signed out everywhere else."
	if n == 1 {
		msg = "1 other device has been signed out."
	} else if n > 1 {
		msg = strconv.Itoa(n) + " other devices have been signed out."
	}
	s.setFlash(w, "success", msg)
	redirect(w, r, "/settings/account")
}
