package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestError_ClientGone(t *testing.T) {
	s, logs := newTestServer(t, "")
	h := s.logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// What a query returns once net/http cancelled the context of a
		// request whose client disconnected.
		s.Error(w, r, fmt.Errorf("find workspace %q: %w", "acme", context.Canceled))
	}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/w/acme", nil).WithContext(ctx))

	if rec.Body.Len() != 0 {
		t.Fatalf("an error page was rendered for a client that is gone:\n%s", rec.Body.String())
	}
	lines := logs.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want only the request line:\n%s", len(lines), logs.String())
	}
	if l := lines[0]; l["msg"] != "request" || l["status"] != float64(499) || l["level"] != "INFO" {
		t.Fatalf("request line=%v, want status 499 at INFO", l)
	}
}

func TestError_ContextCanceledWhileClientStays(t *testing.T) {
	s, logs := newTestServer(t, "")
	h := s.logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, fmt.Errorf("inner work: %w", context.Canceled))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/w/acme", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status=%d: an internal cancellation while the client waits is a 500", rec.Code)
	}
	if l := logs.lines(t); l[len(l)-1]["status"] != float64(500) {
		t.Fatalf("request line=%v", l[len(l)-1])
	}
}
