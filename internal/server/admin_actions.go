package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/mail"
	"atrium/web/page"
)

// The console's actions: each has a confirmation page (GET) naming its
// consequence and asking for the reason, and a POST that runs it and
// answers 303 with a flash. The store writes the audit entry with the
// reason in the action's transaction.

// adminAction is one console action on a user or a workspace.
type adminAction struct {
	title, button string
	danger        bool
	// consequence says what the action does to subject (an email or a
	// workspace's address).
	consequence func(subject string) string
	// run acts on id with the reason and returns the flash.
	run func(s *Server, r *http.Request, id int64, reason string) (string, error)
}

// adminUserActions are the actions of a user's console page, by path.
var adminUserActions = map[string]adminAction{
	"suspend": {title: "Suspend this account", button: "Suspend the account", danger: true,
		consequence: func(who string) string {
			return who + " is signed out everywhere and cannot sign in until the suspension is lifted; sign-in shows them that the account is suspended. " +
				"API keys of their workspaces keep working: they act for the workspace, not for a person (suspend a workspace to stop its keys' changes)."
		},
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			return "The account is suspended and every session of it ended.", s.Admin.SuspendUser(r.Context(), id, reason)
		}},
	"unsuspend": {title: "Lift the suspension", button: "Lift the suspension",
		consequence: func(who string) string { return who + " can sign in again with an email link." },
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			return "The suspension is lifted.", s.Admin.UnsuspendUser(r.Context(), id, reason)
		}},
	"end-sessions": {title: "End all sessions", button: "End all sessions", danger: true,
		consequence: func(who string) string {
			return "Every browser signed in as " + who + " is signed out; they sign in again with an email link or passkey."
		},
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			n, err := s.Admin.EndUserSessions(r.Context(), id, reason)
			return fmt.Sprintf("Ended %d session(s).", n), err
		}},
	"send-link": {title: "Send a sign-in link", button: "Send the link",
		consequence: func(who string) string {
			return "A sign-in link valid for 15 minutes is emailed to " + who + ", as the sign-in page would send it. Nobody else sees the link."
		},
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
			return "A sign-in link is on its way to " + d.User.Email + ".", nil
		}},
}

// adminWorkspaceActions are the actions of a workspace's console page.
var adminWorkspaceActions = map[string]adminAction{
	"suspend": {title: "Suspend this workspace", button: "Suspend the workspace", danger: true,
		consequence: func(ws string) string {
			return ws + " becomes read-only: its members can open and read it, and its API keys can read, but nothing can change it " +
				"(no invites, settings, members or keys). Its billing is untouched: Stripe keeps charging as before."
		},
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			return "The workspace is suspended: read-only.", s.Admin.SuspendWorkspace(r.Context(), id, reason)
		}},
	"unsuspend": {title: "Lift the suspension", button: "Lift the suspension",
		consequence: func(ws string) string { return ws + " can be changed again by its members and keys." },
		run: func(s *Server, r *http.Request, id int64, reason string) (string, error) {
			return "The suspension is lifted.", s.Admin.UnsuspendWorkspace(r.Context(), id, reason)
		}},
	"billing-sync": {title: "Sync billing from Stripe", button: "Sync billing",
		consequence: func(ws string) string {
			return "The subscription of " + ws + " is read from Stripe and overwrites the plan and status kept here, as `atrium billing sync` does."
		},
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
		return "The workspace has no Stripe customer: nothing to sync.", nil
	case res.NoSubscription:
		return "Stripe has no subscription for this customer: the workspace is back on the free plan.", nil
	}
	msg := fmt.Sprintf("Synced from Stripe: plan %s, status %q.", s.planLabel(app.PlanFor(res.Update.Status, res.Update.Plan)), res.Update.Status)
	if seats := res.Seats.Sentence(); seats != "" {
		msg += " " + seats
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
	s.render(w, r, status, page.AdminConfirm(s.adminPage(w, r, a.title, section), page.AdminConfirmView{
		Title: a.title, Consequence: a.consequence(subject), Action: action, Button: a.button, Danger: a.danger,
		Reason: reason, Error: errMsg, CancelURL: back, ReasonLabel: "Reason"}))
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
			s.renderAdminConfirm(w, r, http.StatusUnprocessableEntity, a, subject, back, r.URL.Path, reason, app.ErrorMessage(err))
			return
		case app.ErrorCode(err) == app.ECONFLICT:
			s.setFlash(w, "error", app.ErrorMessage(err))
		case err != nil:
			s.Error(w, r, err)
			return
		default:
			s.setFlash(w, "success", msg)
		}
		redirect(w, r, back)
	}
}
