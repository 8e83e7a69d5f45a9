package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

type ctxKey int

const stateKey ctxKey = 1

// requestState is what the outer middleware learns from the inner ones:
// the request id and, once the session is loaded, the user.
type requestState struct {
	id     string
	userID int64
	// clientGone is set when the request ended because the client went
	// away; it is logged as status 499.
	clientGone bool
}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey).(*requestState)
	return st
}

func requestIDFrom(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.id
	}
	return ""
}

// newRequestID returns 16 hex digits of randomness (one allocation: the
// string).
func newRequestID() string {
	var b [8]byte
	var h [16]byte
	_, _ = rand.Read(b[:])
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests gives each request an id (answered as X-Request-Id), puts the
// audit details in the context, and writes one JSON log line when it ends.
// The line holds the route with any token in it redacted, never the query
// string, cookies or form values.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &requestState{id: newRequestID()}
		w.Header().Set("X-Request-Id", st.id)
		ctx := context.WithValue(r.Context(), stateKey, st)
		// The user agent and address reach sessions and audit rows from
		// here only, so they are made valid text here.
		ctx = app.WithRequestMeta(ctx, app.RequestMeta{
			RequestID: st.id, IP: app.SanitizeHeader(s.Limiter.ClientIP(r).String(), 64),
			UserAgent: app.SanitizeHeader(r.UserAgent(), app.MaxUserAgentLength),
		})
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		next.ServeHTTP(sw, r)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		if st.clientGone || sw.status == 0 && clientGone(r) {
			status = statusClientClosedRequest
		}
		level := slog.LevelInfo
		if status >= 500 && status != statusClientClosedRequest {
			level = slog.LevelError
		}
		s.Logger.LogAttrs(ctx, level, "request",
			slog.String("request_id", st.id),
			slog.String("method", r.Method),
			slog.String("path", loggablePath(r)),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int("bytes", sw.bytes),
			slog.Int64("user_id", st.userID),
			slog.String("ip", app.RequestMetaFromContext(ctx).IP),
		)
	})
}

// loggablePath returns the request path with every segment that holds a
// token-shaped run (see tokenShaped) and the value of any {token} route
// parameter replaced, whatever route matched or did not, so that secrets
// in paths (sign-in and invite links, API keys, a token with a character
// added) never reach the log.
func loggablePath(r *http.Request) string {
	p := r.URL.Path
	if rc := chi.RouteContext(r.Context()); rc != nil {
		for i, k := range rc.URLParams.Keys {
			if k == "token" && i < len(rc.URLParams.Values) && rc.URLParams.Values[i] != "" {
				// chi matches on the escaped path when the request has
				// escapes ("%41bc…"), so decode the value to find it in Path.
				v := rc.URLParams.Values[i]
				if u, err := url.PathUnescape(v); err == nil && u != "" {
					v = u
				}
				p = strings.ReplaceAll(p, v, "[redacted]")
			}
		}
	}
	if !hasTokenSegment(p) {
		return p // most paths: no copy
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		if tokenShaped(seg) {
			segs[i] = "[redacted]"
		}
	}
	return strings.Join(segs, "/")
}

// tokenRunMin is the shortest run of URL-safe base64 characters taken for
// (part of) a secret: a token is 43 of them, an API key "atr_" and 43, and
// a path segment or slug of the app's own has no run this long that is
// not slug-shaped.
const tokenRunMin = 20

// tokenShaped reports whether seg holds a run of at least tokenRunMin
// URL-safe base64 characters, whatever surrounds it, unless seg is shaped
// like a workspace slug (lowercase letters, digits, single dashes), which
// a random token is not but for odds of about 1 in 10^9.
func tokenShaped(seg string) bool {
	if len(seg) < tokenRunMin || app.ValidSlugSyntax(seg) {
		return false
	}
	run := 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			if run++; run >= tokenRunMin {
				return true
			}
			continue
		}
		run = 0
	}
	return false
}

// hasTokenSegment reports whether a segment of p looks like it holds a
// token.
func hasTokenSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if tokenShaped(seg) {
			return true
		}
	}
	return false
}

// routeOf returns the matched route pattern, or the path.
func routeOf(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return loggablePath(r)
}

// recoverPanics turns a panic into a logged 500 page.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.Logger.ErrorContext(r.Context(), "panic", "request_id", requestIDFrom(r.Context()),
				"route", routeOf(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			s.errorPage(w, r, http.StatusInternalServerError, "")
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every response carries. The CSP allows
// no inline script or style and no framing.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	hsts := s.Config.SecureCookies()
	formAction := "'self'"
	if s.Stripe != nil {
		// Checkout and the Customer Portal are reached by a redirect after a
		// form post, which browsers check against form-action.
		formAction += " https://checkout.stripe.com https://billing.stripe.com"
	}
	// "Sign in with …" is a form post answered by a redirect to the
	// identity provider (oidc.go).
	for _, origin := range s.providers.Origins() {
		formAction += " " + origin
	}
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
		"connect-src 'self'; form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin refuses state-changing requests from other origins (CSRF)
// with Go's CrossOriginProtection, answering with the 403 page.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Logger.WarnContext(r.Context(), "cross-origin request refused", "request_id", requestIDFrom(r.Context()),
			"method", r.Method, "path", loggablePath(r), "origin", r.Header.Get("Origin"))
		s.errorPage(w, r, http.StatusForbidden, i18n.T(r.Context(), "errorpage.cross_origin"))
	}))
	return cop.Handler(next)
}

// loadSession reads the session cookie and, when it names a live session,
// puts the principal in the request context. One indexed query.
func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := s.sessionToken(r)
		if token == "" {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.Auth.Authenticate(r.Context(), app.HashToken(token))
		switch {
		case app.ErrorCode(err) == app.EUNAUTHORIZED:
			s.clearSessionCookie(w)
		case err != nil:
			s.Error(w, r, err)
			return
		default:
			if st := stateFrom(r.Context()); st != nil {
				st.userID = p.User.ID
			}
			if time.Until(p.Session.ExpiresAt) > app.SessionTTL-time.Minute {
				// The session was just renewed: extend the cookie with it.
				s.setSessionCookie(w, token)
			}
			r = r.WithContext(app.WithPrincipal(r.Context(), p))
			r = s.withLocale(w, r, p.User.Language, p.User.TimeZone)
		}
		next.ServeHTTP(w, r)
	})
}

// requireUser sends anonymous visitors to the sign-in page, keeping where
// they were going.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if app.PrincipalFromContext(r.Context()) == nil {
			to := "/login"
			if r.Method == http.MethodGet && r.URL.RequestURI() != "/" {
				to += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			redirect(w, r, to)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sessionToken returns the session cookie's token when it is well formed.
func (s *Server) sessionToken(r *http.Request) string {
	c, err := r.Cookie(s.sessionCookie)
	if err != nil || !app.ValidTokenSyntax(c.Value) {
		return ""
	}
	return c.Value
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	setCookie(w, &http.Cookie{Name: s.sessionCookie, Value: token, Path: "/",
		MaxAge: int(app.SessionTTL / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	setCookie(w, &http.Cookie{Name: s.sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// setCookie sets c in place of any cookie of the same name set earlier in
// this response: middleware may renew a cookie that the handler then
// clears, and a response should say one thing about each cookie.
func setCookie(w http.ResponseWriter, c *http.Cookie) {
	h := w.Header()
	prefix := c.Name + "="
	var kept []string
	for _, v := range h.Values("Set-Cookie") {
		if !strings.HasPrefix(v, prefix) {
			kept = append(kept, v)
		}
	}
	h.Del("Set-Cookie")
	for _, v := range kept {
		h.Add("Set-Cookie", v)
	}
	http.SetCookie(w, c)
}

// headAsGet answers HEAD wherever GET is answered: link checkers and mail
// scanners send HEAD before following a link. No route registers HEAD
// itself, so every HEAD is routed as a GET (net/http drops the body); the
// GET handlers change nothing a HEAD must not. chi's middleware.GetHead
// does the same after a look-ahead that wrongly finds a HEAD route at the
// root of a mounted router, which left HEAD /w/{slug} answering 405.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			if rc := chi.RouteContext(r.Context()); rc != nil {
				rc.RouteMethod = http.MethodGet
			}
		}
		next.ServeHTTP(w, r)
	})
}

// maxFormBody caps a browser request's body; Atrium's forms are tiny.
const maxFormBody = 256 << 10

// limitBody caps request bodies so an oversized post cannot tie up memory;
// the form then parses as empty and fails validation with a 4xx.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		}
		next.ServeHTTP(w, r)
	})
}
