package server

// "Confirm it's you": a change to two-factor sign-in (adding or removing a
// factor, new recovery codes) needs a session that proved who it is within
// app.ReauthWindow, with a second factor when the user has one and a fresh
// sign-in link otherwise; so does a workspace that requires two-factor
// sign-in, for a session that signed in with a link alone. A stolen session
// cookie on its own can do neither.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/internal/mail"
	"atrium/web/page"
)

// reauthPath is the "confirm it's you" page.
const reauthPath = "/settings/account/confirm"

// reauthURL is the "confirm it's you" page that returns to next.
func reauthURL(next string) string {
	return reauthPath + "?next=" + url.QueryEscape(next)
}

// recentlyVerified reports whether this session may change the user's
// second factors now. When it may not, it sends the browser to confirm it's
// them, coming back to next, and the caller changes nothing.
func (s *Server) recentlyVerified(w http.ResponseWriter, r *http.Request, next string) bool {
	if app.PrincipalFromContext(r.Context()).RecentlyVerified(s.Now()) {
		return true
	}
	redirect(w, r, reauthURL(next))
	return false
}

// handleReauthShow handles "GET /settings/account/confirm?next=…".
func (s *Server) handleReauthShow(w http.ResponseWriter, r *http.Request) {
	s.renderReauth(w, r, http.StatusOK, app.SafeNext(r.URL.Query().Get("next"), "/settings/account"), "")
}

func (s *Server) renderReauth(w http.ResponseWriter, r *http.Request, status int, next, codeError string) {
	ctx := r.Context()
	p := app.PrincipalFromContext(ctx)
	st, err := s.TwoFactor.FindTwoFactor(r.Context(), p.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := page.ReauthView{Email: p.User.Email, Next: next, TOTP: st.TOTP, Passkeys: len(st.Passkeys) > 0 && s.webAuthn != nil,
		Factor: st.Enabled(), CodeError: codeError}
	switch {
	case strings.HasPrefix(next, workspacePrefix):
		v.Reason = i18n.T(ctx, "twofactor.reauth.reason_workspace")
	case v.Factor:
		v.Reason = i18n.T(ctx, "twofactor.reauth.reason_factor")
	default:
		v.Reason = i18n.T(ctx, "twofactor.reauth.reason_link")
	}
	if codeError == "" && st.LockedUntil != nil {
		v.CodeError = lockedSentence(ctx, *st.LockedUntil, s.Now())
	}
	pg := s.page(w, r, i18n.T(ctx, "twofactor.reauth.title"))
	pg.Section = "account"
	s.render(w, r, status, page.Reauth(pg, v))
}

// handleReauthCode handles "POST /settings/account/confirm": an
// authenticator or recovery code confirms this session, then the browser
// goes on to next.
func (s *Server) handleReauthCode(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	next := app.SafeNext(r.PostFormValue("next"), "/settings/account")
	code := strings.TrimSpace(r.PostFormValue("code"))
	if _, bad := app.CleanText("code", "code", code, 32); code == "" || bad != nil {
		s.renderReauth(w, r, http.StatusUnprocessableEntity, next, i18n.T(r.Context(), "twofactor.reauth.code_invalid"))
		return
	}
	locked := mail.CodeLockedEmail(s.mailPrinter(r.Context(), p.User.Language), s.Config.AppName, p.User.Email, s.Config.AppURL.String()+"/settings/account")
	err := s.TwoFactor.ConfirmSessionWithCode(r.Context(), p.Session.ID, p.User.ID, code, locked)
	switch {
	case err == nil:
	case errors.Is(err, app.ErrCodeEntryLocked):
		s.renderReauth(w, r, http.StatusTooManyRequests, next, i18n.ErrorText(r.Context(), app.ErrCodeEntryLocked))
		return
	case app.ErrorField(err) == "code":
		s.renderReauth(w, r, http.StatusUnprocessableEntity, next, i18n.ErrorText(r.Context(), err))
		return
	default:
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "twofactor.reauth.confirmed"))
	redirect(w, r, next)
}

// handleReauthPasskeyBegin handles "POST /settings/account/confirm/passkey/begin":
// the options of navigator.credentials.get for the user's own passkeys.
func (s *Server) handleReauthPasskeyBegin(w http.ResponseWriter, r *http.Request) {
	if s.webAuthn == nil {
		s.logPasskeysOff(r)
		s.passkeyProblem(w, r, errPasskeysUnavailable)
		return
	}
	p := app.PrincipalFromContext(r.Context())
	u, err := s.webAuthnUser(r.Context(), &p.User)
	if err != nil {
		s.passkeyProblem(w, r, err)
		return
	}
	if len(u.creds) == 0 {
		s.passkeyProblem(w, r, app.ErrPasskeyUnknown)
		return
	}
	assertion, session, err := s.webAuthn.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		s.passkeyProblem(w, r, fmt.Errorf("begin passkey confirmation: %w", err))
		return
	}
	c := ceremony{Session: *session, Next: app.SafeNext(r.PostFormValue("next"), "/settings/account")}
	if err := s.startCeremony(w, r, app.PurposePasskeyConfirm, p.User.ID, c); err != nil {
		s.passkeyProblem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, assertion)
}

// handleReauthPasskey handles "POST /settings/account/confirm/passkey": a
// verified assertion by one of the user's own passkeys confirms this
// session.
func (s *Server) handleReauthPasskey(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	next := app.SafeNext(r.PostFormValue("next"), "/settings/account")
	if s.webAuthn == nil {
		s.logPasskeysOff(r)
		s.renderReauth(w, r, http.StatusServiceUnavailable, next, i18n.ErrorText(r.Context(), errPasskeysUnavailable))
		return
	}
	ch, c, err := s.takeCeremony(w, r, app.PurposePasskeyConfirm)
	if err == nil && ch.UserID != p.User.ID {
		err = errCeremonyGone
	}
	if err != nil {
		s.reauthPasskeyFailed(w, r, next, err)
		return
	}
	next = app.SafeNext(c.Next, next)
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(r.PostFormValue("credential")))
	if err != nil {
		s.reauthPasskeyFailed(w, r, next, errPasskeyUnreadable)
		return
	}
	u, err := s.webAuthnUser(r.Context(), &p.User)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	cred, err := s.webAuthn.ValidateLogin(u, c.Session, parsed)
	switch {
	case err != nil:
		s.reauthPasskeyFailed(w, r, next, s.assertionError(r, err))
		return
	case cred.Authenticator.CloneWarning:
		s.reauthPasskeyFailed(w, r, next, errPasskeyCloned)
		return
	}
	data, err := json.Marshal(cred)
	if err != nil {
		s.Error(w, r, fmt.Errorf("encode passkey: %w", err))
		return
	}
	if err := s.TwoFactor.ConfirmSessionWithPasskey(r.Context(), p.Session.ID, p.User.ID,
		base64.RawURLEncoding.EncodeToString(cred.ID), data); err != nil {
		s.reauthPasskeyFailed(w, r, next, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "twofactor.reauth.confirmed"))
	redirect(w, r, next)
}

// reauthPasskeyFailed shows the confirmation step again with why the
// passkey was refused; internal errors get the error page.
func (s *Server) reauthPasskeyFailed(w http.ResponseWriter, r *http.Request, next string, err error) {
	var appErr *app.Error
	if !errors.As(err, &appErr) || appErr.Code == app.EINTERNAL {
		s.Error(w, r, err)
		return
	}
	s.renderReauth(w, r, statusOf(appErr.Code), next, i18n.ErrorText(r.Context(), appErr))
}
