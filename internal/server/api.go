package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
	"github.com/ulule/limiter/v3"

	"atrium/internal/app"
	"atrium/internal/server/api"
)

// apiBodyMax caps a request body on /api/v1.
const apiBodyMax = 16 << 10

// apiState is what the API's authentication leaves in the request's
// context for its handlers: the key and its workspace.
type apiState struct {
	key *app.APIKey
	ws  *app.Workspace
	// scope is the key acting in its workspace, which every service call
	// of the API takes.
	scope app.Scope
}

type apiStateKey struct{}

func apiFrom(ctx context.Context) *apiState {
	st, _ := ctx.Value(apiStateKey{}).(*apiState)
	return st
}

// apiRoutes mounts the JSON API on r. Its contract is the OpenAPI document
// internal/server/api/openapi.yaml: the routes, parameters and models are
// generated from it, every request is checked against it before its
// handler runs (apiGuard), and it is served at /api/v1/openapi.json with a
// reference rendered from it at /api/v1/docs.
func (s *Server) apiRoutes(r chi.Router) {
	spec, err := s.apiSpec()
	if err != nil {
		// The document is embedded and checked by the tests: a broken one
		// is a build that must not serve.
		panic(err)
	}
	r.NotFound(apiProblem(http.StatusNotFound, "There is no such API operation."))
	r.MethodNotAllowed(apiMethodNotAllowed(r))
	r.Get("/openapi.json", s.handleAPISpec(spec))
	// The document is OpenAPI 3.0; the second address is kept for
	// generators and links made when a 3.1 document was served beside it.
	r.Get("/openapi-3.0.json", s.handleAPISpec(spec))
	r.Get("/docs", s.handleAPIDocs(spec))
	routes := r
	r.Group(func(r chi.Router) {
		r.Use(s.apiGuard(routes, spec))
		api.HandlerWithOptions(api.NewStrictHandlerWithOptions(apiHandlers{s}, nil, api.StrictHTTPServerOptions{
			// The generated code calls this only when the body does not
			// decode, which apiGuard's check has normally answered already.
			RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
				writeAPIError(w, errNotJSON)
			},
			ResponseErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
				writeAPIError(w, s.apiError(r.Context(), err))
			},
		}), api.ChiServerOptions{BaseRouter: r, ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeAPIError(w, s.apiRequestError(err))
		}})
	})
}

// apiHandlers implements the generated api.StrictServerInterface with the
// server's services (api_ops.go).
type apiHandlers struct{ s *Server }

// apiSpec returns the served copy of the document: this deployment's name
// and address in place of the committed ones.
func (s *Server) apiSpec() (*openapi3.T, error) {
	committed, err := api.Spec()
	if err != nil {
		return nil, err
	}
	spec := *committed
	info := *committed.Info
	info.Title = s.Config.AppName + " API"
	spec.Info = &info
	spec.Servers = openapi3.Servers{{URL: s.Config.AppURL.String() + "/api/v1"}}
	return &spec, nil
}

// handleAPISpec handles "GET /api/v1/openapi.json".
func (s *Server) handleAPISpec(spec *openapi3.T) http.HandlerFunc {
	body, err := json.Marshal(spec)
	return func(w http.ResponseWriter, r *http.Request) {
		if err != nil {
			writeAPIError(w, s.apiError(r.Context(), err))
			return
		}
		w.Header().Set("Content-Type", "application/openapi+json")
		_, _ = w.Write(body)
	}
}

// apiMethods are the methods a 405 may list in its Allow header.
var apiMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// apiMethodNotAllowed answers a known path asked with another method: a
// problem, and the Allow header with the methods routes takes there (RFC
// 9110, section 15.5.6).
func apiMethodNotAllowed(routes chi.Routes) http.HandlerFunc {
	problem := apiProblem(http.StatusMethodNotAllowed, "This operation does not take that method.")
	return func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/api/v1")
		var allow []string
		for _, m := range apiMethods {
			if routes.Match(chi.NewRouteContext(), m, path) {
				allow = append(allow, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		problem(w, r)
	}
}

// apiGuard runs before every operation, in this order: the key (the same
// 401 for every key that cannot be used, before anything about the
// request is looked at), its rate limit and its scope; then the body (at
// most apiBodyMax, no field named twice) and the request against the
// document. Paths no operation takes are left to the router's 404 and 405.
func (s *Server) apiGuard(routes chi.Routes, spec *openapi3.T) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rctx := chi.NewRouteContext()
			path := strings.TrimPrefix(r.URL.Path, "/api/v1")
			if !routes.Match(rctx, r.Method, path) {
				next.ServeHTTP(w, r)
				return
			}
			item := spec.Paths.Value(rctx.RoutePattern())
			var op *openapi3.Operation
			if item != nil {
				op = item.GetOperation(r.Method)
			}
			if op == nil {
				next.ServeHTTP(w, r)
				return
			}
			if scope := api.Scope(op); scope != "" {
				// Answers carry workspace data: no cache keeps them.
				w.Header().Set("Cache-Control", "no-store")
				ctx, p := s.apiAuthenticate(w, r, scope)
				if p != nil {
					writeAPIError(w, p)
					return
				}
				r = r.WithContext(ctx)
			}
			if p := apiReadBody(r, op); p != nil {
				writeAPIError(w, p)
				return
			}
			if p := s.apiValidate(r, spec, item, op, rctx); p != nil {
				writeAPIError(w, p)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// apiReadBody reads the body of an operation that takes one, at most
// apiBodyMax bytes (413 past it), and refuses with 422 a JSON body that
// names a field twice, even in different case: the decoder matches names
// without case and would keep the last, so {"email":…,"Email":…} would
// pass the schema with one address and act on the other. What was read
// is put back for the operation.
func apiReadBody(r *http.Request, op *openapi3.Operation) *apiProblemError {
	if op.RequestBody == nil {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, apiBodyMax+1))
	if err != nil {
		return &apiProblemError{Status: http.StatusBadRequest, Detail: "The body could not be read."}
	}
	if len(raw) > apiBodyMax {
		return &apiProblemError{Status: http.StatusRequestEntityTooLarge,
			Detail: "The body is larger than " + strconv.Itoa(apiBodyMax>>10) + " KiB."}
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	if key, dup := duplicateJSONKey(raw); dup {
		msg := "The field " + strconv.Quote(key) + " appears more than once (names are compared without regard to case)."
		return &apiProblemError{Status: http.StatusUnprocessableEntity, Detail: "The body is not valid.",
			Errors: []apiErrorDetail{{Location: "body." + key, Message: msg}}}
	}
	return nil
}

// duplicateJSONKey returns the first object member of raw whose name
// repeats an earlier one of the same object, compared case-insensitively
// as encoding/json matches them. Malformed JSON reports none.
func duplicateJSONKey(raw []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var walk func() (string, bool, error)
	walk = func() (string, bool, error) {
		tok, err := dec.Token()
		if err != nil {
			return "", false, err
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return "", false, nil
		}
		var seen []string
		for dec.More() {
			if d == '{' {
				t, err := dec.Token()
				if err != nil {
					return "", false, err
				}
				key, _ := t.(string)
				for _, k := range seen {
					if strings.EqualFold(k, key) {
						return key, true, nil
					}
				}
				seen = append(seen, key)
			}
			if key, dup, err := walk(); dup || err != nil {
				return key, dup, err
			}
		}
		_, err = dec.Token() // the closing delimiter
		return "", false, err
	}
	key, dup, _ := walk()
	return key, dup
}

// apiAuthenticate checks the bearer key of a secured operation, its rate
// limit and its scope, and returns the context with the key in it. Every
// key that cannot be used gets the same 401, whether it exists or not.
func (s *Server) apiAuthenticate(w http.ResponseWriter, r *http.Request, scope string) (context.Context, *apiProblemError) {
	ctx := r.Context()
	network := "apibad:" + clientKey(s.Limiter.ClientIP(r))
	if p := s.apiBadKeysAllow(w, r, network); p != nil {
		return ctx, p
	}
	secret, ok := bearer(r.Header.Get("Authorization"))
	if !ok || !app.ValidAPIKeySyntax(secret) {
		return ctx, s.apiUnauthorized(w, r, network)
	}
	key, ws, err := s.APIKeys.AuthenticateAPIKey(ctx, app.HashToken(secret))
	if err != nil {
		if app.ErrorCode(err) == app.EUNAUTHORIZED {
			return ctx, s.apiUnauthorized(w, r, network)
		}
		return ctx, s.apiError(ctx, err)
	}
	if p := s.apiLimitAllows(w, r, key, s.Config.Plans.Effective(ws).APIRate); p != nil {
		return ctx, p
	}
	if !key.Has(scope) {
		return ctx, &apiProblemError{Status: http.StatusForbidden, Detail: "This API key lacks the " + scope + " scope."}
	}
	if scope != app.ScopeRead {
		// A suspended workspace's keys still read (admin_viewas.go).
		if suspended, err := s.Admin.WorkspaceSuspended(ctx, ws.ID); err != nil || suspended {
			if err != nil {
				return ctx, s.apiError(ctx, err)
			}
			return ctx, &apiProblemError{Status: http.StatusForbidden, Detail: app.ErrWorkspaceSuspended.Message}
		}
	}
	return context.WithValue(app.WithAPIKey(ctx, key), apiStateKey{}, &apiState{key: key, ws: ws,
		scope: app.Scope{WorkspaceID: ws.ID, APIKeyID: key.ID}}), nil
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// apiUnauthorized counts a request without a usable key against its
// client network's budget and returns the one 401 every such key gets
// (missing, malformed, unknown, revoked, expired), or the 429 once the
// budget is spent.
func (s *Server) apiUnauthorized(w http.ResponseWriter, r *http.Request, network string) *apiProblemError {
	lc, err := s.Limiter.apiBadKeys.Get(r.Context(), network)
	if err == nil && lc.Reached {
		return s.apiBadKeysRefuse(w, r, lc)
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
	return &apiProblemError{Status: http.StatusUnauthorized, Detail: app.ErrAPIKeyInvalid.Message}
}

// apiBadKeysAllow refuses, before any lookup, a request from a client
// network that has spent its budget of requests without a usable key. A
// failing limiter store lets the request go on: the per-key limit and the
// 401 still hold.
func (s *Server) apiBadKeysAllow(w http.ResponseWriter, r *http.Request, network string) *apiProblemError {
	lc, err := s.Limiter.apiBadKeys.Peek(r.Context(), network)
	if err != nil || !lc.Reached {
		return nil
	}
	return s.apiBadKeysRefuse(w, r, lc)
}

func (s *Server) apiBadKeysRefuse(w http.ResponseWriter, r *http.Request, lc limiter.Context) *apiProblemError {
	s.Logger.WarnContext(r.Context(), "api invalid key limit reached", "request_id", requestIDFrom(r.Context()), "limit", lc.Limit)
	w.Header().Set("Retry-After", strconv.FormatInt(max(1, lc.Reset-time.Now().Unix()), 10))
	return &apiProblemError{Status: http.StatusTooManyRequests,
		Detail: "Too many requests without a valid API key came from your network. Please wait and try again."}
}

// apiLimitAllows counts the request against its key's budget, perMinute
// (its workspace plan's API rate), and writes the RateLimit headers (and
// Retry-After with a 429 when it is spent).
func (s *Server) apiLimitAllows(w http.ResponseWriter, r *http.Request, key *app.APIKey, perMinute int) *apiProblemError {
	ctx := r.Context()
	lc, err := s.Limiter.APIKey(ctx, key.ID, perMinute)
	if err != nil {
		s.Logger.ErrorContext(ctx, "rate limiter unavailable", "request_id", requestIDFrom(ctx), "error", err.Error())
		w.Header().Set("Retry-After", "30")
		return &apiProblemError{Status: http.StatusServiceUnavailable, Detail: "We cannot take this request right now. Please try again in a moment."}
	}
	setAPILimitHeaders(w.Header(), lc, time.Now())
	if lc.Reached {
		s.Logger.WarnContext(ctx, "api rate limit reached", "request_id", requestIDFrom(ctx), "api_key_id", key.ID, "limit", lc.Limit)
		return &apiProblemError{Status: http.StatusTooManyRequests, Detail: "This API key has sent too many requests. Please wait and try again."}
	}
	return nil
}

// setAPILimitHeaders writes the RateLimit-* headers of the IETF draft
// (remaining budget and seconds until it resets), and Retry-After when the
// limit is reached.
func setAPILimitHeaders(h http.Header, lc limiter.Context, now time.Time) {
	reset := max(0, lc.Reset-now.Unix())
	h.Set("RateLimit-Limit", strconv.FormatInt(lc.Limit, 10))
	h.Set("RateLimit-Remaining", strconv.FormatInt(lc.Remaining, 10))
	h.Set("RateLimit-Reset", strconv.FormatInt(reset, 10))
	h.Set("RateLimit-Policy", strconv.FormatInt(lc.Limit, 10)+";w=60")
	if lc.Reached {
		h.Set("Retry-After", strconv.FormatInt(max(1, reset), 10))
	}
}

// apiProblemError is an RFC 9457 problem an operation answers with: the
// ErrorModel of the document.
type apiProblemError struct {
	Status int
	Detail string
	Errors []apiErrorDetail
	// RetryAfter, when set, is sent as the Retry-After header (seconds).
	RetryAfter int64
}

// apiErrorDetail is one problem of a request, where it is (body.email,
// query.limit) and what is wrong.
type apiErrorDetail struct {
	Location string `json:"location,omitempty"`
	Message  string `json:"message"`
}

func (p *apiProblemError) Error() string { return p.Detail }

// writeAPIError writes err as a problem: an *apiProblemError as it is,
// anything else as a 500 without detail (the caller has logged it).
func writeAPIError(w http.ResponseWriter, err error) {
	var p *apiProblemError
	if !errors.As(err, &p) {
		p = &apiProblemError{Status: http.StatusInternalServerError, Detail: "Something went wrong on our side."}
	}
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(p.RetryAfter, 10))
	}
	writeProblem(w, p.Status, p.Detail, p.Errors)
}

// writeProblem writes a problem document with the status's title.
func writeProblem(w http.ResponseWriter, status int, detail string, details []apiErrorDetail) {
	body, _ := json.Marshal(struct {
		Title  string           `json:"title"`
		Status int              `json:"status"`
		Detail string           `json:"detail,omitempty"`
		Errors []apiErrorDetail `json:"errors,omitempty"`
	}{http.StatusText(status), status, detail, details})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// apiError turns a service error into a problem: an app.Error keeps its
// message (and field), anything else is logged and answered as a 500
// without detail.
func (s *Server) apiError(ctx context.Context, err error) *apiProblemError {
	var p *apiProblemError
	if errors.As(err, &p) {
		return p
	}
	var re *app.RetryError
	if errors.As(err, &re) {
		return &apiProblemError{Status: http.StatusTooManyRequests, Detail: re.Message(s.Now(), time.UTC),
			RetryAfter: max(1, int64(re.At.Sub(s.Now()).Seconds()+0.5))}
	}
	code := app.ErrorCode(err)
	if code == app.EINTERNAL {
		return &apiProblemError{Status: http.StatusInternalServerError, Detail: s.apiInternal(ctx, err)}
	}
	status := statusOf(code)
	if code == app.EINVALID {
		status = http.StatusUnprocessableEntity
	}
	p = &apiProblemError{Status: status, Detail: app.ErrorMessage(err)}
	if f := app.ErrorField(err); f != "" {
		p.Errors = []apiErrorDetail{{Location: "body." + f, Message: app.ErrorMessage(err)}}
	}
	return p
}

// apiInternal logs an unexpected error and returns the message to answer.
// A request whose client went away is logged as 499 at info level instead.
func (s *Server) apiInternal(ctx context.Context, err error) string {
	if errors.Is(ctx.Err(), context.Canceled) {
		markClientGone(ctx)
		return "The request was cancelled."
	}
	s.Logger.ErrorContext(ctx, "api request failed", "request_id", requestIDFrom(ctx), "error", err.Error())
	return "Something went wrong on our side. It has been logged with request id " + requestIDFrom(ctx) + "."
}

// apiProblem answers a request no operation matched with a problem.
func apiProblem(status int, detail string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, status, detail, nil)
	}
}
