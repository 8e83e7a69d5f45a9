package server

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

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
// workspace's audit log, newest first, paged by cursor and filtered by
// ?actor=<user id> (or actor_email from the form), ?action=<code>, and
// ?from= and ?to= dates (YYYY-MM-DD, inclusive, in the viewer's time zone).
// A bad filter value is shown beside the form with a 422.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	v := page.AuditView{Slug: sc.ws.Slug, Actions: auditActions}
	f, ok, err := s.auditFilter(r, sc.ws.ID, p.User.TimeZone, &v)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !ok {
		s.render(w, r, http.StatusUnprocessableEntity, page.Audit(s.workspacePage(w, r, "Audit log", "audit"), v))
		return
	}
	var entries []*app.AuditEntry
	if f.WorkspaceID != 0 {
		if entries, err = s.Audit.FindAuditEntries(r.Context(), f); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		v.NextCursor = formatAuditCursor(app.CursorOf(entries[len(entries)-1]))
	}
	if f.ActorID != 0 && v.ActorEmail == "" && len(entries) > 0 {
		v.ActorEmail = entries[0].ActorEmail
	}
	v.Rows = make([]page.AuditRow, 0, len(entries))
	for _, e := range entries {
		v.Rows = append(v.Rows, s.auditRow(e, sc.ws, p.User.TimeZone))
	}
	s.render(w, r, http.StatusOK, page.Audit(s.workspacePage(w, r, "Audit log", "audit"), v))
}

// auditFilter reads the audit page's query into a filter of the workspace
// and fills the view's filter fields. It returns false, with v.Errors set,
// when a value is malformed. An actor_email that names no user gives a
// filter with WorkspaceID 0: nothing to look up.
func (s *Server) auditFilter(r *http.Request, workspaceID int64, tz string, v *page.AuditView) (app.AuditFilter, bool, error) {
	q := r.URL.Query()
	f := app.AuditFilter{WorkspaceID: workspaceID, Limit: auditPageSize + 1}
	errs := map[string]string{}
	if a := q.Get("action"); a != "" {
		if !slices.Contains(auditActions, a) {
			errs["action"] = "Choose an action from the list."
		}
		f.Action, v.Action = a, a
	}
	actor, known, err := s.auditActor(r, v, errs)
	if err != nil {
		return f, false, err
	}
	if !known {
		f.WorkspaceID = 0
	}
	f.ActorID = actor
	loc := s.location(tz)
	day := func(field string) time.Time {
		raw := q.Get(field)
		if raw == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(time.DateOnly, raw, loc)
		if err != nil {
			errs[field] = "Enter the date as YYYY-MM-DD."
		}
		return t
	}
	v.From, v.To = q.Get("from"), q.Get("to")
	f.From = day("from")
	if to := day("to"); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1) // through the end of that day
		if !f.From.IsZero() && !f.To.After(f.From) {
			errs["to"] = "The end date must not be before the start date."
		}
	}
	if c, ok := parseAuditCursor(q.Get("before")); ok {
		f.Before = c
	}
	if len(errs) > 0 {
		v.Errors = errs
		return f, false, nil
	}
	return f, true, nil
}

// auditActor reads the actor filter: ?actor=<user id> (the URL contract), or
// else the email typed in the form. It reports false when the email names
// no user, so that no entry can match.
func (s *Server) auditActor(r *http.Request, v *page.AuditView, errs map[string]string) (int64, bool, error) {
	q := r.URL.Query()
	if id := q.Get("actor"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			errs["actor"] = "The actor must be a user id."
		}
		v.Actor = id
		return n, true, nil
	}
	email := strings.TrimSpace(q.Get("actor_email"))
	if email == "" {
		return 0, true, nil
	}
	v.ActorEmail = email
	norm, err := app.NormalizeEmail(email)
	if err != nil {
		errs["actor"] = app.ErrorMessage(err)
		return 0, true, nil
	}
	u, err := s.Users.FindUserByEmail(r.Context(), norm)
	switch {
	case app.ErrorCode(err) == app.ENOTFOUND:
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	v.Actor = strconv.FormatInt(u.ID, 10)
	return u.ID, true, nil
}

// formatAuditCursor writes a cursor as "<unix microseconds>-<id>".
func formatAuditCursor(c app.AuditCursor) string {
	return strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "-" + strconv.FormatInt(c.ID, 10)
}

// parseAuditCursor reads a cursor formatAuditCursor wrote; anything else
// means no cursor (the first page).
func parseAuditCursor(raw string) (app.AuditCursor, bool) {
	us, id, ok := strings.Cut(raw, "-")
	if !ok {
		return app.AuditCursor{}, false
	}
	t, err1 := strconv.ParseInt(us, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 {
		return app.AuditCursor{}, false
	}
	return app.AuditCursor{CreatedAt: time.UnixMicro(t).UTC(), ID: n}, true
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
