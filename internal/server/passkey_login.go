package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/layout"
	"atrium/web/page"
)

// errPasskeyCloned refuses a passkey whose signature counter went
// backwards: a copy of it may be in use elsewhere.
var errPasskeyCloned = &app.Error{Code: app.EUNAUTHORIZED,
	Message: "That passkey can’t be trusted any more: it may have been copied. Sign in with an email link and remove it from your account."}

// handlePasskeyLoginBegin handles "POST /login/passkey/begin": it answers the
// options of navigator.credentials.get. After a magic link (the pending
// second-factor cookie) it asks for one of that user's passkeys; otherwise
// any passkey of this site's will do, and its user handle says whose it is.
func (s *Server) handlePasskeyLoginBegin(w http.ResponseWriter, r *http.Request) {
	if s.webAuthn == nil {
		s.logPasskeysOff(r)
		s.passkeyProblem(w, r, errPasskeysUnavailable)
		return
	}
	uv := webauthn.WithUserVerification(protocol.VerificationRequired)
	c := ceremony{Next: app.SafeNext(r.PostFormValue("next"), "")}
	var userID int64
	var assertion *protocol.CredentialAssertion
	var session *webauthn.SessionData
	var err error
	if pending, _, ok := s.pendingSignIn(r); ok {
		u, uerr := s.pendingWebAuthnUser(r.Context(), pending)
		if uerr != nil {
			s.passkeyProblem(w, r, uerr)
			return
		}
		if len(u.creds) == 0 {
			s.passkeyProblem(w, r, app.ErrPasskeyUnknown)
			return
		}
		userID = pending.UserID
		if c.Next == "" {
			c.Next = pending.Next
		}
		assertion, session, err = s.webAuthn.BeginLogin(u, uv)
	} else {
		assertion, session, err = s.webAuthn.BeginDiscoverableLogin(uv)
	}
	if err != nil {
		s.passkeyProblem(w, r, fmt.Errorf("begin passkey sign-in: %w", err))
		return
	}
	c.Session = *session
	if err := s.startCeremony(w, r, app.PurposePasskeyLogin, userID, c); err != nil {
		s.passkeyProblem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, assertion)
}

// pendingWebAuthnUser loads the passkeys of the user a pending sign-in is
// for.
func (s *Server) pendingWebAuthnUser(ctx context.Context, pending *app.PendingSignIn) (*webAuthnUser, error) {
	return s.webAuthnUser(ctx, &app.User{ID: pending.UserID, Email: pending.Email})
}

// handlePasskeyLoginFinish handles "POST /login/passkey/finish": the form
// passkey.js sends with the signed assertion. A verified passkey starts a
// session, finishing the pending sign-in when the ceremony began as one.
func (s *Server) handlePasskeyLoginFinish(w http.ResponseWriter, r *http.Request) {
	if s.webAuthn == nil {
		s.logPasskeysOff(r)
		s.passkeySignInFailed(w, r, false, errPasskeysUnavailable)
		return
	}
	ch, c, err := s.takeCeremony(w, r, app.PurposePasskeyLogin)
	if err != nil {
		s.passkeySignInFailed(w, r, false, err)
		return
	}
	second := ch.UserID != 0
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(r.PostFormValue("credential")))
	if err != nil {
		s.passkeySignInFailed(w, r, second, errPasskeyUnreadable)
		return
	}
	v, err := s.verifyAssertion(r, ch, c, parsed)
	if err != nil {
		s.passkeySignInFailed(w, r, second, err)
		return
	}
	data, err := json.Marshal(v.cred)
	if err != nil {
		s.passkeySignInFailed(w, r, second, fmt.Errorf("encode passkey: %w", err))
		return
	}
	sessToken, ns := s.newSession(r)
	_, pendingNext, err := s.TwoFactor.CompleteSignInWithPasskey(r.Context(), v.pendingHash, v.userID,
		base64.RawURLEncoding.EncodeToString(v.cred.ID), data, ns)
	if err != nil {
		s.passkeySignInFailed(w, r, second, err)
		return
	}
	if second {
		s.clearPendingCookie(w)
	}
	s.setSessionCookie(w, sessToken)
	if c.Next == "" {
		c.Next = pendingNext
	}
	redirect(w, r, app.SafeNext(c.Next, appHome))
}

// verifiedPasskey is a passkey assertion the WebAuthn library accepted:
// whose it is, the pending sign-in it finishes (if any), and the
// credential record with its new counter and flags.
type verifiedPasskey struct {
	userID      int64
	pendingHash string
	cred        *webauthn.Credential
}

// verifyAssertion checks a sign-in assertion against the ceremony: against
// the pending user's passkeys when it began as a second factor (whose
// pending sign-in must still be this browser's), otherwise against the
// passkeys of the user its user handle names. A cloned passkey is refused.
func (s *Server) verifyAssertion(r *http.Request, ch *app.Challenge, c *ceremony, parsed *protocol.ParsedCredentialAssertionData) (*verifiedPasskey, error) {
	v := &verifiedPasskey{}
	var err error
	// lookupErr is a store failure while finding the passkey's user, which
	// the library wraps.
	var lookupErr error
	if ch.UserID != 0 {
		pending, hash, ok := s.pendingSignIn(r)
		if !ok || pending.UserID != ch.UserID {
			return nil, app.ErrSecondFactorExpired
		}
		u, uerr := s.pendingWebAuthnUser(r.Context(), pending)
		if uerr != nil {
			return nil, uerr
		}
		v.userID, v.pendingHash = pending.UserID, hash
		v.cred, err = s.webAuthn.ValidateLogin(u, c.Session, parsed)
	} else {
		var owner webauthn.User
		owner, v.cred, err = s.webAuthn.ValidatePasskeyLogin(func(rawID, handle []byte) (webauthn.User, error) {
			u, err := s.discoverableUser(r.Context(), rawID, handle)
			if err != nil && app.ErrorCode(err) == app.EINTERNAL {
				lookupErr = err
			}
			return u, err
		}, c.Session, parsed)
		if err == nil {
			v.userID = owner.(*webAuthnUser).id
		}
	}
	switch {
	case lookupErr != nil:
		return nil, lookupErr
	case err != nil:
		return nil, s.assertionError(r, err)
	case v.cred.Authenticator.CloneWarning:
		s.Logger.WarnContext(r.Context(), "passkey refused: signature counter went backwards", "request_id", requestIDFrom(r.Context()),
			"user_id", v.userID)
		return nil, errPasskeyCloned
	}
	return v, nil
}

// discoverableUser returns the user whose passkey user handle an assertion
// carries, with their passkeys, which must include the one used: a passkey
// removed from the account is unknown, not unverifiable.
func (s *Server) discoverableUser(ctx context.Context, rawID, handle []byte) (webauthn.User, error) {
	user, passkeys, err := s.TwoFactor.FindWebAuthnUser(ctx, handle)
	if err != nil {
		return nil, err
	}
	id := base64.RawURLEncoding.EncodeToString(rawID)
	if !slices.ContainsFunc(passkeys, func(p *app.PasskeyCredential) bool { return p.CredentialID == id }) {
		return nil, app.ErrPasskeyUnknown
	}
	return newWebAuthnUser(user, handle, passkeys)
}

// assertionError turns the WebAuthn library's refusal of an assertion into
// what the visitor is told: an unknown passkey, a store failure, or "not
// verified" (the detail is logged).
func (s *Server) assertionError(r *http.Request, err error) error {
	var unknown *protocol.ErrorUnknownCredential
	var appErr *app.Error
	switch {
	case errors.As(err, &unknown), errors.Is(err, app.ErrPasskeyUnknown):
		return app.ErrPasskeyUnknown
	case errors.As(err, &appErr):
		return appErr
	}
	s.logCeremonyFailure(r, "passkey sign-in refused", err)
	return errPasskeyNotVerified
}

// passkeySignInFailed answers a failed passkey sign-in: back to the
// second-factor step with the sentence when the ceremony was one and the
// step is still open, otherwise the sign-in page with the sentence as its
// message. Internal errors get the error page.
func (s *Server) passkeySignInFailed(w http.ResponseWriter, r *http.Request, second bool, err error) {
	code := app.ErrorCode(err)
	var appErr *app.Error
	isApp := errors.As(err, &appErr)
	if (!isApp || code == app.EINTERNAL || code == app.EUNAVAILABLE) && !errors.Is(err, errPasskeysUnavailable) {
		s.Error(w, r, err)
		return
	}
	if second {
		if errors.Is(err, app.ErrSecondFactorExpired) {
			s.signInExpired(w, r)
			return
		}
		s.setFlash(w, "error", i18n.ErrorText(r.Context(), appErr))
		redirect(w, r, "/login/two-factor")
		return
	}
	pg := s.page(w, r, i18n.T(r.Context(), "auth.login.title"))
	pg.Flash = &layout.Flash{Kind: "error", Message: i18n.ErrorText(r.Context(), appErr)}
	s.render(w, r, statusOf(code), page.Login(pg, page.LoginView{Next: app.SafeNext(r.PostFormValue("next"), ""), Providers: s.providerButtons()}))
}
