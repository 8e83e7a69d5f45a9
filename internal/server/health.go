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

// handleReadyz handles "GET /readyz": the instance is not shutting down,
// the database answers, every migration is applied and, with REDIS_URL,
// Redis answers. An unreachable Redis makes the instance unready only with
// RATE_LIMIT_STORE_FAILURE=closed; with memory it still serves (on a
// per-instance budget) and the check says "unreachable".
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.Draining() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "draining",
			"checks": map[string]string{"shutdown": "draining"}})
		return
	}
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
	if s.Redis != nil {
		checks["redis"] = "ok"
		if err := s.Redis.Ping(ctx); err != nil {
			checks["redis"] = "unreachable"
			s.Logger.ErrorContext(ctx, "readiness: Redis unreachable", "error", err.Error(), "fail_closed", s.Redis.FailClosed())
			if s.Redis.FailClosed() {
				status = http.StatusServiceUnavailable
			}
		}
	}
	body := map[string]any{"status": "ok", "checks": checks}
	if status != http.StatusOK {
		body["status"] = "unavailable"
	} else if checks["redis"] == "unreachable" {
		body["status"] = "degraded"
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
