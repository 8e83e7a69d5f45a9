package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"atrium/web/page"
	"atrium/web/static"
)

// routes lists every route and the middleware in front of it.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.logRequests, s.recoverPanics, s.securityHeaders)
	r.NotFound(s.handleNotFound)
	r.MethodNotAllowed(s.handleMethodNotAllowed)

	r.Get("/healthz", s.handleHealthz)
	r.Get("/readyz", s.handleReadyz)
	r.Handle("/static/*", http.StripPrefix("/static", static.Handler()))

	// Browser routes: CSRF protection, the session, and the rate limit on
	// every state-changing request.
	r.Group(func(r chi.Router) {
		r.Use(s.crossOrigin, s.loadSession, s.rateLimit)

		r.Get("/", s.handleHome)
		r.Get("/login", s.handleLoginShow)
		r.Post("/login", s.handleLoginCreate)
		r.Get("/login/sent", s.handleLoginSent)
		r.Get("/auth/verify", s.handleVerifyShow)
		r.Post("/auth/verify", s.handleVerify)
		r.Post("/logout", s.handleLogout)

		r.Group(func(r chi.Router) {
			r.Use(s.requireUser)
			r.Get("/app", s.handleAppHome)
			r.Get("/settings/account", s.handleAccountShow)
			r.Post("/settings/account/sessions/{id}/revoke", s.handleSessionRevoke)
			r.Post("/settings/account/sessions/revoke-others", s.handleSessionRevokeOthers)
		})
	})
	return r
}

// handleHome handles "GET /".
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	v := page.HomeView{SignedIn: s.page(w, r, "").User != nil}
	s.render(w, r, http.StatusOK, page.Home(s.page(w, r, ""), v))
}
