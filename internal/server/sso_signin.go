package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/internal/oidc"
	"atrium/web/page"
)

// Sign-in through a workspace's own identity provider (single sign-on).
// The sign-in page sends an address in a domain a workspace verified to
// that workspace's provider; the request in flight is stored as for the
// configured providers (state, nonce and PKCE verifier in a single-use
// auth_challenges row named by the state's hash, the state in a cookie),
// naming the workspace, and comes back to /auth/sso/callback, apart from
// the configured providers' callbacks. requireSSOPolicy walks members who
// must use it there before any workspace page.

// ssoLabel names a workspace's provider to people, in the language of
// ctx.
func ssoLabel(ctx context.Context, conn *app.SSOConnection) string {
	return i18n.T(ctx, "sso.signin.provider", "Workspace", conn.WorkspaceName)
}

// workspaceProvider returns the provider of a connection, named in the
// language of ctx.
func (s *Server) workspaceProvider(ctx context.Context, conn *app.SSOConnection) *oidc.Provider {
	return oidc.NewWorkspaceProvider(conn, ssoLabel(ctx, conn), s.Config.AppURL.String(), s.ssoClient)
}

// routeToWorkspaceIdP sends the browser to the identity provider of the
// workspace that verified email's domain and reports whether it did. A
// connection that cannot be read is logged and the email link goes out as
// usual.
func (s *Server) routeToWorkspaceIdP(w http.ResponseWriter, r *http.Request, email, next string) bool {
	conn, err := s.SSO.ConnectionForEmail(r.Context(), email)
	if err != nil {
		s.Logger.ErrorContext(r.Context(), "read sso connection", "request_id", requestIDFrom(r.Context()),
			"email", app.MaskEmail(email), "error", err.Error())
		return false
	}
	if conn == nil {
		return false
	}
	s.startSSO(w, r, conn, email, next)
	return true
}

// startSSO stores a request in flight to the connection's provider and
// redirects there, with the address as its login hint.
func (s *Server) startSSO(w http.ResponseWriter, r *http.Request, conn *app.SSOConnection, email, next string) {
	p := s.workspaceProvider(r.Context(), conn)
	req := oidc.NewRequest()
	req.LoginHint = email
	dest, err := p.AuthCodeURL(r.Context(), req)
	if err != nil {
		s.ssoProblem(w, r, err, email)
		return
	}
	data, err := json.Marshal(oidcFlight{Provider: p.Name(), Nonce: req.Nonce, Verifier: req.Verifier, Next: next,
		Workspace: conn.WorkspaceID, Email: email})
	if err != nil {
		s.Error(w, r, fmt.Errorf("encode sso request: %w", err))
		return
	}
	if err := s.TwoFactor.SaveChallenge(r.Context(), app.Challenge{TokenHash: app.HashToken(req.State), Purpose: app.PurposeOIDC,
		Data: data, ExpiresAt: s.Now().Add(app.OIDCTTL)}); err != nil {
		s.Error(w, r, err)
		return
	}
	setCookie(w, &http.Cookie{Name: s.hostCookie(oidcCookie), Value: req.State, Path: "/",
		MaxAge: int(app.OIDCTTL / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	// A link, not a redirect: form-action allows only this site and the
	// configured providers, and a workspace's provider is neither.
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, http.StatusOK, page.SSOHandoff(s.page(w, r, i18n.T(r.Context(), "sso.handoff.title")),
		page.SSOHandoffView{Workspace: conn.WorkspaceName, URL: dest, Email: email}))
}

// handleSSOStart handles "POST /w/{slug}/sso/start": a member the
// workspace requires single sign-on of goes to its provider, and back to
// the workspace.
func (s *Server) handleSSOStart(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	conn, err := s.SSO.ConnectionFor(r.Context(), sc.ws.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.startSSO(w, r, conn, app.PrincipalFromContext(r.Context()).User.Email, wsPath(sc.ws, "/"))
}

// errSSOOff refuses a callback for a workspace whose single sign-on was
// turned off, or that left the Pro plan, while the person was away.
var errSSOOff = &app.Error{Code: app.EINVALID,
	Message: "Single sign-on for this workspace is no longer set up. Start again from the sign-in page."}

// handleSSOCallback handles "GET /auth/sso/callback": a workspace
// provider's answer. Like the configured providers' callback it uses up
// the request in flight and needs the browser that started it.
func (s *Server) handleSSOCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, ok := s.takeFlight(w, r)
	if !ok {
		return
	}
	if f.Workspace == 0 || f.Provider != oidc.ProviderName(f.Workspace) {
		s.oidcProblem(w, r, errOIDCStateGone, "")
		return
	}
	conn, err := s.SSO.ConnectionFor(r.Context(), f.Workspace)
	if app.ErrorCode(err) == app.ENOTFOUND {
		s.oidcProblem(w, r, errSSOOff, "")
		return
	} else if err != nil {
		s.Error(w, r, err)
		return
	}
	p := s.workspaceProvider(r.Context(), conn)
	if e := q.Get("error"); e != "" {
		s.ssoProblem(w, r, providerDeclined(p.Label(), e), f.Email)
		return
	}
	id, err := p.Exchange(r.Context(), q.Get("code"), oidc.Request{State: f.state, Nonce: f.Nonce, Verifier: f.Verifier})
	if err != nil {
		s.ssoProblem(w, r, err, f.Email)
		return
	}
	s.finishSSOSignIn(w, r, conn, id, f.Next)
}

// finishSSOSignIn signs in the person the workspace's provider vouches
// for: a session naming the workspace, or the second-factor step.
func (s *Server) finishSSOSignIn(w http.ResponseWriter, r *http.Request, conn *app.SSOConnection, id *app.ExternalIdentity, next string) {
	sessToken, ns := s.newSession(r)
	pendingToken, pendingHash := app.NewToken()
	ns.PendingHash = pendingHash
	conn.Limits = s.plans()
	res, err := s.SSO.SignInWithSSO(r.Context(), conn, *id, app.IdPMFA(id.AMR), next, ns)
	switch {
	case errors.Is(err, app.ErrSecondFactorRequired):
		s.setPendingCookie(w, pendingToken)
		redirect(w, r, "/login/two-factor")
		return
	case err != nil:
		var appErr *app.Error
		if errors.As(err, &appErr) && appErr.Code != app.EINTERNAL {
			s.Logger.InfoContext(r.Context(), "sso sign-in refused", "request_id", requestIDFrom(r.Context()),
				"workspace_id", conn.WorkspaceID, "email", app.MaskEmail(id.Email), "error", appErr.Message)
			s.ssoProblem(w, r, err, id.Email)
			return
		}
		s.Error(w, r, err)
		return
	}
	s.setSessionCookie(w, sessToken)
	if res.JoinRefused != "" {
		s.setFlash(w, "error", i18n.T(r.Context(), "sso.signin.join_refused", "Workspace", conn.WorkspaceName, "Reason", res.JoinRefused))
	}
	if res.Joined {
		s.setFlash(w, "success", i18n.T(r.Context(), "sso.signin.joined", "Workspace", conn.WorkspaceName))
		next = app.SafeNext(next, "/w/"+conn.WorkspaceSlug+"/")
	}
	lt := &app.LoginToken{Email: res.User.Email, Next: next, NewUser: res.NewUser}
	redirect(w, r, s.afterFirstSignIn(w, res.User, lt, app.SafeNext(next, appHome)))
}

// ssoProblem renders why a sign-in through a workspace's provider failed;
// its email link asks for a link even for the provider's domain (owners'
// break-glass way in).
func (s *Server) ssoProblem(w http.ResponseWriter, r *http.Request, err error, email string) {
	var f *oidc.Failure
	if errors.As(err, &f) {
		s.Logger.WarnContext(r.Context(), "workspace identity provider sign-in failed", "request_id", requestIDFrom(r.Context()),
			"error", f.Detail.Error())
	}
	var appErr *app.Error
	if !errors.As(err, &appErr) || appErr.Code == app.EINTERNAL {
		s.Error(w, r, err)
		return
	}
	v := page.OIDCProblemView{Title: i18n.T(r.Context(), "sso.signin.problem_title"), Message: i18n.ErrorText(r.Context(), err),
		Email: email, EmailLink: true}
	status := statusOf(appErr.Code)
	if appErr.Code == app.EUNAVAILABLE {
		v.Title = i18n.T(r.Context(), "sso.signin.unavailable_title")
	}
	if status < 400 || status >= 500 && status != http.StatusServiceUnavailable {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, page.OIDCProblem(s.page(w, r, v.Title), v))
}

// requireSSOPolicy keeps out of a workspace that requires single sign-on
// the members whose address is in one of its verified domains and whose
// session did not come from its provider: every route it wraps answers 403
// with the walkthrough to the provider. Owners whose session proved a
// second factor (an email link and their factor) get in all the same,
// recorded once per session in the audit log. The JSON API, with its keys,
// is not behind it.
func (s *Server) requireSSOPolicy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := scopeFrom(r.Context())
		p := app.PrincipalFromContext(r.Context())
		// The requirement lapses on a plan without single sign-on
		// (SSORequired checks it too): such a workspace costs no read here.
		if p.Session.SSOWorkspaceID == sc.ws.ID || !s.Config.Plans.CanUse(sc.ws, app.FeatureSSO) {
			next.ServeHTTP(w, r)
			return
		}
		required, err := s.SSO.SSORequired(r.Context(), sc.ws.ID, p.User.Email)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if !required {
			next.ServeHTTP(w, r)
			return
		}
		owner := sc.m.Role == app.RoleOwner
		if owner && p.User.TwoFactor && p.Session.SecondFactor {
			if err := s.SSO.RecordBreakGlass(r.Context(), sc.scope(), p.Session.ID); err != nil {
				s.Error(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		v := page.SSORequiredView{Workspace: sc.ws.Name, URL: workspaceURL(sc.ws.Slug), Owner: owner,
			OwnerFactor: p.User.TwoFactor, ConfirmURL: reauthURL(wsPath(sc.ws, "/"))}
		s.render(w, r, http.StatusForbidden, page.SSORequired(s.workspacePage(w, r, "", ""), v))
	})
}
