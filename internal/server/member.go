package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/page"
)

// invitesPerPage is how many pending invites a page of the members page's
// invite section lists, the newest first (?invites=N pages on).
const invitesPerPage = 5

// invitePagesMax bounds ?invites=N: past it the section shows its last
// page (the list is read up to the page asked for).
const invitePagesMax = 100

// handleMembers handles "GET /w/{slug}/members?page=N".
func (s *Server) handleMembers(w http.ResponseWriter, r *http.Request) {
	s.renderMembers(w, r, http.StatusOK, nil)
}

// renderMembers renders a page of the members page (?page=N, 50 members a
// page); form, when set, is an invite form to show again with the user's
// input and errors. Its statements are the same however many members and
// invites the workspace has: one for the page of members with the counts
// the role rules need, one for the invites (owners and admins only).
func (s *Server) renderMembers(w http.ResponseWriter, r *http.Request, status int, form *page.InviteForm) {
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		n = 1
	}
	q := formEcho(r.URL.Query().Get("q"))
	if len(q) > 100 {
		q = q[:100]
	}
	mp, err := s.Members.SearchMembers(r.Context(), sc.scope(), q, n)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if len(mp.Members) == 0 && n > 1 {
		redirect(w, r, wsPath(sc.ws, "/members")+searchQuery(q, 0))
		return
	}
	if len(mp.Members) == 0 && q != "" {
		// Nothing matches: the counts come with the first page instead.
		all, err := s.Members.FindMemberPage(r.Context(), sc.scope(), 1)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		mp = &app.MemberPage{Page: 1, WorkspaceStats: all.WorkspaceStats, Owners: all.Owners}
	}
	actor, owners := sc.m.Role, mp.Owners
	v := page.MembersView{URL: workspaceURL(sc.ws.Slug), WorkspaceName: sc.ws.Name, CanInvite: app.CanManageInvites(actor) == nil, MemberCount: mp.WorkspaceStats.Members,
		PendingCount: mp.PendingInvites, Members: make([]page.MemberRow, 0, len(mp.Members))}
	v.ShowInvites = v.CanInvite
	v.ShowTwoFactor = actor.AtLeast(app.RoleAdmin)
	v.Query = q
	if n > 1 {
		v.PrevURL = wsPath(sc.ws, "/members") + searchQuery(q, n-1)
	}
	if mp.HasNext {
		v.NextURL = wsPath(sc.ws, "/members") + searchQuery(q, n+1)
	}
	for _, m := range mp.Members {
		v.Members = append(v.Members, s.memberRow(r.Context(), m, actor, p.User, owners))
	}
	if v.ShowInvites {
		ip, _ := strconv.Atoi(r.URL.Query().Get("invites"))
		ip = min(max(ip, 1), invitePagesMax)
		rows, err := s.inviteRows(r, sc.scope(), p.User.TimeZone, ip*invitesPerPage+1)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		for ip > 1 && len(rows) <= (ip-1)*invitesPerPage {
			ip--
		}
		v.Invites = rows[(ip-1)*invitesPerPage : min(len(rows), ip*invitesPerPage)]
		if ip > 1 {
			v.InvitesPrevURL = wsPath(sc.ws, "/members") + membersQuery(q, n, ip-1) + "#pending-invites"
		}
		if len(rows) > ip*invitesPerPage {
			v.InvitesNextURL = wsPath(sc.ws, "/members") + membersQuery(q, n, ip+1) + "#pending-invites"
		}
	}
	if form != nil {
		v.Invite = *form
	} else {
		v.Invite = page.InviteForm{Role: string(app.RoleMember)}
	}
	for _, role := range app.InviteRoles(actor) {
		v.Invite.RoleChoices = append(v.Invite.RoleChoices, string(role))
	}
	if err := s.plans().CheckSeats(sc.ws, mp.SeatsUsed()); err != nil {
		v.Invite.SeatsFull = true
		v.Invite.SeatMessage = i18n.ErrorText(r.Context(), err)
		if s.Config.BillingOffered() {
			v.Invite.BillingURL = wsPath(sc.ws, "/billing")
		}
	}
	if !v.Invite.SeatsFull {
		v.Invite.SeatCost = s.seatCost(r, sc.ws, actor, mp.SeatsUsed())
	}
	if err := app.CanLeave(actor, owners); err != nil {
		v.LeaveBlocked = i18n.ErrorText(r.Context(), err)
	} else {
		v.CanLeave = true
	}
	s.render(w, r, status, page.Members(s.workspacePage(w, r, i18n.T(r.Context(), "members.title"), "members"), v))
}

// searchQuery returns the members page's query string for a search and a
// page number (0 or 1 for the first page).
func searchQuery(q string, page int) string { return membersQuery(q, page, 1) }

// membersQuery returns the members page's query string for a search, a
// page of members and a page of invites (0 or 1 for the first pages).
func membersQuery(q string, page, invites int) string {
	v := url.Values{}
	if invites > 1 {
		v.Set("invites", strconv.Itoa(invites))
	}
	if q != "" {
		v.Set("q", q)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// inviteRows lists up to limit of the newest pending invites of a
// workspace for those who manage them, with how each email fared.
func (s *Server) inviteRows(r *http.Request, sc app.Scope, tz string, limit int) ([]page.InviteRow, error) {
	invites, err := s.Invites.FindInvites(r.Context(), sc, limit)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	rows := make([]page.InviteRow, 0, len(invites))
	for _, inv := range invites {
		row := page.InviteRow{ID: inv.ID, Email: inv.Email, Role: roleName(r.Context(), inv.Role), InvitedBy: inv.InvitedBy(),
			Sent: s.formatDate(r.Context(), inv.CreatedAt, tz), Expires: s.formatDate(r.Context(), inv.ExpiresAt, tz),
			Expired: inv.State(now) == app.InviteExpired, Delivery: deliveryState(inv.Delivery), CanManage: true}
		switch {
		case row.Expired:
			// Its link no longer works: Resend is the way on, and no email
			// is waiting to be retried.
			row.Status = "expired"
		case row.Delivery == "failed":
			row.Status, row.ShareLink, row.DeliveryNote = "failed", inv.ShareLink, deliveryNote(r.Context(), inv)
		case row.Delivery == "pending" && !s.Config.MailStub():
			// Mail really is queued for a retry only with an SMTP server.
			row.Status, row.ShareLink, row.DeliveryNote = "pending", inv.ShareLink, deliveryNote(r.Context(), inv)
		default:
			row.Status = "pending"
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// handleMember handles "GET /w/{slug}/members/{userID}" (admins): one
// member with the actions the viewer may take, where the members page's
// Actions lead without scripts. Someone who is not a member of this
// workspace is not found.
func (s *Server) handleMember(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	uid, ok := idParam(r, "userID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	_, ms, err := s.Workspaces.FindWorkspaceForMember(r.Context(), sc.ws.Slug, uid)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.Users.FindUserByID(r.Context(), uid)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	mp, err := s.Members.FindMemberPage(r.Context(), sc.scope(), 1)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	m := &app.Member{Membership: *ms, Email: u.Email, Name: u.Name}
	v := page.MemberView{URL: workspaceURL(sc.ws.Slug), WorkspaceName: sc.ws.Name, Member: s.memberRow(r.Context(), m, sc.m.Role, p.User, mp.Owners)}
	s.render(w, r, http.StatusOK, page.MemberPage(s.workspacePage(w, r, i18n.T(r.Context(), "members.title"), "members"), v))
}

// memberRow is one member as the viewer (role actor) sees them.
func (s *Server) memberRow(ctx context.Context, m *app.Member, actor app.Role, viewer app.User, owners int) page.MemberRow {
	self := m.UserID == viewer.ID
	row := page.MemberRow{UserID: m.UserID, Name: m.Name, Email: m.Email, Role: string(m.Role), RoleLabel: roleName(ctx, m.Role),
		Joined: s.formatDate(ctx, m.CreatedAt, viewer.TimeZone), IsYou: self, TwoFactor: m.TwoFactor,
		CanRemove:   app.CanRemoveMember(actor, m.Role, self, owners) == nil,
		CanTransfer: app.CanTransferOwnership(actor, self) == nil && m.Role != app.RoleOwner}
	for _, to := range app.Roles {
		if to != m.Role && app.CanChangeRole(actor, m.Role, to, self, owners) == nil {
			row.RoleChoices = append(row.RoleChoices, string(to))
		}
	}
	if len(row.RoleChoices) > 0 {
		row.CanChangeRole = true
		row.RoleChoices = append([]string{string(m.Role)}, row.RoleChoices...)
	}
	return row
}

func deliveryState(outboxStatus string) string {
	switch outboxStatus {
	case app.OutboxSent:
		return "sent"
	case app.OutboxFailed:
		return "failed"
	default:
		return "pending"
	}
}

// deliveryNote says why an invite's email has not gone out yet, and what
// to do meanwhile.
func deliveryNote(ctx context.Context, inv *app.Invite) string {
	switch {
	case inv.Delivery == app.OutboxFailed:
		return i18n.T(ctx, "members.invites.delivery.failed")
	case inv.DeliveryError != "":
		return i18n.T(ctx, "members.invites.delivery.retrying")
	default:
		return i18n.T(ctx, "members.invites.delivery.queued")
	}
}

// roleName names a workspace role in the reader's language ("Owner",
// "Inhaber"), wherever a page shows one; an unknown role is shown as it is.
func roleName(ctx context.Context, role app.Role) string { return page.RoleLabel(ctx, string(role)) }

// idParam reads a positive numeric route parameter such as {userID}.
func idParam(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	return id, err == nil && id > 0
}

// memberAction runs a membership change and answers with a flash and a
// redirect to the members page, or the error page when the rules say no.
func (s *Server) memberAction(w http.ResponseWriter, r *http.Request, success string, act func() error) {
	sc := scopeFrom(r.Context())
	if err := act(); err != nil {
		s.memberActionError(w, r, err)
		return
	}
	s.setFlash(w, "success", success)
	redirect(w, r, wsPath(sc.ws, "/members"))
}

// memberActionError answers a refused member action: a flash on the
// members page for a conflict or invalid choice, the error page otherwise.
func (s *Server) memberActionError(w http.ResponseWriter, r *http.Request, err error) {
	switch app.ErrorCode(err) {
	case app.ECONFLICT, app.EINVALID:
		s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
		redirect(w, r, wsPath(scopeFrom(r.Context()).ws, "/members"))
	default:
		s.Error(w, r, err)
	}
}

// handleMemberRole handles "POST /w/{slug}/members/{userID}/role".
func (s *Server) handleMemberRole(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	uid, ok := idParam(r, "userID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	role, err := app.ParseRole(r.PostFormValue("role"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if r.PostFormValue("confirm") != "yes" && !app.APIKeyActs(role) {
		// A role that cannot manage keys revokes the ones they created:
		// when there are any, ask first and say so.
		keys, err := s.APIKeys.CountAPIKeysCreatedBy(r.Context(), sc.scope(), uid)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if keys > 0 {
			who, err := s.confirmMember(r, uid, func(target app.Role, self bool) error {
				return app.CanChangeRole(sc.m.Role, target, role, self, 2)
			})
			if err != nil {
				s.memberActionError(w, r, err)
				return
			}
			s.confirmed(w, r, s.inWorkspace(w, r), page.ConfirmDemote(r.Context(), workspaceURL(sc.ws.Slug), sc.ws.Name, uid, who, string(role), roleName(r.Context(), role), keys))
			return
		}
	}
	s.memberAction(w, r, i18n.T(r.Context(), "members.role_changed", "Role", roleName(r.Context(), role)), func() error {
		return s.Members.ChangeMemberRole(r.Context(), sc.scope(), uid, role)
	})
}

// handleMemberRemove handles "POST /w/{slug}/members/{userID}/remove".
func (s *Server) handleMemberRemove(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	uid, ok := idParam(r, "userID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		// The last-owner rule is left to the store: two owners are assumed.
		who, err := s.confirmMember(r, uid, func(target app.Role, self bool) error {
			return app.CanRemoveMember(sc.m.Role, target, self, 2)
		})
		if err != nil {
			s.memberActionError(w, r, err)
			return
		}
		keys, err := s.APIKeys.CountAPIKeysCreatedBy(r.Context(), sc.scope(), uid)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		s.confirmed(w, r, s.inWorkspace(w, r), page.ConfirmRemoveMember(r.Context(), workspaceURL(sc.ws.Slug), sc.ws.Name, uid, who).AlsoRevokesKeys(r.Context(), keys, "they"))
		return
	}
	s.memberAction(w, r, i18n.T(r.Context(), "members.removed"), func() error {
		return s.Members.RemoveMember(r.Context(), sc.scope(), uid)
	})
}

// handleTransfer handles "POST /w/{slug}/transfer" (owners).
func (s *Server) handleTransfer(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	uid, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("user_id")), 10, 64)
	if err != nil || uid <= 0 {
		s.Error(w, r, app.Errorf(app.EINVALID, "Choose a member to make owner."))
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		who, err := s.confirmMember(r, uid, func(_ app.Role, self bool) error {
			return app.CanTransferOwnership(sc.m.Role, self)
		})
		if err != nil {
			s.memberActionError(w, r, err)
			return
		}
		s.confirmed(w, r, s.inWorkspace(w, r), page.ConfirmTransfer(r.Context(), workspaceURL(sc.ws.Slug), sc.ws.Name, uid, who))
		return
	}
	s.memberAction(w, r, i18n.T(r.Context(), "members.transferred"), func() error {
		return s.Members.TransferOwnership(r.Context(), sc.scope(), uid)
	})
}

// handleLeave handles "POST /w/{slug}/leave".
func (s *Server) handleLeave(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if r.PostFormValue("confirm") != "yes" {
		keys, err := s.APIKeys.CountAPIKeysCreatedBy(r.Context(), sc.scope(), app.PrincipalFromContext(r.Context()).User.ID)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		s.confirmed(w, r, s.inWorkspace(w, r), page.ConfirmLeave(r.Context(), workspaceURL(sc.ws.Slug), sc.ws.Name).AlsoRevokesKeys(r.Context(), keys, "you"))
		return
	}
	if err := s.Members.LeaveWorkspace(r.Context(), sc.scope()); err != nil {
		if app.ErrorCode(err) == app.ECONFLICT {
			s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
			redirect(w, r, wsPath(sc.ws, "/members"))
			return
		}
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "members.left", "Workspace", sc.ws.Name))
	redirect(w, r, "/settings/workspaces")
}
