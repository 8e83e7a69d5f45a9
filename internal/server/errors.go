package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/layout"
	"atrium/web/page"
)

// statusOf maps an app error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case app.EINVALID:
		return http.StatusBadRequest
	case app.ENOTFOUND:
		return http.StatusNotFound
	case app.ECONFLICT:
		return http.StatusConflict
	case app.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case app.EFORBIDDEN:
		return http.StatusForbidden
	case app.ERATELIMITED:
		return http.StatusTooManyRequests
	case app.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// statusClientClosedRequest is the status logged for a request whose client
// went away before the answer (nginx's 499); nothing is sent.
const statusClientClosedRequest = 499

// clientGone reports whether the client disconnected: net/http cancels a
// request's context when its connection closes, and whatever failed
// afterwards (typically a query returning "context canceled") failed
// because of that.
func clientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// markClientGone records that the request ended because its client went
// away, so its request line says 499 at info level whatever was written.
func markClientGone(ctx context.Context) {
	if st := stateFrom(ctx); st != nil {
		st.clientGone = true
	}
}

// Error renders err as an error page. Internal errors are logged with the
// request id, and the page shows only that id. When the client has gone,
// nothing is rendered and the request is logged as 499 at info level.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	if clientGone(r) {
		markClientGone(r.Context())
		return
	}
	code := app.ErrorCode(err)
	status := statusOf(code)
	if code == app.EINTERNAL || code == app.EUNAVAILABLE {
		s.Logger.ErrorContext(r.Context(), "request failed", "request_id", requestIDFrom(r.Context()),
			"method", r.Method, "route", routeOf(r), "error", err.Error())
	}
	var appErr *app.Error
	msg := app.ErrorMessage(err)
	if !errors.As(err, &appErr) {
		msg = "Something went wrong on our side. It has been logged; please try again in a moment."
	}
	s.errorPage(w, r, status, msg)
}

// errorPage renders the shared error page for status.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v := page.ErrorView{Status: status, Title: http.StatusText(status), Message: msg}
	switch status {
	case http.StatusNotFound:
		v.Title = "Page not found"
		if msg == "" {
			v.Message = "There is nothing at this address. It may have moved, or you may not have access to it."
		}
	case http.StatusForbidden:
		v.Title = "Not allowed"
		if msg == "" {
			v.Message = "You do not have permission to do that."
		}
	case http.StatusTooManyRequests:
		v.Title = "Too many requests"
		v.RetryAfter = retryAfterText(w.Header().Get("Retry-After"))
	case http.StatusInternalServerError:
		v.Title = "Something went wrong"
		v.RequestID = requestIDFrom(r.Context())
	case http.StatusServiceUnavailable:
		v.Title = "Temporarily unavailable"
		v.RequestID = requestIDFrom(r.Context())
	}
	if v.Message == "" {
		v.Message = http.StatusText(status)
	}
	var pg layout.Page
	if scopeFrom(r.Context()) != nil {
		// Inside a workspace (a 403 for a role, say) the page keeps the
		// workspace's navigation, so there is a way on.
		pg = s.workspacePage(w, r, v.Title, "")
	} else {
		pg = s.page(w, r, v.Title)
	}
	s.render(w, r, status, page.Error(pg, v))
}

func retryAfterText(secs string) string {
	n, err := strconv.Atoi(secs)
	if err != nil || n <= 0 {
		return ""
	}
	switch {
	case n == 1:
		return "1 second"
	case n < 90:
		return strconv.Itoa(n) + " seconds"
	default:
		return strconv.Itoa((n+59)/60) + " minutes"
	}
}

// handleNotFound handles every unknown path.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "")
}

// handleMethodNotAllowed handles a known path with the wrong method.
func (s *Server) handleMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusMethodNotAllowed, "That action is not available at this address.")
}

// fieldErrors puts err's message beside the form field it is about
// (app.Error.Field) when that is one of fields, else beside fields[0], the
// form's first field.
func fieldErrors(ctx context.Context, err error, fields ...string) page.FieldErrors {
	field := app.ErrorField(err)
	if !slices.Contains(fields, field) {
		field = fields[0]
	}
	return page.FieldErrors{field: i18n.ErrorText(ctx, err)}
}
