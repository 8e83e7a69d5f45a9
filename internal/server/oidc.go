package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/internal/oidc"
	"atrium/web/page"
)

// Sign-in with an identity provider (Google, Microsoft, GitHub, any
// OpenID Connect issuer; internal/oidc). The start is a POST inside the
// CSRF group; it stores the request's state, nonce and PKCE verifier in a
// single-use auth_challenges row named by the state's hash, and gives the
// browser the state in a cookie. The callback, a GET the provider sends
// the browser to, uses the row up and must come with that same cookie:
// state is its CSRF defence, so a callback URL made by someone else (a
// login CSRF) or replayed signs nobody in.

// oidcCookie is the cookie holding the state of the browser's request in
// flight; it is sent back on the provider's top-level redirect (Lax).
const oidcCookie = "atrium_oidc"

// oidcFlight is what the challenge row keeps of a request in flight.
type oidcFlight struct {
	Provider string `json:"provider"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next,omitempty"`
	// Workspace is the workspace whose own identity provider the request
	// went to (sso_signin.go); 0 for a configured provider. Email is the
	// address typed, for the problem page's email link.
	Workspace int64  `json:"workspace,omitempty"`
	Email     string `json:"email,omitempty"`
}

// providerButtons returns the configured providers as buttons.
func (s *Server) providerButtons() []page.ProviderButton {
	var out []page.ProviderButton
	for _, p := range s.providers.Providers() {
		out = append(out, page.ProviderButton{Name: p.Name(), Label: p.Label()})
	}
	return out
}

// handleOIDCStart handles "POST /auth/oidc/{provider}/start": it sends the
// browser to the provider to sign in.
func (s *Server) handleOIDCStart(w http.ResponseWriter, r *http.Request) {
	s.startOIDC(w, r, 0, app.SafeNext(r.PostFormValue("next"), ""))
}

// handleIdentityLink handles "POST /settings/account/identities/{provider}/link":
// it sends a signed-in user, who proved who they are recently, to the
// provider to link an account there to theirs.
func (s *Server) handleIdentityLink(w http.ResponseWriter, r *http.Request) {
	if !s.recentlyVerified(w, r, accountIdentities) {
		return
	}
	s.startOIDC(w, r, app.PrincipalFromContext(r.Context()).User.ID, accountIdentities)
}

// accountIdentities is the account page's linked accounts.
const accountIdentities = "/settings/account#identities"

// startOIDC stores a request in flight for userID (0 for a sign-in) and
// redirects to the provider.
func (s *Server) startOIDC(w http.ResponseWriter, r *http.Request, userID int64, next string) {
	p, ok := s.providers.Provider(chi.URLParam(r, "provider"))
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	req := oidc.NewRequest()
	dest, err := p.AuthCodeURL(r.Context(), req)
	if err != nil {
		s.oidcProblem(w, r, err, "")
		return
	}
	data, err := json.Marshal(oidcFlight{Provider: p.Name(), Nonce: req.Nonce, Verifier: req.Verifier, Next: next})
	if err != nil {
		s.Error(w, r, fmt.Errorf("encode oidc request: %w", err))
		return
	}
	if err := s.TwoFactor.SaveChallenge(r.Context(), app.Challenge{TokenHash: app.HashToken(req.State), Purpose: app.PurposeOIDC,
		UserID: userID, Data: data, ExpiresAt: s.Now().Add(app.OIDCTTL)}); err != nil {
		s.Error(w, r, err)
		return
	}
	setCookie(w, &http.Cookie{Name: s.hostCookie(oidcCookie), Value: req.State, Path: "/",
		MaxAge: int(app.OIDCTTL / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// The callback's refusals.
var (
	errOIDCStateGone = &app.Error{Code: app.EINVALID,
		Message: "This sign-in attempt expired or was already used. Start again from the sign-in page."}
	errOIDCOtherBrowser = &app.Error{Code: app.EINVALID,
		Message: "This sign-in was not started in this browser, so it can’t finish here. Start again from the sign-in page."}
	errOIDCLinkSession = &app.Error{Code: app.EINVALID,
		Message: "You are no longer signed in as the person who asked to link this account. Sign in and try again."}
)

// takenFlight is a sign-in request in flight, used up by its callback.
type takenFlight struct {
	oidcFlight
	// state is the callback's state, the request's key.
	state string
	// userID is who asked to link an identity (0 for a sign-in).
	userID int64
}

// takeFlight uses up the sign-in request in flight that the callback's
// state names, whatever happens next, and returns it when this browser
// started it; otherwise it has answered with a sentence.
func (s *Server) takeFlight(w http.ResponseWriter, r *http.Request) (*takenFlight, bool) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	state := r.URL.Query().Get("state")
	setCookie(w, &http.Cookie{Name: s.hostCookie(oidcCookie), Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode})
	if !app.ValidTokenSyntax(state) {
		s.oidcProblem(w, r, errOIDCStateGone, "")
		return nil, false
	}
	ch, err := s.TwoFactor.TakeChallenge(r.Context(), app.HashToken(state), app.PurposeOIDC)
	if app.ErrorCode(err) == app.ENOTFOUND {
		s.oidcProblem(w, r, errOIDCStateGone, "")
		return nil, false
	} else if err != nil {
		s.Error(w, r, err)
		return nil, false
	}
	ck, cerr := r.Cookie(s.hostCookie(oidcCookie))
	if cerr != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(state)) != 1 {
		s.oidcProblem(w, r, errOIDCOtherBrowser, "")
		return nil, false
	}
	f := &takenFlight{state: state, userID: ch.UserID}
	if err := json.Unmarshal(ch.Data, &f.oidcFlight); err != nil {
		s.Error(w, r, fmt.Errorf("decode sign-in request: %w", err))
		return nil, false
	}
	return f, true
}

// handleOIDCCallback handles "GET /auth/oidc/{provider}/callback": the
// provider's answer. It uses up the request in flight whatever happens
// next, then signs in (or links) the identity the provider vouches for.
func (s *Server) handleOIDCCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, ok := s.takeFlight(w, r)
	if !ok {
		return
	}
	p, ok := s.providers.Provider(chi.URLParam(r, "provider"))
	if !ok || p.Name() != f.Provider || f.Workspace != 0 {
		s.oidcProblem(w, r, errOIDCStateGone, "")
		return
	}
	if e := q.Get("error"); e != "" {
		s.oidcProblem(w, r, providerDeclined(p.Label(), e), "")
		return
	}
	id, err := p.Exchange(r.Context(), q.Get("code"), oidc.Request{State: f.state, Nonce: f.Nonce, Verifier: f.Verifier})
	if err != nil {
		s.oidcProblem(w, r, err, "")
		return
	}
	if f.userID != 0 {
		s.finishIdentityLink(w, r, f.userID, id, p.Label())
		return
	}
	s.finishOIDCSignIn(w, r, id, f.Next)
}

// providerDeclined is the error of a provider answering with an error
// instead of a code (the person cancelled, or the app is not allowed).
func providerDeclined(label, code string) error {
	if code == "access_denied" {
		return app.Errorf(app.EFORBIDDEN, "Signing in with %s was cancelled, so you are not signed in.", label)
	}
	return app.Errorf(app.EUNAUTHORIZED, "%s did not sign you in (it answered “%s”). Try again, or sign in with an email link.",
		label, app.SanitizeHeader(code, 40))
}

// finishOIDCSignIn signs the identity in as the magic link does: a
// session, or the second-factor step for a user with one.
func (s *Server) finishOIDCSignIn(w http.ResponseWriter, r *http.Request, id *app.ExternalIdentity, next string) {
	sessToken, ns := s.newSession(r)
	pendingToken, pendingHash := app.NewToken()
	ns.PendingHash = pendingHash
	res, err := s.Identities.SignInWithIdentity(r.Context(), *id, next, ns)
	switch {
	case errors.Is(err, app.ErrSecondFactorRequired):
		s.setPendingCookie(w, pendingToken)
		redirect(w, r, "/login/two-factor")
		return
	case errors.Is(err, app.ErrIdentityEmailUnverified):
		s.Logger.InfoContext(r.Context(), "identity sign-in refused: email not verified", "request_id", requestIDFrom(r.Context()),
			"provider", id.Provider, "email", app.MaskEmail(id.Email))
		s.oidcProblem(w, r, err, id.Email)
		return
	case err != nil:
		s.Error(w, r, err)
		return
	}
	s.setSessionCookie(w, sessToken)
	lt := &app.LoginToken{Email: res.User.Email, Next: next, NewUser: res.NewUser}
	redirect(w, r, s.afterFirstSignIn(w, res.User, lt, app.SafeNext(next, appHome)))
}

// finishIdentityLink links the identity to the user who asked, who must
// still be the one signed in.
func (s *Server) finishIdentityLink(w http.ResponseWriter, r *http.Request, userID int64, id *app.ExternalIdentity, label string) {
	pr := app.PrincipalFromContext(r.Context())
	if pr == nil || pr.User.ID != userID {
		s.oidcProblem(w, r, errOIDCLinkSession, "")
		return
	}
	_, err := s.Identities.LinkIdentity(r.Context(), userID, *id)
	switch code := app.ErrorCode(err); {
	case err == nil:
		s.setFlash(w, "success", i18n.T(r.Context(), "oidc.linked", "Provider", label))
	case code == app.ECONFLICT:
		s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
	default:
		s.Error(w, r, err)
		return
	}
	redirect(w, r, accountIdentities)
}

// oidcProblem renders why a provider sign-in failed; email is the
// unverified address to offer a sign-in link to. Internal errors get the
// error page; a provider's failure is logged with its detail.
func (s *Server) oidcProblem(w http.ResponseWriter, r *http.Request, err error, email string) {
	var f *oidc.Failure
	if errors.As(err, &f) {
		s.Logger.WarnContext(r.Context(), "identity provider sign-in failed", "request_id", requestIDFrom(r.Context()),
			"route", routeOf(r), "error", f.Detail.Error())
	}
	var appErr *app.Error
	if !errors.As(err, &appErr) || appErr.Code == app.EINTERNAL {
		s.Error(w, r, err)
		return
	}
	ctx := r.Context()
	v := page.OIDCProblemView{Title: i18n.T(ctx, "oidc.problem.title"), Message: i18n.ErrorText(ctx, appErr)}
	status := statusOf(appErr.Code)
	switch {
	case errors.Is(err, app.ErrIdentityEmailUnverified):
		v.Title, v.Email, v.Unverified = i18n.T(ctx, "oidc.problem.title_unverified"), email, true
	case appErr.Code == app.EUNAVAILABLE:
		v.Title = i18n.T(ctx, "oidc.problem.title_unavailable")
	}
	if status < 400 || status >= 500 && status != http.StatusServiceUnavailable {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, page.OIDCProblem(s.page(w, r, v.Title), v))
}

// identitiesView builds the account page's linked accounts.
func (s *Server) identitiesView(r *http.Request, user *app.User) (page.IdentitiesView, error) {
	ids, err := s.Identities.FindIdentities(r.Context(), user.ID)
	if err != nil {
		return page.IdentitiesView{}, err
	}
	v := page.IdentitiesView{Providers: s.providerButtons()}
	if !app.PrincipalFromContext(r.Context()).RecentlyVerified(s.Now()) {
		v.ConfirmURL = reauthURL(accountIdentities)
	}
	for _, i := range ids {
		row := page.IdentityRow{ID: i.ID, Provider: s.providerLabel(r.Context(), i.Provider), Email: i.Email,
			Linked: s.formatTime(r.Context(), i.CreatedAt, user.TimeZone)}
		if i.LastUsedAt != nil {
			row.LastUsed = s.formatTime(r.Context(), *i.LastUsedAt, user.TimeZone)
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

// providerLabel returns the display name of a provider, or its name when
// it is no longer configured.
func (s *Server) providerLabel(ctx context.Context, name string) string {
	if strings.HasPrefix(name, "sso-") {
		return i18n.T(ctx, "oidc.sso_label")
	}
	if p, ok := s.providers.Provider(name); ok {
		return p.Label()
	}
	return name
}

// handleIdentityUnlink handles "POST /settings/account/identities/{identityID}/unlink",
// confirmed.
func (s *Server) handleIdentityUnlink(w http.ResponseWriter, r *http.Request) {
	pr := app.PrincipalFromContext(r.Context())
	id, ok := idParam(r, "identityID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	ids, err := s.Identities.FindIdentities(r.Context(), pr.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var found *app.Identity
	for _, i := range ids {
		if i.ID == id {
			found = i
		}
	}
	if found == nil {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	row := page.IdentityRow{Provider: s.providerLabel(r.Context(), found.Provider), Email: found.Email}
	if !s.confirmed(w, r, s.inAccount(w, r), page.ConfirmUnlinkIdentity(r.Context(), id, row.Account(r.Context()))) {
		return
	}
	if _, err := s.Identities.UnlinkIdentity(r.Context(), pr.User.ID, id); err != nil {
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "oidc.unlinked", "Account", row.Account(r.Context())))
	redirect(w, r, accountIdentities)
}
