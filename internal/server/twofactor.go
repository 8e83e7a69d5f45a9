package server

import (
	"context"
	"errors"
	"fmt"
	"html"
	"image/color"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/boombuler/barcode/qr"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/internal/mail"
	"atrium/web/page"
)

// pendingCookieName names the cookie that carries a sign-in waiting for
// its second factor: the token of its auth_challenges row, nothing more.
func (s *Server) pendingCookieName() string { return s.hostCookie("atrium_2fa") }

func (s *Server) setPendingCookie(w http.ResponseWriter, token string) {
	setCookie(w, &http.Cookie{Name: s.pendingCookieName(), Value: token, Path: "/",
		MaxAge: int(app.SecondFactorTTL / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearPendingCookie(w http.ResponseWriter) {
	setCookie(w, &http.Cookie{Name: s.pendingCookieName(), Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// pendingSignIn returns the pending second factor this browser carries and
// its token hash; ok is false when there is none or it expired.
func (s *Server) pendingSignIn(r *http.Request) (p *app.PendingSignIn, hash string, ok bool) {
	c, err := r.Cookie(s.pendingCookieName())
	if err != nil || !app.ValidTokenSyntax(c.Value) {
		return nil, "", false
	}
	hash = app.HashToken(c.Value)
	p, err = s.TwoFactor.FindPendingSignIn(r.Context(), hash)
	if err != nil {
		if !errors.Is(err, app.ErrSecondFactorExpired) {
			s.Logger.ErrorContext(r.Context(), "find pending sign-in", "request_id", requestIDFrom(r.Context()), "error", err.Error())
		}
		return nil, "", false
	}
	return p, hash, true
}

// newSession describes the session a sign-in from r starts: a fresh token
// (returned, for the cookie), the client, and the session it replaces.
func (s *Server) newSession(r *http.Request) (string, app.NewSession) {
	token, hash := app.NewToken()
	meta := app.RequestMetaFromContext(r.Context())
	ns := app.NewSession{TokenHash: hash, IP: meta.IP, UserAgent: meta.UserAgent}
	if old := s.sessionToken(r); old != "" {
		ns.ReplacesHash = app.HashToken(old)
	}
	return token, ns
}

// signInExpired sends a browser whose pending sign-in is gone back to the
// sign-in page with the reason.
func (s *Server) signInExpired(w http.ResponseWriter, r *http.Request) {
	s.clearPendingCookie(w)
	s.setFlash(w, "error", i18n.ErrorText(r.Context(), app.ErrSecondFactorExpired))
	redirect(w, r, "/login")
}

// handleSecondFactorShow handles "GET /login/two-factor", the step after a
// magic link for a user with a second factor.
func (s *Server) handleSecondFactorShow(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.pendingSignIn(r)
	if !ok {
		if app.PrincipalFromContext(r.Context()) != nil {
			redirect(w, r, appHome)
			return
		}
		s.signInExpired(w, r)
		return
	}
	s.renderSecondFactor(w, r, http.StatusOK, p, "", "")
}

func (s *Server) renderSecondFactor(w http.ResponseWriter, r *http.Request, status int, p *app.PendingSignIn, code, codeError string) {
	if codeError == "" && p.LockedUntil != nil {
		codeError = lockedSentence(r.Context(), *p.LockedUntil, s.Now())
	}
	v := page.SecondFactorView{Email: p.Email, Code: code, CodeError: codeError, TOTP: p.TOTP, Passkeys: p.Passkeys}
	s.render(w, r, status, page.SecondFactor(s.page(w, r, i18n.T(r.Context(), "twofactor.section.heading")), v))
}

// lockedSentence says how long code entry stays locked.
func lockedSentence(ctx context.Context, until, now time.Time) string {
	return i18n.N(ctx, "twofactor.locked", int(until.Sub(now).Minutes())+1)
}

// handleSecondFactorCode handles "POST /login/two-factor": an authenticator
// code or a recovery code finishes the pending sign-in.
func (s *Server) handleSecondFactorCode(w http.ResponseWriter, r *http.Request) {
	p, hash, ok := s.pendingSignIn(r)
	if !ok {
		s.signInExpired(w, r)
		return
	}
	code := strings.TrimSpace(r.PostFormValue("code"))
	_, bad := app.CleanText("code", "code", code, 32)
	switch {
	case code == "":
		s.renderSecondFactor(w, r, http.StatusUnprocessableEntity, p, "", i18n.T(r.Context(), "twofactor.code.empty"))
		return
	case bad != nil:
		s.renderSecondFactor(w, r, http.StatusUnprocessableEntity, p, "", i18n.T(r.Context(), "twofactor.code.malformed"))
		return
	}
	token, ns := s.newSession(r)
	locked := mail.CodeLockedEmail(s.mailPrinterTo(r.Context(), p.Email), s.Config.AppName, p.Email, s.Config.AppURL.String()+"/settings/account")
	_, next, err := s.TwoFactor.CompleteSignInWithCode(r.Context(), hash, code, ns, locked)
	switch {
	case errors.Is(err, app.ErrSecondFactorExpired):
		s.signInExpired(w, r)
		return
	case errors.Is(err, app.ErrCodeEntryLocked):
		s.renderSecondFactor(w, r, http.StatusTooManyRequests, p, "", i18n.ErrorText(r.Context(), app.ErrCodeEntryLocked))
		return
	case errors.Is(err, app.ErrCodeWrong):
		s.renderSecondFactor(w, r, http.StatusUnprocessableEntity, p, code, i18n.ErrorText(r.Context(), app.ErrCodeWrong))
		return
	case errors.Is(err, app.ErrCodeReplayed), errors.Is(err, app.ErrRecoveryCodeUsed):
		s.renderSecondFactor(w, r, http.StatusUnprocessableEntity, p, "", i18n.ErrorText(r.Context(), err))
		return
	case app.ErrorCode(err) == app.EUNAVAILABLE && !clientGone(r):
		// The form stays, so a recovery code or a passkey can still be used.
		s.Logger.ErrorContext(r.Context(), "second factor unavailable", "request_id", requestIDFrom(r.Context()), "error", err.Error())
		s.renderSecondFactor(w, r, http.StatusServiceUnavailable, p, "", i18n.ErrorText(r.Context(), err))
		return
	case err != nil:
		s.Error(w, r, err)
		return
	}
	s.clearPendingCookie(w)
	s.setSessionCookie(w, token)
	if app.IsRecoveryCodeShape(code) {
		s.flashRecoveryLeft(w, r, p.UserID)
	}
	redirect(w, r, app.SafeNext(next, appHome))
}

// flashRecoveryLeft tells someone who signed in with a recovery code how
// many they have left.
func (s *Server) flashRecoveryLeft(w http.ResponseWriter, r *http.Request, userID int64) {
	st, err := s.TwoFactor.FindTwoFactor(r.Context(), userID)
	if err != nil {
		return
	}
	msg := i18n.T(r.Context(), "twofactor.recovery_sign_in", "Count", st.RecoveryCodesLeft)
	if st.RecoveryCodesLeft < 4 {
		msg += " " + i18n.T(r.Context(), "twofactor.recovery_sign_in_low")
	}
	s.setFlashLink(w, msg, "/settings/account#two-factor")
}

// handleTOTPShow handles "GET /settings/account/two-factor/app": the QR
// code and key of a new authenticator secret, kept unconfirmed until a
// first code matches.
func (s *Server) handleTOTPShow(w http.ResponseWriter, r *http.Request) {
	if !s.recentlyVerified(w, r, r.URL.RequestURI()) {
		return
	}
	s.renderTOTPSetup(w, r, http.StatusOK, app.SafeNext(r.URL.Query().Get("next"), ""), "")
}

func (s *Server) renderTOTPSetup(w http.ResponseWriter, r *http.Request, status int, next, codeError string) {
	p := app.PrincipalFromContext(r.Context())
	secret, err := s.TwoFactor.TOTPEnrolment(r.Context(), p.User.ID, app.NewTOTPSecret())
	if app.ErrorCode(err) == app.ECONFLICT {
		// Another request (another tab) is setting one up at this moment.
		s.setFlash(w, "info", i18n.T(r.Context(), "twofactor.setup.in_progress"))
		redirect(w, r, "/settings/account#two-factor")
		return
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	svg, err := qrSVG(app.TOTPURL(s.Config.AppName, p.User.Email, secret), i18n.T(r.Context(), "twofactor.setup.qr_label"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// The page carries the secret: no cache may keep it.
	w.Header().Set("Cache-Control", "no-store")
	pg := s.page(w, r, i18n.T(r.Context(), "twofactor.setup.title"))
	pg.Section = "account"
	s.render(w, r, status, page.TOTPSetup(pg, page.TOTPSetupView{QR: svg, Secret: app.FormatTOTPSecret(secret),
		CodeError: codeError, Next: next}))
}

// handleTOTPConfirm handles "POST /settings/account/two-factor/app": the
// first code turns the app on; recovery codes are shown when it is the
// user's first factor.
func (s *Server) handleTOTPConfirm(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	next := app.SafeNext(r.PostFormValue("next"), "")
	if !s.recentlyVerified(w, r, "/settings/account/two-factor/app?next="+url.QueryEscape(next)) {
		return
	}
	code := strings.TrimSpace(r.PostFormValue("code"))
	if code == "" {
		s.renderTOTPSetup(w, r, http.StatusUnprocessableEntity, next, i18n.T(r.Context(), "twofactor.setup.code_empty"))
		return
	}
	codes, hashes := app.NewRecoveryCodes()
	issued, err := s.TwoFactor.ConfirmTOTP(r.Context(), p.User.ID, code, hashes)
	if app.ErrorField(err) == "code" {
		s.renderTOTPSetup(w, r, http.StatusUnprocessableEntity, next, i18n.ErrorText(r.Context(), err))
		return
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if issued {
		s.showRecoveryCodes(w, r, codes, app.SafeNext(next, "/settings/account#two-factor"))
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "twofactor.setup.turned_on"))
	redirect(w, r, app.SafeNext(next, "/settings/account#two-factor"))
}

// recoveryCodesPath shows new recovery codes, once.
const recoveryCodesPath = "/settings/account/two-factor/recovery-codes"

// revealCookieName names the cookie that holds the token of recovery codes
// waiting to be shown.
func (s *Server) revealCookieName() string { return s.hostCookie("atrium_codes") }

// showRecoveryCodes keeps freshly made recovery codes server-side, sealed,
// for one showing within app.RecoveryCodesRevealTTL, and sends the browser
// to see them (POST, redirect, GET): a reload neither makes new codes nor
// shows them again.
func (s *Server) showRecoveryCodes(w http.ResponseWriter, r *http.Request, codes []string, next string) {
	p := app.PrincipalFromContext(r.Context())
	token, hash := app.NewToken()
	if err := s.TwoFactor.SaveRecoveryCodesReveal(r.Context(), p.User.ID, hash, codes, s.Now().Add(app.RecoveryCodesRevealTTL)); err != nil {
		s.Error(w, r, err)
		return
	}
	setCookie(w, &http.Cookie{Name: s.revealCookieName(), Value: token, Path: "/", MaxAge: int(app.RecoveryCodesRevealTTL / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	redirect(w, r, recoveryCodesPath+"?next="+url.QueryEscape(next))
}

// handleRecoveryCodesShow handles "GET /settings/account/two-factor/recovery-codes":
// the recovery codes just made, once; afterwards the page says they were
// shown and offers new ones.
func (s *Server) handleRecoveryCodesShow(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	w.Header().Set("Cache-Control", "no-store")
	v := page.RecoveryCodesView{Next: app.SafeNext(r.URL.Query().Get("next"), accountTwoFactor), AppName: s.Config.AppName}
	if c, err := r.Cookie(s.revealCookieName()); err == nil && app.ValidTokenSyntax(c.Value) {
		setCookie(w, &http.Cookie{Name: s.revealCookieName(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
		codes, err := s.TwoFactor.TakeRecoveryCodesReveal(r.Context(), p.User.ID, app.HashToken(c.Value))
		if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
			s.Error(w, r, err)
			return
		}
		v.Codes = codes
	}
	if len(v.Codes) == 0 {
		st, err := s.TwoFactor.FindTwoFactor(r.Context(), p.User.ID)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		v.CanRegenerate = st.Enabled()
	}
	if sessions, err := s.Auth.FindSessions(r.Context(), p.User.ID); err == nil {
		v.OtherSessions = len(sessions) - 1
	}
	pg := s.page(w, r, i18n.T(r.Context(), "twofactor.recovery.title"))
	pg.Section = "account"
	s.render(w, r, http.StatusOK, page.RecoveryCodes(pg, v))
}

// handleTOTPDisable handles "POST /settings/account/two-factor/app/disable".
func (s *Server) handleTOTPDisable(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	if !s.recentlyVerified(w, r, accountTwoFactor) {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		st, err := s.TwoFactor.FindTwoFactor(r.Context(), p.User.ID)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		s.confirmed(w, r, s.inAccount(w, r), page.ConfirmDisableTOTP(r.Context(), len(st.Passkeys) == 0))
		return
	}
	if err := s.TwoFactor.DisableTOTP(r.Context(), p.User.ID); err != nil {
		if app.ErrorCode(err) != app.ENOTFOUND {
			s.Error(w, r, err)
			return
		}
		s.setFlash(w, "info", i18n.ErrorText(r.Context(), err))
	} else {
		s.setFlash(w, "success", i18n.T(r.Context(), "twofactor.section.app_turned_off"))
	}
	redirect(w, r, "/settings/account#two-factor")
}

// handleRecoveryCodesRegenerate handles "POST
// /settings/account/two-factor/recovery-codes": new codes replace the old.
func (s *Server) handleRecoveryCodesRegenerate(w http.ResponseWriter, r *http.Request) {
	if !s.recentlyVerified(w, r, accountTwoFactor) {
		return
	}
	if !s.confirmed(w, r, s.inAccount(w, r), page.ConfirmNewRecoveryCodes(r.Context())) {
		return
	}
	p := app.PrincipalFromContext(r.Context())
	codes, hashes := app.NewRecoveryCodes()
	if err := s.TwoFactor.RegenerateRecoveryCodes(r.Context(), p.User.ID, hashes); err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			s.Error(w, r, err)
			return
		}
		s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
		redirect(w, r, "/settings/account#two-factor")
		return
	}
	s.showRecoveryCodes(w, r, codes, "/settings/account#two-factor")
}

// twoFactorView builds the account page's two-factor card for the user.
func (s *Server) twoFactorView(r *http.Request, user *app.User) (page.TwoFactorView, error) {
	st, err := s.TwoFactor.FindTwoFactor(r.Context(), user.ID)
	if err != nil {
		return page.TwoFactorView{}, err
	}
	v := page.TwoFactorView{TOTP: st.TOTP, RecoveryCodesLeft: st.RecoveryCodesLeft}
	v.Passkeys.TOTP = st.TOTP
	if !app.PrincipalFromContext(r.Context()).RecentlyVerified(s.Now()) {
		v.Passkeys.ConfirmURL = reauthURL(accountTwoFactor)
	}
	if st.LockedUntil != nil {
		v.Locked = lockedSentence(r.Context(), *st.LockedUntil, s.Now()) + " " + i18n.T(r.Context(), "twofactor.section.locked_by_link")
	}
	for _, k := range st.Passkeys {
		row := page.PasskeyRow{ID: k.ID, Name: k.Name, Created: s.formatTime(r.Context(), k.CreatedAt, user.TimeZone)}
		if k.LastUsedAt != nil {
			row.LastUsed = s.formatTime(r.Context(), *k.LastUsedAt, user.TimeZone)
		}
		v.Passkeys.Rows = append(v.Passkeys.Rows, row)
	}
	return v, nil
}

// qrSVG renders text as a QR code in an inline SVG: one path of dark
// modules on a white square with the standard four-module quiet zone;
// label is what screen readers say of it.
func qrSVG(text, label string) (string, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("encode QR code: %w", err)
	}
	b := code.Bounds()
	const quiet = 4
	size := b.Dx() + 2*quiet
	var sb strings.Builder
	sb.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + strconv.Itoa(size) + " " + strconv.Itoa(size) +
		`" role="img" aria-label="` + html.EscapeString(label) + `" shape-rendering="crispEdges">`)
	sb.WriteString(`<rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="`)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c, ok := color.GrayModel.Convert(code.At(x, y)).(color.Gray); ok && c.Y < 128 {
				fmt.Fprintf(&sb, "M%d %dh1v1h-1z", x-b.Min.X+quiet, y-b.Min.Y+quiet)
			}
		}
	}
	sb.WriteString(`"/></svg>`)
	return sb.String(), nil
}
