package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/a-h/templ"
	"github.com/ulule/limiter/v3"

	"atrium/internal/store"
	"atrium/internal/store/storetest"
	"atrium/web/page"
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

// requireClientGoneLine checks that the request was logged once, as 499 at
// info level, with no error line before it and no page sent.
func requireClientGoneLine(t *testing.T, rec *httptest.ResponseRecorder, logs *lockedBuffer) {
	t.Helper()
	if rec.Body.Len() != 0 {
		t.Errorf("a page was sent to a client that is gone:\n%.300s", rec.Body.String())
	}
	lines := logs.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want only the request line:\n%s", len(lines), logs.String())
	}
	if l := lines[0]; l["msg"] != "request" || l["status"] != float64(499) || l["level"] != "INFO" {
		t.Fatalf("request line=%v, want status 499 at INFO", l)
	}
}

// TestRender_ClientGone: the client disconnects while a page renders (templ
// stops at the cancelled context); that is a 499 at info level, not a 500
// "render failed".
func TestRender_ClientGone(t *testing.T) {
	s, logs := newTestServer(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := s.logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pg := s.page(w, r, "Members")
		s.render(w, r, http.StatusOK, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			if _, err := io.WriteString(w, "<p>the first half of the page</p>"); err != nil {
				return err
			}
			cancel() // what net/http does when the connection closes
			return page.Error(pg, page.ErrorView{Status: 404, Title: "Page not found"}).Render(ctx, w)
		}))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/w/acme/members", nil).WithContext(ctx))
	requireClientGoneLine(t, rec, logs)
}

// TestError_ClientGoneDuringStoreRead: the client disconnects while the
// handler reads the store (a real one, SQLite and PostgreSQL); the store's
// error reaches the error writer and the request is a 499 at info level.
func TestError_ClientGoneDuringStoreRead(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, logs := newTestServer(t, "")
		users := store.NewUserService(db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		h := s.logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cancel()
			if _, err := users.FindUserByEmail(r.Context(), "owner@example.com"); err != nil {
				s.Error(w, r, err)
				return
			}
			t.Error("the read succeeded on a cancelled context: the test cannot tell")
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/account", nil).WithContext(ctx))
		requireClientGoneLine(t, rec, logs)
	})
}

// TestLimitAllows_ClientGone: the rate limiter's store call fails because
// the client went away; no "rate limiter unavailable" error, no 503.
func TestLimitAllows_ClientGone(t *testing.T) {
	s, logs := newTestServer(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := s.logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.limitAllows(w, r, limiter.Context{}, fmt.Errorf("redis: %w", context.Canceled)) {
			t.Error("limitAllows let a failed limiter call through")
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/login", nil).WithContext(ctx))
	requireClientGoneLine(t, rec, logs)
}
