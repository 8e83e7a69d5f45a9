package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/i18n"
	"atrium/internal/mail"
	"atrium/web/page"
)

// The console's actions: each has a confirmation page (GET) naming its
// consequence and asking for the reason, and a POST that runs it and
// answers 303 with a flash. The store writes the audit entry with the
// reason in the action's transaction.

// adminAction is one console action on a user or a workspace.
type adminAction struct {
	// title, button and consequence are catalog keys; the consequence says
	// what the action does to {{.Subject}} (an email, a workspace's
	// address, a job).
	title, button, consequence string
	danger                     bool
	// run acts on id with the reason and returns the flash.
	run func(s *Server, r *http.Request, id int64, reason string) (string, error)
}

// adminUserActions are the actions of a user's console page, by path.
var adminUserActions = map[string]adminAction{
	"suspend": {title: "admin.user.suspend.title", button: "admin.user.suspend.button", danger: true,
		consequence: "admin.user.suspend.consequence",
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			return i18n.T(r.Context(), "admin.user.suspend.done"), s.Admin.SuspendUser(r.Context(), id, reason)
		}},
	"unsuspend": {title: "admin.action.unsuspend", button: "admin.action.unsuspend",
		consequence: "admin.user.unsuspend.consequence",
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			return i18n.T(r.Context(), "admin.unsuspend.done"), s.Admin.UnsuspendUser(r.Context(), id, reason)
		}},
	"end-sessions": {title: "admin.user.action.end_sessions", button: "admin.user.action.end_sessions", danger: true,
		consequence: "admin.user.end_sessions.consequence",
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			n, err := s.Admin.EndUserSessions(r.Context(), id, reason)
			return i18n.N(r.Context(), "admin.user.end_sessions.done", n), err
		}},
	"send-link": {title: "admin.user.send_link.title", button: "admin.user.send_link.button",
		consequence: "admin.user.send_link.consequence",
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			d, err := s.Admin.FindAdminUser(r.Context(), id)
			if err != nil {
				return "", err
			}
			token, hash := app.NewToken()
			link := s.Config.AppURL.String() + "/auth/verify?token=" + url.QueryEscape(token)
			req := app.LoginRequest{Email: d.User.Email, TokenHash: hash, ExpiresAt: s.Now().Add(app.LoginTokenTTL)}
			if err := s.Admin.SendSignInLink(r.Context(), id, reason, req, mail.MagicLinkEmail(s.mailPrinterTo(r.Context(), d.User.Email), s.Config.AppName, d.User.Email, link)); err != nil {
				return "", err
			}
			return i18n.T(r.Context(), "admin.user.send_link.done", "Email", d.User.Email), nil
		}},
}

// adminWorkspaceActions are the actions of a workspace's console page.
var adminWorkspaceActions = map[string]adminAction{
	"suspend": {title: "admin.workspace.suspend.title", button: "admin.workspace.suspend.button", danger: true,
		consequence: "admin.workspace.suspend.consequence",
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			return i18n.T(r.Context(), "admin.workspace.suspend.done"), s.Admin.SuspendWorkspace(r.Context(), id, reason)
		}},
	"unsuspend": {title: "admin.action.unsuspend", button: "admin.action.unsuspend",
		consequence: "admin.workspace.unsuspend.consequence",
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			return i18n.T(r.Context(), "admin.unsuspend.done"), s.Admin.UnsuspendWorkspace(r.Context(), id, reason)
		}},
	"billing-sync": {title: "admin.workspace.action.billing_sync", button: "admin.workspace.billing_sync.button",
		consequence: "admin.workspace.billing_sync.consequence",
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			return s.adminBillingSync(r.Context(), id, reason)
		}},
}

// adminBillingSync runs billing.Sync for the workspace, after recording
// the request with its reason.
func (s *Server) adminBillingSync(ctx context.Context, id int64, reason string) (string, error) {
	if s.Stripe == nil {
		return "", app.Errorf(app.ECONFLICT, "Billing is off: set STRIPE_SECRET_KEY to sync with Stripe.")
	}
	d, err := s.Admin.FindAdminWorkspace(ctx, id)
	if err != nil {
		return "", err
	}
	if err := s.Admin.RecordBillingSync(ctx, id, reason); err != nil {
		return "", err
	}
	ws, err := s.Billing.FindWorkspaceBySlug(ctx, d.Workspace.Slug)
	if err != nil {
		return "", err
	}
	res, err := billing.Sync(ctx, s.Stripe, s.Billing, ws)
	switch {
	case err != nil:
		return "", err
	case res.NoCustomer:
		return i18n.T(ctx, "admin.workspace.billing_sync.no_customer"), nil
	case res.NoSubscription:
		return i18n.T(ctx, "admin.workspace.billing_sync.no_subscription"), nil
	}
	msg := i18n.T(ctx, "admin.workspace.billing_sync.done", "Plan", s.planLabel(app.PlanFor(res.Update.Status, res.Update.Plan)),
		"Status", strconv.Quote(res.Update.Status))
	switch seats := res.Seats; {
	case seats == nil || seats.NotPerSeat:
	case seats.Updated:
		msg += " " + i18n.T(ctx, "admin.workspace.billing_sync.seats_updated", "Stripe", i18n.Number(ctx, int64(seats.Stripe)),
			"Members", i18n.Number(ctx, int64(seats.Members)))
	default:
		msg += " " + i18n.T(ctx, "admin.workspace.billing_sync.seats_in_step", "Members", i18n.Number(ctx, int64(seats.Members)))
	}
	return msg, nil
}

// adminSubject names the user or workspace an action is about, or answers
// its error (404 for an unknown id).
func (s *Server) adminSubject(w http.ResponseWriter, r *http.Request, user bool) (id int64, subject, back string, ok bool) {
	if user {
		id = pathID(r, "userID")
		d, err := s.Admin.FindAdminUser(r.Context(), id)
		if err != nil {
			s.Error(w, r, err)
			return 0, "", "", false
		}
		return id, d.User.Email, adminUserURL(id), true
	}
	id = pathID(r, "workspaceID")
	d, err := s.Admin.FindAdminWorkspace(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return 0, "", "", false
	}
	return id, "/w/" + d.Workspace.Slug, adminWorkspaceURL(id), true
}

// adminConfirm returns the handler of an action's confirmation page,
// "GET /admin/users/{userID}/<name>" or "GET /admin/workspaces/{workspaceID}/<name>".
func (s *Server) adminConfirm(name string, user bool) http.HandlerFunc {
	a := adminActionOf(name, user)
	return func(w http.ResponseWriter, r *http.Request) {
		_, subject, back, ok := s.adminSubject(w, r, user)
		if !ok {
			return
		}
		s.renderAdminConfirm(w, r, http.StatusOK, a, subject, back, r.URL.Path, "", "")
	}
}

func adminActionOf(name string, user bool) adminAction {
	a, ok := adminUserActions[name]
	if !user {
		a, ok = adminWorkspaceActions[name]
	}
	if !ok {
		panic("server: no console action " + name)
	}
	return a
}

func (s *Server) renderAdminConfirm(w http.ResponseWriter, r *http.Request, status int, a adminAction, subject, back, action, reason, errMsg string) {
	section := "admin-users"
	switch {
	case strings.HasPrefix(back, "/admin/workspaces"):
		section = "admin-workspaces"
	case strings.HasPrefix(back, "/admin/jobs"):
		section = "admin-jobs"
	}
	ctx := r.Context()
	title := i18n.T(ctx, a.title)
	s.render(w, r, status, page.AdminConfirm(s.adminPage(w, r, title, section), page.AdminConfirmView{
		Title: title, Consequence: i18n.T(ctx, a.consequence, "Subject", subject), Action: action, Button: i18n.T(ctx, a.button),
		Danger: a.danger, Reason: reason, Error: errMsg, CancelURL: back, ReasonLabel: i18n.T(ctx, "admin.confirm.reason")}))
}

// adminDo returns the handler that runs an action,
// "POST /admin/users/{userID}/<name>" or "POST /admin/workspaces/{workspaceID}/<name>".
// Without the confirmation's field it shows the confirmation; a missing
// or bad reason shows it again with the error beside the field (422).
func (s *Server) adminDo(name string, user bool) http.HandlerFunc {
	a := adminActionOf(name, user)
	return func(w http.ResponseWriter, r *http.Request) {
		id, subject, back, ok := s.adminSubject(w, r, user)
		if !ok {
			return
		}
		reason := r.PostFormValue("reason")
		if r.PostFormValue("confirm") != "yes" {
			s.renderAdminConfirm(w, r, http.StatusOK, a, subject, back, r.URL.Path, reason, "")
			return
		}
		msg, err := a.run(s, r, id, reason)
		switch {
		case app.ErrorCode(err) == app.EINVALID:
			s.renderAdminConfirm(w, r, http.StatusUnprocessableEntity, a, subject, back, r.URL.Path, reason, i18n.ErrorText(r.Context(), err))
			return
		case app.ErrorCode(err) == app.ECONFLICT:
			s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
		case err != nil:
			s.Error(w, r, err)
			return
		default:
			s.setFlash(w, "success", msg)
		}
		redirect(w, r, back)
	}
}
