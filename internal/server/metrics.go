package server

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// measureRequests records each request in the metrics: in flight while it
// runs, then its duration by route pattern, method and status class. The
// route pattern ("/w/{slug}/members"), never the path, labels it, so ids
// and tokens stay out of the metrics and their number stays bounded.
func (s *Server) measureRequests(next http.Handler) http.Handler {
	if s.Metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		done := s.Metrics.RequestStarted()
		defer done()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		s.Metrics.ObserveRequest(route, r.Method, status, time.Since(start))
	})
}
