package server

// Passkeys (WebAuthn): adding and removing them on the account page
// (this file) and signing in with one (passkey_login.go). The server half
// of a ceremony lives in an auth_challenges row named by a cookie token;
// the browser half is web/static/passkey.js.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/i18n"
	"atrium/web/page"
)

// webAuthnCookieName is the ceremony cookie's name over plain HTTP; under
// HTTPS it carries the __Host- prefix, like the session cookie.
const webAuthnCookieName = "atrium_webauthn"

// accountTwoFactor is where the account page lists the passkeys.
const accountTwoFactor = "/settings/account#two-factor"

// Passkey failures a visitor can cause, each with its message.
var (
	errPasskeysUnavailable = &app.Error{Code: app.EUNAVAILABLE,
		Message: "Passkeys aren’t available on this site. Sign in with an email link instead."}
	errCeremonyGone = &app.Error{Code: app.EINVALID,
		Message: "This passkey request expired or was already used. Please try again."}
	errPasskeyUnreadable = &app.Error{Code: app.EINVALID,
		Message: "Your browser’s passkey answer couldn’t be read. Please try again."}
	errPasskeyNotVerified = &app.Error{Code: app.EINVALID,
		Message: "That passkey couldn’t be verified. Please try again, or sign in with an email link."}
	errReauthNeeded = &app.Error{Code: app.EFORBIDDEN,
		Message: "Confirm it’s you first: reload this page and follow “Confirm it’s you”."}
	errPasskeyLimit = app.Errorf(app.ECONFLICT, "An account can hold at most %d passkeys. Remove one to add another.", app.MaxPasskeys)
)

// newWebAuthn returns the relying party for APP_URL: its host is the RP ID
// and its origin the only one accepted. Passkeys must be discoverable and
// verify the user (a PIN or biometric), so one alone signs in. It fails
// when the host cannot be an RP ID, such as an IP address.
func newWebAuthn(cfg *config.Config) (*webauthn.WebAuthn, error) {
	required := true
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: app.ChallengeTTL, TimeoutUVD: app.ChallengeTTL}
	return webauthn.New(&webauthn.Config{
		RPID:                  cfg.AppURL.Hostname(),
		RPDisplayName:         cfg.AppName,
		RPOrigins:             []string{cfg.AppURL.Scheme + "://" + cfg.AppURL.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: &required,
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
}

// webAuthnUser is a user as the WebAuthn library sees them: the random
// user handle and the passkeys.
type webAuthnUser struct {
	id            int64
	handle        []byte
	name, display string
	creds         []webauthn.Credential
}

func (u *webAuthnUser) WebAuthnID() []byte                         { return u.handle }
func (u *webAuthnUser) WebAuthnName() string                       { return u.name }
func (u *webAuthnUser) WebAuthnDisplayName() string                { return u.display }
func (u *webAuthnUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// newWebAuthnUser decodes the stored credential records of user's passkeys.
func newWebAuthnUser(user *app.User, handle []byte, passkeys []*app.PasskeyCredential) (*webAuthnUser, error) {
	u := &webAuthnUser{id: user.ID, handle: handle, name: user.Email, display: user.DisplayName()}
	for _, p := range passkeys {
		var c webauthn.Credential
		if err := json.Unmarshal(p.Data, &c); err != nil {
			return nil, fmt.Errorf("decode passkey %d of user %d: %w", p.ID, user.ID, err)
		}
		u.creds = append(u.creds, c)
	}
	return u, nil
}

// webAuthnUser loads user's passkey handle (made on first use) and
// passkeys.
func (s *Server) webAuthnUser(ctx context.Context, user *app.User) (*webAuthnUser, error) {
	handle, err := s.TwoFactor.WebAuthnHandle(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	passkeys, err := s.TwoFactor.FindPasskeyCredentials(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	return newWebAuthnUser(user, handle, passkeys)
}

// ceremony is what a challenge row keeps between a ceremony's two steps.
type ceremony struct {
	Session webauthn.SessionData `json:"session"`
	Next    string               `json:"next,omitempty"` // sign-in only
}

// webAuthnCookie returns the ceremony cookie's name.
func (s *Server) webAuthnCookie() string { return s.hostCookie(webAuthnCookieName) }

// startCeremony stores a ceremony's state under a fresh token and gives the
// browser the token in the ceremony cookie.
func (s *Server) startCeremony(w http.ResponseWriter, r *http.Request, purpose string, userID int64, c ceremony) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode %s ceremony: %w", purpose, err)
	}
	token, hash := app.NewToken()
	err = s.TwoFactor.SaveChallenge(r.Context(), app.Challenge{TokenHash: hash, Purpose: purpose, UserID: userID,
		Data: data, ExpiresAt: s.Now().Add(app.ChallengeTTL)})
	if err != nil {
		return err
	}
	setCookie(w, &http.Cookie{Name: s.webAuthnCookie(), Value: token, Path: "/", MaxAge: int(app.ChallengeTTL.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	return nil
}

// takeCeremony uses up the ceremony the browser's cookie names, which must
// be live and of purpose, and clears the cookie: errCeremonyGone otherwise.
func (s *Server) takeCeremony(w http.ResponseWriter, r *http.Request, purpose string) (*app.Challenge, *ceremony, error) {
	ck, err := r.Cookie(s.webAuthnCookie())
	if err != nil || !app.ValidTokenSyntax(ck.Value) {
		return nil, nil, errCeremonyGone
	}
	setCookie(w, &http.Cookie{Name: s.webAuthnCookie(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode})
	ch, err := s.TwoFactor.TakeChallenge(r.Context(), app.HashToken(ck.Value), purpose)
	if app.ErrorCode(err) == app.ENOTFOUND {
		return nil, nil, errCeremonyGone
	} else if err != nil {
		return nil, nil, err
	}
	var c ceremony
	if err := json.Unmarshal(ch.Data, &c); err != nil {
		return nil, nil, fmt.Errorf("decode %s ceremony: %w", purpose, err)
	}
	return ch, &c, nil
}

// passkeyProblem answers a begin step's failure as an RFC 9457 problem
// whose detail passkey.js shows; field names the form field it is about.
// Internal errors are logged and say only that something went wrong.
func (s *Server) passkeyProblem(w http.ResponseWriter, r *http.Request, err error) {
	if clientGone(r) {
		return
	}
	code := app.ErrorCode(err)
	status := statusOf(code)
	// passkey.js shows the detail on the page: it is in the reader's
	// language.
	detail := i18n.ErrorText(r.Context(), err)
	var appErr *app.Error
	isApp := errors.As(err, &appErr)
	if (!isApp || code == app.EINTERNAL || code == app.EUNAVAILABLE) && !errors.Is(err, errPasskeysUnavailable) {
		s.Logger.ErrorContext(r.Context(), "passkey request failed", "request_id", requestIDFrom(r.Context()),
			"route", routeOf(r), "error", err.Error())
	}
	if !isApp {
		detail = i18n.T(r.Context(), "passkey.problem.internal")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail,
		"field": app.ErrorField(err)})
	_, _ = w.Write(body)
}

// logPasskeysOff logs why a passkey request was refused: APP_URL's host
// cannot be a WebAuthn relying party.
func (s *Server) logPasskeysOff(r *http.Request) {
	s.Logger.WarnContext(r.Context(), "passkeys unavailable", "request_id", requestIDFrom(r.Context()),
		"app_url", s.Config.AppURL.String(), "error", s.webAuthnErr.Error())
}

// cleanPasskeyName checks the name a user gives a passkey.
func cleanPasskeyName(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", app.FieldErrorf("passkey_name", "Name this passkey, e.g. “MacBook Touch ID”.")
	}
	return app.CleanText("passkey_name", "passkey name", raw, app.MaxPasskeyNameLength)
}

// handlePasskeyRegisterBegin handles "POST /settings/account/passkeys/begin":
// it checks the name and answers the options of navigator.credentials.create,
// excluding the user's passkeys so one authenticator is not added twice.
func (s *Server) handlePasskeyRegisterBegin(w http.ResponseWriter, r *http.Request) {
	if s.webAuthn == nil {
		s.logPasskeysOff(r)
		s.passkeyProblem(w, r, errPasskeysUnavailable)
		return
	}
	p := app.PrincipalFromContext(r.Context())
	if !p.RecentlyVerified(s.Now()) {
		s.passkeyProblem(w, r, errReauthNeeded)
		return
	}
	if _, err := cleanPasskeyName(r.PostFormValue("passkey_name")); err != nil {
		s.passkeyProblem(w, r, err)
		return
	}
	u, err := s.webAuthnUser(r.Context(), &p.User)
	if err != nil {
		s.passkeyProblem(w, r, err)
		return
	}
	if len(u.creds) >= app.MaxPasskeys {
		s.passkeyProblem(w, r, errPasskeyLimit)
		return
	}
	creation, session, err := s.webAuthn.BeginRegistration(u,
		webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()))
	if err != nil {
		s.passkeyProblem(w, r, fmt.Errorf("begin passkey registration: %w", err))
		return
	}
	if err := s.startCeremony(w, r, app.PurposePasskeyRegister, p.User.ID, ceremony{Session: *session}); err != nil {
		s.passkeyProblem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, creation)
}

// handlePasskeyRegisterFinish handles "POST /settings/account/passkeys": the
// form passkey.js sends with the new credential. The first factor a user
// adds comes with recovery codes, shown once.
func (s *Server) handlePasskeyRegisterFinish(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	if s.webAuthn == nil {
		s.logPasskeysOff(r)
		s.errorPage(w, r, http.StatusServiceUnavailable, i18n.ErrorText(r.Context(), errPasskeysUnavailable))
		return
	}
	if !s.recentlyVerified(w, r, accountTwoFactor) {
		return
	}
	// The challenge is used up first, so a failed attempt cannot be retried
	// with it.
	ch, c, err := s.takeCeremony(w, r, app.PurposePasskeyRegister)
	if err == nil && ch.UserID != p.User.ID {
		err = errCeremonyGone
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	name, err := cleanPasskeyName(r.PostFormValue("passkey_name"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(r.PostFormValue("credential")))
	if err != nil {
		s.Error(w, r, errPasskeyUnreadable)
		return
	}
	u, err := s.webAuthnUser(r.Context(), &p.User)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	cred, err := s.webAuthn.CreateCredential(u, c.Session, parsed)
	if err != nil {
		s.logCeremonyFailure(r, "passkey registration refused", err)
		s.Error(w, r, errPasskeyNotVerified)
		return
	}
	data, err := json.Marshal(cred)
	if err != nil {
		s.Error(w, r, fmt.Errorf("encode passkey: %w", err))
		return
	}
	codes, hashes := app.NewRecoveryCodes()
	issued, err := s.TwoFactor.AddPasskey(r.Context(), p.User.ID, app.PasskeyCredential{Passkey: app.Passkey{Name: name},
		CredentialID: base64.RawURLEncoding.EncodeToString(cred.ID), Data: data}, hashes)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if issued {
		s.showRecoveryCodes(w, r, codes, accountTwoFactor)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "passkey.added", "Name", name))
	redirect(w, r, accountTwoFactor)
}

// logCeremonyFailure logs why the WebAuthn library refused a ceremony,
// which the visitor sees only as "couldn't be verified".
func (s *Server) logCeremonyFailure(r *http.Request, msg string, err error) {
	attrs := []any{"request_id", requestIDFrom(r.Context()), "error", err.Error()}
	var pe *protocol.Error
	if errors.As(err, &pe) {
		attrs = append(attrs, "type", pe.Type, "info", pe.DevInfo)
	}
	s.Logger.InfoContext(r.Context(), msg, attrs...)
}

// handlePasskeyRemove handles "POST /settings/account/passkeys/{passkeyID}/remove",
// confirmed: the confirmation says when it turns two-factor sign-in off.
func (s *Server) handlePasskeyRemove(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	if !s.recentlyVerified(w, r, accountTwoFactor) {
		return
	}
	id, ok := idParam(r, "passkeyID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	status, err := s.TwoFactor.FindTwoFactor(r.Context(), p.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var pk *app.Passkey
	for _, x := range status.Passkeys {
		if x.ID == id {
			pk = x
		}
	}
	if pk == nil {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	last := !status.TOTP && len(status.Passkeys) == 1
	if !s.confirmed(w, r, s.inAccount(w, r), page.ConfirmRemovePasskey(r.Context(), id, pk.Name, last)) {
		return
	}
	if err := s.TwoFactor.RemovePasskey(r.Context(), p.User.ID, id); err != nil {
		s.Error(w, r, err)
		return
	}
	msg := i18n.T(r.Context(), "passkey.removed", "Name", pk.Name)
	if last {
		msg += " " + i18n.T(r.Context(), "passkey.removed_last")
	}
	s.setFlash(w, "success", msg)
	redirect(w, r, accountTwoFactor)
}
