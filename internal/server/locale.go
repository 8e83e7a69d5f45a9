package server

import (
	"net/http"

	"atrium/internal/i18n"
)

// localize starts every request in the language its browser asks for
// (Accept-Language, else English) and in UTC; loadSession then switches a
// signed-in person to the language and time zone of their account.
func (s *Server) localize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, s.withLocale(w, r, "", ""))
	})
}

// withLocale returns r carrying the printer of the language chosen from
// saved (an account's choice, "" for none) and Accept-Language, and the
// time zone tz, and says the page's language in Content-Language.
func (s *Server) withLocale(w http.ResponseWriter, r *http.Request, saved, tz string) *http.Request {
	p := s.catalog.Printer(s.catalog.Match(saved, r.Header.Get("Accept-Language")))
	// A signed-in request comes here twice (localize, then loadSession):
	// the header is written again only when the language changed.
	if h := w.Header(); h.Get("Content-Language") != p.Lang() {
		h.Set("Content-Language", p.Lang())
	}
	if i18n.SetLocale(r.Context(), p, s.location(tz)) {
		return r
	}
	return r.WithContext(i18n.WithLocale(r.Context(), p, s.location(tz)))
}
