package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/i18n"
	"atrium/internal/mail"
	"atrium/web/page"
)

// InviteMailLimits returns the limits on invite emails that cfg sets.
func InviteMailLimits(cfg *config.Config) app.InviteMailLimits {
	return app.InviteMailLimits{ResendGap: cfg.InviteResendInterval, ResendsPerDay: cfg.InviteResendsPerDay,
		PerAddressPerDay: cfg.InviteEmailsPerAddress}
}

// inviteLink returns the accept link of an invite token.
func (s *Server) inviteLink(token string) string {
	return s.Config.AppURL.String() + "/invites/" + token
}

// composeInvite returns the email renderer for an invite with token. The
// email names inviter, or when it is "" whoever sent the invite. It is in
// the invitee's saved language when their address has an account that
// chose one, else in the language of the request that sends it (ctx).
func (s *Server) composeInvite(ctx context.Context, token, inviter string) app.ComposeInvite {
	return func(inv *app.Invite, lang string) app.InviteEmail {
		from := inviter
		if from == "" {
			from = inv.InvitedBy()
		}
		link := s.inviteLink(token)
		return app.InviteEmail{Email: mail.InviteEmail(s.mailPrinter(ctx, lang), s.Config.AppName, inv.Email, inv.WorkspaceName, from, inv.Role, link), Link: link}
	}
}

// handleInviteCreate handles "POST /w/{slug}/invites" (owners and admins).
func (s *Server) handleInviteCreate(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	form := page.InviteForm{Email: strings.TrimSpace(r.PostFormValue("email")), Role: r.PostFormValue("role")}
	email, err := app.NormalizeEmail(form.Email)
	if err != nil {
		form.EmailError = i18n.ErrorText(r.Context(), err)
	}
	role, rerr := app.ParseRole(form.Role)
	if rerr == nil {
		rerr = app.CanInvite(sc.m.Role, role)
	}
	if rerr != nil {
		form.RoleError = i18n.ErrorText(r.Context(), rerr)
	}
	if form.EmailError != "" || form.RoleError != "" {
		s.renderMembers(w, r, http.StatusUnprocessableEntity, &form)
		return
	}
	token, hash := app.NewToken()
	inv, err := s.Invites.CreateInvite(r.Context(), sc.scope(), app.NewInvite{Email: email, Role: role,
		TokenHash: hash, ExpiresAt: s.Now().Add(app.InviteTTL)}, s.plans(), s.composeInvite(r.Context(), token, ""))
	if err != nil {
		if re := (*app.RetryError)(nil); errors.As(err, &re) {
			form.EmailError = s.retryMessage(r, re)
			s.renderMembers(w, r, http.StatusTooManyRequests, &form)
			return
		}
		if app.ErrorCode(err) == app.ECONFLICT {
			form.EmailError = i18n.ErrorText(r.Context(), err)
			if pe := (*app.InvitePendingError)(nil); errors.As(err, &pe) {
				// Points from the form to the pending invite listed below it.
				form.EmailError += " " + i18n.T(r.Context(), "invites.form.pending_hint")
			}
			s.renderMembers(w, r, http.StatusUnprocessableEntity, &form)
			return
		}
		s.Error(w, r, err)
		return
	}
	s.inviteSentFlash(w, r, "invites.sent", inv.Email, token)
	redirect(w, r, wsPath(sc.ws, "/members"))
}

// inviteSentFlash confirms an invite sent to email with the message key
// (its placeholder is {{.Email}}). In stub mode the email goes only to the
// server log, so the flash, key + "_stub", carries the link to share by
// hand.
func (s *Server) inviteSentFlash(w http.ResponseWriter, r *http.Request, key, email, token string) {
	if s.Config.MailStub() {
		s.setFlashLink(w, i18n.T(r.Context(), key+"_stub", "Email", email), s.inviteLink(token))
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), key, "Email", email))
}

// retryMessage explains a refused invite email in the reader's language,
// with the time it may go in the signed-in user's time zone and its date
// unless that is today: the page's words for app.RetryError.Message.
func (s *Server) retryMessage(r *http.Request, re *app.RetryError) string {
	ctx := r.Context()
	loc := s.location(app.PrincipalFromContext(ctx).User.TimeZone)
	at := re.At.In(loc)
	when := i18n.T(ctx, "invites.retry.at", "Time", at.Format("15:04 MST"))
	if y, m, d := s.Now().In(loc).Date(); at.Year() != y || at.Month() != m || at.Day() != d {
		when = i18n.T(ctx, "invites.retry.at_date", "Time", at.Format("15:04 MST"), "Day", at.Day(),
			"Month", i18n.T(ctx, "date.month."+strconv.Itoa(int(at.Month()))))
	}
	var why string
	switch re.Reason {
	case app.RetryGap:
		why = i18n.T(ctx, "invites.retry.gap")
	case app.RetryInviteDaily:
		why = i18n.T(ctx, "invites.retry.invite_daily")
	default:
		why = i18n.T(ctx, "invites.retry.address_daily")
	}
	if re.Resend {
		return why + " " + i18n.T(ctx, "invites.retry.resend", "When", when)
	}
	return why + " " + i18n.T(ctx, "invites.retry.invite", "When", when)
}

// handleInviteRevoke handles "POST /w/{slug}/invites/{inviteID}/revoke".
func (s *Server) handleInviteRevoke(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	id, ok := idParam(r, "inviteID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		inv, err := s.Invites.FindInvite(r.Context(), sc.scope(), id)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		s.confirmed(w, r, s.inWorkspace(w, r), page.ConfirmRevokeInvite(r.Context(), workspaceURL(sc.ws.Slug), id, inv.Email))
		return
	}
	s.memberAction(w, r, i18n.T(r.Context(), "invites.revoked_flash"), func() error {
		return s.Invites.RevokeInvite(r.Context(), sc.scope(), id)
	})
}

// handleInviteResend handles "POST /w/{slug}/invites/{inviteID}/resend": a
// new link replaces the old one, valid for another seven days.
func (s *Server) handleInviteResend(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	id, ok := idParam(r, "inviteID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	token, hash := app.NewToken()
	inv, err := s.Invites.ResendInvite(r.Context(), sc.scope(), id, hash, s.Now().Add(app.InviteTTL), s.plans(), s.composeInvite(r.Context(), token, ""))
	if re := (*app.RetryError)(nil); errors.As(err, &re) {
		// Nothing was queued and the current link still works.
		s.setFlash(w, "error", s.retryMessage(r, re))
		redirect(w, r, wsPath(sc.ws, "/members"))
		return
	}
	if err != nil {
		if code := app.ErrorCode(err); code == app.ECONFLICT || code == app.EINVALID {
			s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
			redirect(w, r, wsPath(sc.ws, "/members"))
			return
		}
		s.Error(w, r, err)
		return
	}
	s.inviteSentFlash(w, r, "invites.resent", inv.Email, token)
	redirect(w, r, wsPath(sc.ws, "/members"))
}

// handleInviteShow handles "GET /invites/{token}". Anonymous visitors are
// sent to sign in as the invited address and come back to the invite.
func (s *Server) handleInviteShow(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	token := chi.URLParam(r, "token")
	var inv *app.Invite
	var err error
	if app.ValidTokenSyntax(token) {
		inv, err = s.Invites.FindInviteByToken(r.Context(), app.HashToken(token))
	} else {
		err = app.Errorf(app.ENOTFOUND, "Invite not found.")
	}
	if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
		s.Error(w, r, err)
		return
	}
	p := app.PrincipalFromContext(r.Context())
	if inv != nil && p == nil && inv.State(s.Now()) == app.InvitePending {
		// The link's token never goes into the sign-in request: the way back
		// is the invite's id, which only its addressee can open.
		q := url.Values{"next": {"/invitations/" + strconv.FormatInt(inv.ID, 10)}, "email": {inv.Email}}
		// The sign-in page says what the invitation is for (the flash is
		// signed, so no one can put words there through a link).
		s.setFlash(w, "info", i18n.T(r.Context(), "invites.sign_in_flash", "Inviter", inv.InvitedBy(), "Workspace", inv.WorkspaceName,
			"Role", roleName(r.Context(), inv.Role), "Email", inv.Email))
		redirect(w, r, "/login?"+q.Encode())
		return
	}
	s.renderInvite(w, r, inv, "/invites/"+token)
}

// handleInvitationShow handles "GET /invitations/{inviteID}": an invite
// addressed to the signed-in user, reached from their list or after
// signing in from an invite link.
func (s *Server) handleInvitationShow(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	id, ok := idParam(r, "inviteID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	inv, err := s.Invites.FindInviteForEmail(r.Context(), id, p.User.Email)
	if err != nil {
		if app.ErrorCode(err) == app.ENOTFOUND {
			s.errorPage(w, r, http.StatusNotFound, i18n.T(r.Context(), "invites.not_for_you", "Email", p.User.Email))
			return
		}
		s.Error(w, r, err)
		return
	}
	s.renderInvite(w, r, inv, "/invitations/"+strconv.FormatInt(id, 10))
}

// renderInvite renders the invite page for its state; inv nil is unknown.
func (s *Server) renderInvite(w http.ResponseWriter, r *http.Request, inv *app.Invite, base string) {
	p := app.PrincipalFromContext(r.Context())
	v := page.InviteView{ActionBase: base, State: "invalid"}
	status := http.StatusNotFound
	if inv != nil {
		v.Workspace, v.Inviter, v.Role, v.Email = inv.WorkspaceName, inv.InvitedBy(), roleName(r.Context(), inv.Role), inv.Email
		v.State, status = inv.State(s.Now()), http.StatusGone
		if v.State == app.InvitePending {
			v.State, status = "ok", http.StatusOK
			if p != nil && p.User.Email != inv.Email {
				v.State, status = "wrong_user", http.StatusForbidden
			}
		}
	}
	if p != nil {
		v.SignedInAs = p.User.Email
	}
	s.render(w, r, status, page.Invite(s.page(w, r, i18n.T(r.Context(), "invites.page.title")), v))
}

// inviteKey returns the key of the invite a POST under /invites/{token} or
// /invitations/{inviteID} is about.
func inviteKey(r *http.Request) (app.InviteKey, bool) {
	if token := chi.URLParam(r, "token"); token != "" {
		return app.InviteKey{TokenHash: app.HashToken(token)}, app.ValidTokenSyntax(token)
	}
	id, ok := idParam(r, "inviteID")
	return app.InviteKey{ID: id}, ok
}

// handleInviteAccept handles "POST /invites/{token}/accept" and
// "POST /invitations/{inviteID}/accept".
func (s *Server) handleInviteAccept(w http.ResponseWriter, r *http.Request) {
	key, ok := inviteKey(r)
	if !ok {
		s.renderInvite(w, r, nil, "")
		return
	}
	ws, err := s.Invites.AcceptInvite(r.Context(), key, s.plans())
	if errors.Is(err, app.ErrWorkspaceFull) {
		// The invite stays pending: say why, and how to get a seat.
		s.render(w, r, http.StatusConflict, page.Invite(s.page(w, r, i18n.T(r.Context(), "invites.page.title")), page.InviteView{State: "full",
			NoUpgrade: !s.Config.BillingOffered()}))
		return
	}
	if err != nil {
		if joined := s.joinedBy(r, key, err); joined != nil {
			redirect(w, r, wsPath(joined, ""))
			return
		}
		s.inviteActionFailed(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "invites.welcome", "Workspace", ws.Name))
	redirect(w, r, s.nameStepAfterInvite(w, r, &app.PrincipalFromContext(r.Context()).User, wsPath(ws, "")))
}

// joinedBy returns the workspace a failed accept already joined: a second
// click on Accept, after the first one made the user a member.
func (s *Server) joinedBy(r *http.Request, key app.InviteKey, err error) *app.Workspace {
	if app.ErrorCode(err) != app.ECONFLICT {
		return nil
	}
	p := app.PrincipalFromContext(r.Context())
	var inv *app.Invite
	if key.TokenHash != "" {
		inv, err = s.Invites.FindInviteByToken(r.Context(), key.TokenHash)
	} else {
		inv, err = s.Invites.FindInviteForEmail(r.Context(), key.ID, p.User.Email)
	}
	if err != nil || inv.Email != p.User.Email || inv.Status != app.InviteAccepted {
		return nil
	}
	ws, _, err := s.Workspaces.FindWorkspaceForMember(r.Context(), inv.WorkspaceSlug, p.User.ID)
	if err != nil {
		return nil
	}
	return ws
}

// handleInviteDecline handles "POST /invites/{token}/decline" and
// "POST /invitations/{inviteID}/decline".
func (s *Server) handleInviteDecline(w http.ResponseWriter, r *http.Request) {
	key, ok := inviteKey(r)
	if !ok {
		s.renderInvite(w, r, nil, "")
		return
	}
	if err := s.Invites.DeclineInvite(r.Context(), key); err != nil {
		s.inviteActionFailed(w, r, err)
		return
	}
	s.setFlash(w, "info", i18n.T(r.Context(), "invites.declined_flash"))
	redirect(w, r, "/settings/workspaces")
}

// inviteActionFailed explains why an invite could not be accepted or
// declined.
func (s *Server) inviteActionFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch app.ErrorCode(err) {
	case app.ECONFLICT, app.EINVALID, app.EFORBIDDEN:
		s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
		redirect(w, r, "/settings/workspaces")
	case app.ENOTFOUND:
		s.renderInvite(w, r, nil, "")
	default:
		s.Error(w, r, err)
	}
}

// handleTestInvite handles "POST /settings/workspaces/test-invite": an
// invite-style email to the signed-in user, to check SMTP. It creates no
// invite and no membership.
func (s *Server) handleTestInvite(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	list, err := s.Workspaces.FindWorkspacesByUser(r.Context(), p.User.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !slices.ContainsFunc(list, func(uw *app.UserWorkspace) bool { return uw.Role == app.RoleOwner }) {
		s.errorPage(w, r, http.StatusForbidden, i18n.T(r.Context(), "workspaces.email_check.owners_only"))
		return
	}
	if err := s.Outbox.EnqueueEmail(r.Context(), mail.TestInviteEmail(s.mailPrinter(r.Context(), p.User.Language), s.Config.AppName, p.User.Email)); err != nil {
		s.Error(w, r, err)
		return
	}
	msg := i18n.T(r.Context(), "workspaces.email_check.sent", "Email", p.User.Email)
	if s.Config.MailStub() {
		msg = i18n.T(r.Context(), "workspaces.email_check.sent_stub", "Email", p.User.Email)
	}
	s.setFlash(w, "success", msg)
	redirect(w, r, "/settings/workspaces")
}
