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
	msg := i18n.ErrorText(r.Context(), err)
	if !errors.As(err, &appErr) {
		msg = i18n.T(r.Context(), "errorpage.internal")
	}
	s.errorPage(w, r, status, msg)
}

// errorPage renders the shared error page for status; msg, in the
// reader's language, says what went wrong ("" for the status's own words).
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if i18n.PrinterFrom(r.Context()) == nil && s.catalog != nil {
		// A panic recovered before the request was given its language.
		r = s.withLocale(w, r, "", "")
	}
	ctx := r.Context()
	v := page.ErrorView{Status: status, Title: statusText(ctx, status), Message: msg}
	switch status {
	case http.StatusNotFound:
		v.Title = i18n.T(ctx, "errorpage.not_found.title")
		if msg == "" {
			v.Message = i18n.T(ctx, "errorpage.not_found.message")
		}
	case http.StatusForbidden:
		v.Title = i18n.T(ctx, "errorpage.forbidden.title")
		if msg == "" {
			v.Message = i18n.T(ctx, "errorpage.forbidden.message")
		}
	case http.StatusTooManyRequests:
		v.Title = i18n.T(ctx, "errorpage.too_many.title")
		v.RetryAfter = retryAfterText(ctx, w.Header().Get("Retry-After"))
	case http.StatusInternalServerError:
		v.Title = i18n.T(ctx, "errorpage.internal_title")
		v.RequestID = requestIDFrom(ctx)
	case http.StatusServiceUnavailable:
		v.Title = i18n.T(ctx, "errorpage.unavailable.title")
		v.RequestID = requestIDFrom(ctx)
	}
	if v.Message == "" {
		v.Message = statusText(ctx, status)
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

// statusWords are the statuses whose own words (http.StatusText) the
// catalogs translate, as errorpage.status.<code>: those the error page may
// show as its title or, without a message, as its message (404 and 403
// always have their own).
var statusWords = []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusMethodNotAllowed, http.StatusConflict,
	http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}

// statusText returns the words of an HTTP status in ctx's language
// ("Bad Request"); a status the catalogs do not list keeps Go's English.
func statusText(ctx context.Context, status int) string {
	if slices.Contains(statusWords, status) {
		return i18n.T(ctx, "errorpage.status."+strconv.Itoa(status))
	}
	return http.StatusText(status)
}

// retryAfterText says how long a Retry-After of secs seconds is, in ctx's
// language ("30 seconds", "2 minutes"); "" when secs is not a positive
// number.
func retryAfterText(ctx context.Context, secs string) string {
	n, err := strconv.Atoi(secs)
	if err != nil || n <= 0 {
		return ""
	}
	if n < 90 {
		return i18n.N(ctx, "errorpage.retry.seconds", n)
	}
	return i18n.N(ctx, "errorpage.retry.minutes", (n+59)/60)
}

// handleNotFound handles every unknown path.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "")
}

// handleMethodNotAllowed handles a known path with the wrong method.
func (s *Server) handleMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusMethodNotAllowed, i18n.T(r.Context(), "errorpage.method_not_allowed"))
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
