package server

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/internal/mail"
	"atrium/web/page"
)

// appHome is where a signed-in user lands when no other page was asked for.
const appHome = "/app"

// handleLoginShow handles "GET /login". A signed-in user goes straight on.
func (s *Server) handleLoginShow(w http.ResponseWriter, r *http.Request) {
	next := app.SafeNext(r.URL.Query().Get("next"), "")
	if app.PrincipalFromContext(r.Context()) != nil {
		redirect(w, r, app.SafeNext(next, appHome))
		return
	}
	// An invite link sends its invitee here with their address filled in.
	email, _ := app.NormalizeEmail(r.URL.Query().Get("email"))
	s.render(w, r, http.StatusOK, page.Login(s.page(w, r, i18n.T(r.Context(), "auth.login.title")), page.LoginView{Email: email, Next: next, Providers: s.providerButtons(),
		EmailLink: r.URL.Query().Get("via") == "link"}))
}

// handleLoginCreate handles "POST /login": it emails a magic link. The answer
// is the same whether or not an account exists for the address.
func (s *Server) handleLoginCreate(w http.ResponseWriter, r *http.Request) {
	raw := r.PostFormValue("email")
	next := app.SafeNext(r.PostFormValue("next"), "")
	email, err := app.NormalizeEmail(raw)
	if err != nil {
		v := page.LoginView{Email: strings.TrimSpace(raw), EmailError: i18n.ErrorText(r.Context(), err), Next: next, Providers: s.providerButtons(),
			EmailLink: r.PostFormValue("via") == "link"}
		s.render(w, r, http.StatusUnprocessableEntity, page.Login(s.page(w, r, i18n.T(r.Context(), "auth.login.title")), v))
		return
	}
	// An address in a domain a workspace verified signs in through that
	// workspace's identity provider, unless an email link is asked for.
	if r.PostFormValue("via") != "link" && s.routeToWorkspaceIdP(w, r, email, next) {
		return
	}
	// The 429 budget is per address and client network and is counted
	// first, so a stranger cannot lock someone out from a few networks;
	// the per-address ceiling over all networks, much higher, stops an
	// inbox being flooded from many. Past it no email goes, and the person
	// asking is told so rather than waiting for one.
	networkKey, addressKey := s.Limiter.loginKeys(r, email)
	lc, err := s.Limiter.login.Get(r.Context(), networkKey)
	if !s.limitAllows(w, r, lc, err) {
		return
	}
	if ceiling, err := s.Limiter.loginAddress.Get(r.Context(), addressKey); err != nil || ceiling.Reached {
		if err != nil {
			s.Logger.ErrorContext(r.Context(), "rate limiter unavailable", "request_id", requestIDFrom(r.Context()), "error", err.Error())
			redirect(w, r, "/login/sent?email="+url.QueryEscape(email))
			return
		}
		s.Logger.WarnContext(r.Context(), "sign-in emails for address capped", "request_id", requestIDFrom(r.Context()),
			"email", app.MaskEmail(email), "limit", ceiling.Limit)
		wait := max(1, int(math.Ceil(time.Until(time.Unix(ceiling.Reset, 0)).Minutes())))
		s.setFlash(w, "error", i18n.T(r.Context(), "auth.login.capped", "Email", email, "Limit", ceiling.Limit,
			"Window", int(s.Config.LoginRateLimitWindow.Minutes()), "Wait", wait))
		redirect(w, r, "/login?email="+url.QueryEscape(email))
		return
	}
	token, hash := app.NewToken()
	link := s.Config.AppURL.String() + "/auth/verify?token=" + url.QueryEscape(token)
	req := app.LoginRequest{Email: email, TokenHash: hash, Next: next, ExpiresAt: s.Now().Add(app.LoginTokenTTL)}
	if err := s.Auth.CreateLoginRequest(r.Context(), req, mail.MagicLinkEmail(s.mailPrinterTo(r.Context(), email), s.Config.AppName, email, link)); err != nil {
		s.Error(w, r, err)
		return
	}
	s.Logger.InfoContext(r.Context(), "magic link requested", "request_id", requestIDFrom(r.Context()), "email", app.MaskEmail(email))
	redirect(w, r, "/login/sent?email="+url.QueryEscape(email))
}

// handleLoginSent handles "GET /login/sent", the "check your email" page.
func (s *Server) handleLoginSent(w http.ResponseWriter, r *http.Request) {
	email, err := app.NormalizeEmail(r.URL.Query().Get("email"))
	if err != nil {
		email = ""
	}
	s.render(w, r, http.StatusOK, page.CheckEmail(s.page(w, r, i18n.T(r.Context(), "auth.check_email.title")), page.CheckEmailView{Email: email,
		MailInLog: s.Config.IsDevelopment() && s.Config.MailStub()}))
}

// handleVerifyShow handles "GET /auth/verify?token=…". It only shows a
// button: mail scanners that fetch links must not use up the token.
func (s *Server) handleVerifyShow(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	token := r.URL.Query().Get("token")
	if !app.ValidTokenSyntax(token) {
		s.linkProblem(w, r, app.ErrLoginLinkInvalid)
		return
	}
	lt, err := s.Auth.FindLoginToken(r.Context(), app.HashToken(token))
	if err != nil {
		s.linkProblem(w, r, err)
		return
	}
	v := page.VerifyView{Email: lt.Email, Token: token, Next: lt.Next}
	s.render(w, r, http.StatusOK, page.Verify(s.page(w, r, i18n.T(r.Context(), "auth.verify.title")), v))
}

// handleVerify handles "POST /auth/verify": it uses the token, starts a fresh
// session (ending any session the browser held before) and goes on to the
// link's safe local destination. A user with a second factor goes to
// "/login/two-factor" first, with no session yet; a user the sign-in
// created is asked for a name on the way (welcome.go).
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	if !app.ValidTokenSyntax(token) {
		s.linkProblem(w, r, app.ErrLoginLinkInvalid)
		return
	}
	sessToken, ns := s.newSession(r)
	if tz := r.PostFormValue("tz"); validTimeZone(tz) {
		ns.TimeZone = tz // filled in by app.js from the browser
	}
	pendingToken, pendingHash := app.NewToken()
	ns.PendingHash = pendingHash
	u, lt, err := s.Auth.CompleteLogin(r.Context(), app.HashToken(token), ns)
	if errors.Is(err, app.ErrSecondFactorRequired) {
		// The link is used; the session waits for the second factor.
		s.setPendingCookie(w, pendingToken)
		redirect(w, r, "/login/two-factor")
		return
	}
	if err != nil {
		s.linkProblem(w, r, err)
		return
	}
	s.setSessionCookie(w, sessToken)
	redirect(w, r, s.afterFirstSignIn(w, u, lt, app.SafeNext(lt.Next, appHome)))
}

// linkProblem renders the page for an unusable sign-in link, or the error
// page for any other failure.
func (s *Server) linkProblem(w http.ResponseWriter, r *http.Request, err error) {
	var reason string
	var status int
	switch {
	case errors.Is(err, app.ErrLoginLinkExpired):
		reason, status = "expired", http.StatusGone
	case errors.Is(err, app.ErrLoginLinkUsed):
		reason, status = "used", http.StatusGone
	case errors.Is(err, app.ErrLoginLinkInvalid):
		reason, status = "invalid", http.StatusNotFound
	default:
		s.Error(w, r, err)
		return
	}
	s.render(w, r, status, page.LinkProblem(s.page(w, r, i18n.T(r.Context(), "auth.link_problem.page_title")), page.LinkProblemView{Reason: reason}))
}

// handleLogout handles "POST /logout".
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if token := s.sessionToken(r); token != "" {
		if err := s.Auth.SignOut(r.Context(), app.HashToken(token)); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w)
	s.setFlash(w, "info", i18n.T(r.Context(), "auth.signed_out"))
	redirect(w, r, "/login")
}
