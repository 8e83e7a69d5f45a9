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

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/ulule/limiter/v3"

	"atrium/internal/app"
)

// apiBodyMax caps a request body on /api/v1.
const apiBodyMax = 16 << 10

// apiBadKeyBudget is how many requests without a usable key one client
// network may send to /api/v1 a minute; past it, every request from that
// network is refused with 429 until the minute is over, before any lookup.
const apiBadKeyBudget = 30

// apiSecurity is the security requirement of every operation but the
// description and its docs: a workspace API key as a bearer token.
var apiSecurity = []map[string][]string{{"apiKey": {}}}

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

// apiRoutes mounts the JSON API on r: huma generates its OpenAPI 3.1
// description (/api/v1/openapi.json, and a 3.0 downgrade at
// /api/v1/openapi-3.0.json for generators that need it) from the
// operations below, with a reference rendered from it at /api/v1/docs.
func (s *Server) apiRoutes(r chi.Router) {
	r.NotFound(apiProblem(http.StatusNotFound, "There is no such API operation."))
	r.MethodNotAllowed(apiMethodNotAllowed(r))
	api := humachi.New(r, s.apiConfig())
	api.UseMiddleware(s.apiAuthenticate(api), apiStrictBody(api))
	s.apiOperations(api)
	r.Get("/docs", s.handleAPIDocs(api))
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

// apiStrictBody refuses, with 422, a JSON body that names a field twice,
// even in different case: the decoder matches names without case and
// would keep the last, so {"email":…,"Email":…} would pass the schema
// with one address and act on the other. Bodies that are not JSON, or too
// large, are left to the operation's own 400 and 413.
func apiStrictBody(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if ctx.Operation().RequestBody == nil {
			next(ctx)
			return
		}
		r, _ := humachi.Unwrap(ctx)
		raw, err := io.ReadAll(io.LimitReader(r.Body, apiBodyMax+1))
		// What was read goes back in front of the rest, for the operation.
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(raw), r.Body), r.Body}
		if err == nil && len(raw) <= apiBodyMax {
			if key, dup := duplicateJSONKey(raw); dup {
				msg := "The field " + strconv.Quote(key) + " appears more than once (names are compared without regard to case)."
				_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, "The body is not valid.",
					&huma.ErrorDetail{Location: "body." + key, Message: msg})
				return
			}
		}
		next(ctx)
	}
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

func (s *Server) apiConfig() huma.Config {
	cfg := huma.DefaultConfig(s.Config.AppName+" API", "1.0.0")
	// No "$schema" links in bodies and no schema routes: responses are
	// exactly the documented objects.
	cfg.CreateHooks, cfg.SchemasPath = nil, ""
	// The reference is served by handleAPIDocs, not huma's page, which
	// loads its viewer from a CDN.
	cfg.DocsPath = ""
	cfg.Info.Description = "Script a workspace with an API key made at /w/{slug}/settings/api-keys. " +
		"Send it as `Authorization: Bearer atr_…`. Errors are RFC 9457 problem details."
	cfg.Servers = []*huma.Server{{URL: s.Config.AppURL.String() + "/api/v1"}}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"apiKey": {Type: "http", Scheme: "bearer", Description: "A workspace API key (atr_…)."},
	}
	return cfg
}

// apiAuthenticate checks the bearer key of every secured operation, its
// scope and its rate limit, and puts the key in the context. Every key that
// cannot be used gets the same 401, whether it exists or not.
func (s *Server) apiAuthenticate(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		if len(op.Security) == 0 {
			next(ctx)
			return
		}
		// Answers carry workspace data: no cache keeps them.
		ctx.SetHeader("Cache-Control", "no-store")
		r, _ := humachi.Unwrap(ctx)
		network := "apibad:" + clientKey(s.Limiter.ClientIP(r))
		if !s.apiBadKeysAllow(api, ctx, network) {
			return
		}
		secret, ok := bearer(ctx.Header("Authorization"))
		if !ok || !app.ValidAPIKeySyntax(secret) {
			s.apiUnauthorized(api, ctx, network)
			return
		}
		key, ws, err := s.APIKeys.AuthenticateAPIKey(ctx.Context(), app.HashToken(secret))
		if err != nil {
			if app.ErrorCode(err) == app.EUNAUTHORIZED {
				s.apiUnauthorized(api, ctx, network)
				return
			}
			_ = huma.WriteErr(api, ctx, http.StatusInternalServerError, s.apiInternal(ctx.Context(), err))
			return
		}
		if !s.apiLimitAllows(api, ctx, key) {
			return
		}
		if scope, _ := op.Metadata["scope"].(string); !key.Has(scope) {
			_ = huma.WriteErr(api, ctx, http.StatusForbidden, "This API key lacks the "+scope+" scope.")
			return
		}
		next(huma.WithContext(ctx, context.WithValue(app.WithAPIKey(ctx.Context(), key), apiStateKey{}, &apiState{key: key, ws: ws,
			scope: app.Scope{WorkspaceID: ws.ID, APIKeyID: key.ID}})))
	}
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
// client network's budget and answers the one 401 every such key gets
// (missing, malformed, unknown, revoked, expired), or the 429 once the
// budget is spent.
func (s *Server) apiUnauthorized(api huma.API, ctx huma.Context, network string) {
	lc, err := s.Limiter.apiBadKeys.Get(ctx.Context(), network)
	if err == nil && lc.Reached {
		s.apiBadKeysRefuse(api, ctx, lc)
		return
	}
	ctx.SetHeader("WWW-Authenticate", `Bearer realm="api"`)
	_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, app.ErrAPIKeyInvalid.Message)
}

// apiBadKeysAllow refuses, before any lookup, a request from a client
// network that has spent its budget of requests without a usable key. A
// failing limiter store lets the request go on: the per-key limit and the
// 401 still hold.
func (s *Server) apiBadKeysAllow(api huma.API, ctx huma.Context, network string) bool {
	lc, err := s.Limiter.apiBadKeys.Peek(ctx.Context(), network)
	if err != nil || !lc.Reached {
		return true
	}
	s.apiBadKeysRefuse(api, ctx, lc)
	return false
}

func (s *Server) apiBadKeysRefuse(api huma.API, ctx huma.Context, lc limiter.Context) {
	s.Logger.WarnContext(ctx.Context(), "api invalid key limit reached", "request_id", requestIDFrom(ctx.Context()), "limit", lc.Limit)
	ctx.SetHeader("Retry-After", strconv.FormatInt(max(1, lc.Reset-time.Now().Unix()), 10))
	_ = huma.WriteErr(api, ctx, http.StatusTooManyRequests, "Too many requests without a valid API key came from your network. Please wait and try again.")
}

// apiLimitAllows counts the request against its key's budget and writes
// the RateLimit headers (and Retry-After with a 429 when it is spent).
func (s *Server) apiLimitAllows(api huma.API, ctx huma.Context, key *app.APIKey) bool {
	lc, err := s.Limiter.api.Get(ctx.Context(), "apikey:"+strconv.FormatInt(key.ID, 10))
	if err != nil {
		s.Logger.ErrorContext(ctx.Context(), "rate limiter unavailable", "request_id", requestIDFrom(ctx.Context()), "error", err.Error())
		ctx.SetHeader("Retry-After", "30")
		_ = huma.WriteErr(api, ctx, http.StatusServiceUnavailable, "We cannot take this request right now. Please try again in a moment.")
		return false
	}
	setAPILimitHeaders(ctx, lc, time.Now())
	if lc.Reached {
		s.Logger.WarnContext(ctx.Context(), "api rate limit reached", "request_id", requestIDFrom(ctx.Context()),
			"api_key_id", key.ID, "limit", lc.Limit)
		_ = huma.WriteErr(api, ctx, http.StatusTooManyRequests, "This API key has sent too many requests. Please wait and try again.")
		return false
	}
	return true
}

// setAPILimitHeaders writes the RateLimit-* headers of the IETF draft
// (remaining budget and seconds until it resets), and Retry-After when the
// limit is reached.
func setAPILimitHeaders(ctx huma.Context, lc limiter.Context, now time.Time) {
	reset := max(0, lc.Reset-now.Unix())
	ctx.SetHeader("RateLimit-Limit", strconv.FormatInt(lc.Limit, 10))
	ctx.SetHeader("RateLimit-Remaining", strconv.FormatInt(lc.Remaining, 10))
	ctx.SetHeader("RateLimit-Reset", strconv.FormatInt(reset, 10))
	ctx.SetHeader("RateLimit-Policy", strconv.FormatInt(lc.Limit, 10)+";w=60")
	if lc.Reached {
		ctx.SetHeader("Retry-After", strconv.FormatInt(max(1, reset), 10))
	}
}

// apiError turns a service error into a problem: an app.Error keeps its
// message (and field), anything else is logged and answered as a 500
// without detail.
func (s *Server) apiError(ctx context.Context, err error) error {
	var re *app.RetryError
	if errors.As(err, &re) {
		return &apiRetry{ErrorModel: &huma.ErrorModel{Status: http.StatusTooManyRequests,
			Title: http.StatusText(http.StatusTooManyRequests), Detail: re.Message(s.Now(), time.UTC)},
			after: max(1, int64(re.At.Sub(s.Now()).Seconds()+0.5))}
	}
	code := app.ErrorCode(err)
	if code == app.EINTERNAL {
		return huma.NewError(http.StatusInternalServerError, s.apiInternal(ctx, err))
	}
	status := statusOf(code)
	if code == app.EINVALID {
		status = http.StatusUnprocessableEntity
	}
	if f := app.ErrorField(err); f != "" {
		return huma.NewError(status, app.ErrorMessage(err), &huma.ErrorDetail{Message: app.ErrorMessage(err), Location: "body." + f})
	}
	return huma.NewError(status, app.ErrorMessage(err))
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

// apiRetry is a 429 problem with the time to wait.
type apiRetry struct {
	*huma.ErrorModel
	after int64
}

// GetHeaders sets Retry-After on the response.
func (e *apiRetry) GetHeaders() http.Header {
	return http.Header{"Retry-After": {strconv.FormatInt(e.after, 10)}}
}

// apiProblem answers a request no operation matched with a problem.
func apiProblem(status int, detail string) http.HandlerFunc {
	body, _ := json.Marshal(&huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: detail})
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}
