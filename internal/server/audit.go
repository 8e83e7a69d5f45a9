package server

import (
	"fmt"
	"net/http"
	"strconv"

	"atrium/internal/app"
	"atrium/web/page"
)

// auditPageSize is how many entries the audit page shows at once.
const auditPageSize = 50

// auditActions are the filter choices on the audit page.
var auditActions = []string{
	app.ActionWorkspaceCreated, app.ActionWorkspaceRenamed, app.ActionWorkspaceSlugChanged,
	app.ActionInviteSent, app.ActionInviteResent, app.ActionInviteRevoked, app.ActionInviteAccepted, app.ActionInviteDeclined,
	app.ActionMemberRoleChanged, app.ActionMemberRemoved, app.ActionMemberLeft, app.ActionOwnershipTransferred,
}

// handleAudit handles "GET /w/{slug}/audit" (owners and admins): the
// workspace's audit log, newest first, filterable by action, paged by id.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	f := app.AuditFilter{WorkspaceID: sc.ws.ID, Limit: auditPageSize + 1}
	q := r.URL.Query()
	for _, a := range auditActions {
		if q.Get("action") == a {
			f.Action = a
		}
	}
	if before, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && before > 0 {
		f.BeforeID = before
	}
	entries, err := s.Audit.FindAuditEntries(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := page.AuditView{Slug: sc.ws.Slug, Action: f.Action, Actions: auditActions}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		v.NextCursor = strconv.FormatInt(entries[len(entries)-1].ID, 10)
	}
	for _, e := range entries {
		v.Rows = append(v.Rows, s.auditRow(e, sc.ws, p.User.TimeZone))
	}
	s.render(w, r, http.StatusOK, page.Audit(s.workspacePage(w, r, "Audit log", "audit"), v))
}

// auditRow turns an entry into a line a person can read.
func (s *Server) auditRow(e *app.AuditEntry, ws *app.Workspace, tz string) page.AuditRow {
	actor := e.ActorEmail
	if actor == "" {
		actor = "System"
		if e.ActorID != 0 {
			actor = "A deleted user"
		}
	}
	row := page.AuditRow{When: s.formatTime(e.CreatedAt, tz), Actor: actor, Action: e.Action}
	md := func(k string) string {
		if v, ok := e.Metadata[k]; ok {
			return fmt.Sprint(v)
		}
		return ""
	}
	switch e.Action {
	case app.ActionWorkspaceCreated:
		row.Summary = "Created the workspace “" + md("name") + "”"
		row.Link = wsPath(ws, "")
	case app.ActionWorkspaceRenamed:
		row.Summary = "Renamed the workspace from “" + md("from") + "” to “" + md("to") + "”"
		row.Link = wsPath(ws, "/settings")
	case app.ActionWorkspaceSlugChanged:
		row.Summary = "Changed the address from /w/" + md("from") + " to /w/" + md("to")
		row.Link = wsPath(ws, "/settings")
	case app.ActionInviteSent:
		row.Summary = "Invited " + md("email") + " as " + app.Role(md("role")).Label()
		row.Link = wsPath(ws, "/members")
	case app.ActionInviteResent:
		row.Summary = "Resent the invite to " + md("email")
		row.Link = wsPath(ws, "/members")
	case app.ActionInviteRevoked:
		row.Summary = "Revoked the invite to " + md("email")
		row.Link = wsPath(ws, "/members")
	case app.ActionInviteAccepted:
		row.Summary = "Joined as " + app.Role(md("role")).Label()
		row.Link = wsPath(ws, "/members")
	case app.ActionInviteDeclined:
		row.Summary = "Declined the invite"
	case app.ActionMemberRoleChanged:
		row.Summary = "Changed " + orSomeone(md("email")) + "'s role from " + app.Role(md("from")).Label() + " to " + app.Role(md("to")).Label()
		row.Link = wsPath(ws, "/members")
	case app.ActionMemberRemoved:
		row.Summary = "Removed " + orSomeone(md("email")) + " from the workspace"
		row.Link = wsPath(ws, "/members")
	case app.ActionMemberLeft:
		row.Summary = "Left the workspace"
	case app.ActionOwnershipTransferred:
		row.Summary = "Made " + orSomeone(md("email")) + " an owner and stepped down to admin"
		row.Link = wsPath(ws, "/members")
	default:
		row.Summary = e.Action
	}
	return row
}

// orSomeone returns email, or "a member" for entries that predate it.
func orSomeone(email string) string {
	if email == "" {
		return "a member"
	}
	return email
}
