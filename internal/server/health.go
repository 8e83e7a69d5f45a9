package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// handleHealthz handles "GET /healthz": the process is up.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// handleReadyz handles "GET /readyz": the database answers and every
// migration is applied.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "migrations": "ok"}
	status := http.StatusOK
	if err := s.DB.Ping(ctx); err != nil {
		checks["database"] = "unreachable"
		checks["migrations"] = "unknown"
		status = http.StatusServiceUnavailable
		s.Logger.ErrorContext(ctx, "readiness: database unreachable", "error", err.Error())
	} else if n, err := s.DB.PendingMigrations(ctx); err != nil {
		checks["migrations"] = "unknown"
		status = http.StatusServiceUnavailable
		s.Logger.ErrorContext(ctx, "readiness: migration status", "error", err.Error())
	} else if n > 0 {
		checks["migrations"] = "pending"
		status = http.StatusServiceUnavailable
	}
	body := map[string]any{"status": "ok", "checks": checks}
	if status != http.StatusOK {
		body["status"] = "unavailable"
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
