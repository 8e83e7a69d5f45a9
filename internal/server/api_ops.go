package server

import (
	"context"
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/server/api"
)

// apiPageMax is the most items one page of a list returns.
const apiPageMax = 200

// apiLimit is a page's size: the limit asked for, 50 when none.
func apiLimit(limit *int64) int {
	if limit == nil {
		return 50
	}
	return int(min(max(*limit, 1), apiPageMax))
}

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// cursorProblem is the 422 of a cursor this API did not give.
var cursorProblem = &apiProblemError{Status: http.StatusUnprocessableEntity, Detail: "The cursor is not one this API gave.",
	Errors: []apiErrorDetail{{Location: "query.cursor", Message: "The cursor is not one this API gave."}}}

// GetWorkspace handles "GET /api/v1/workspace".
func (h apiHandlers) GetWorkspace(ctx context.Context, _ api.GetWorkspaceRequestObject) (api.GetWorkspaceResponseObject, error) {
	s, st := h.s, apiFrom(ctx)
	stats, err := s.Workspaces.FindWorkspaceStats(ctx, st.scope)
	if err != nil {
		return nil, s.apiError(ctx, err)
	}
	return api.GetWorkspace200JSONResponse{Name: st.ws.Name, Slug: st.ws.Slug, Plan: api.APIWorkspacePlan(st.ws.Plan), Seats: api.APISeats{
		Used: int64(stats.SeatsUsed()), Limit: int64(s.plans().Seats(st.ws)), Members: int64(stats.Members),
		PendingInvites: int64(stats.PendingInvites)}}, nil
}

// ListMembers handles "GET /api/v1/members": in joining order, a page of
// limit at a time.
func (h apiHandlers) ListMembers(ctx context.Context, req api.ListMembersRequestObject) (api.ListMembersResponseObject, error) {
	s := h.s
	after, ok := parseAPICursor(deref(req.Params.Cursor))
	if !ok {
		return nil, cursorProblem
	}
	limit := apiLimit(req.Params.Limit)
	ms, err := s.Members.FindMembersAfter(ctx, apiFrom(ctx).scope, after, limit+1)
	if err != nil {
		return nil, s.apiError(ctx, err)
	}
	out := api.ListMembers200JSONResponse{Members: make([]api.APIMember, 0, min(len(ms), limit))}
	for i, m := range ms {
		if i == limit {
			next := formatAPICursor(ms[i-1].MembershipID)
			out.NextCursor = &next
			break
		}
		out.Members = append(out.Members, api.APIMember{Name: m.Name, Email: m.Email, Role: api.APIMemberRole(m.Role), Joined: m.CreatedAt})
	}
	return out, nil
}

// formatAPICursor and parseAPICursor keep the members cursor opaque.
func formatAPICursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("m" + strconv.FormatInt(id, 10)))
}

func parseAPICursor(raw string) (int64, bool) {
	if raw == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) < 2 || b[0] != 'm' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b[1:]), 10, 64)
	return n, err == nil && n > 0
}

// apiInvite is an invite as the API shows it. The accept link is never
// shown: it goes to the invited address only.
func (s *Server) apiInvite(inv *app.Invite) api.APIInvite {
	return api.APIInvite{Id: inv.ID, Email: inv.Email, Role: api.APIInviteRole(inv.Role), Status: api.APIInviteStatus(inv.State(s.Now())),
		InvitedBy: inv.InvitedBy(), Delivery: api.APIInviteDelivery(inv.Delivery), CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
}

// ListInvites handles "GET /api/v1/invites": the pending invites, newest
// first, a page of limit at a time.
func (h apiHandlers) ListInvites(ctx context.Context, req api.ListInvitesRequestObject) (api.ListInvitesResponseObject, error) {
	s := h.s
	before, ok := parseInviteCursor(deref(req.Params.Cursor))
	if !ok {
		return nil, cursorProblem
	}
	limit := apiLimit(req.Params.Limit)
	var (
		invs []*app.Invite
		err  error
	)
	if before.ID == 0 {
		invs, err = s.Invites.FindInvites(ctx, apiFrom(ctx).scope, limit+1)
	} else {
		invs, err = s.Invites.FindInvitesBefore(ctx, apiFrom(ctx).scope, before, limit+1)
	}
	if err != nil {
		return nil, s.apiError(ctx, err)
	}
	out := api.ListInvites200JSONResponse{Invites: make([]api.APIInvite, 0, min(len(invs), limit))}
	for i, inv := range invs {
		if i == limit {
			last := invs[i-1]
			next := formatInviteCursor(app.InviteCursor{CreatedAt: last.CreatedAt, ID: last.ID})
			out.NextCursor = &next
			break
		}
		out.Invites = append(out.Invites, s.apiInvite(inv))
	}
	return out, nil
}

// formatInviteCursor and parseInviteCursor keep the invites cursor opaque:
// the last invite's creation time (in nanoseconds) and id.
func formatInviteCursor(c app.InviteCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte("i" + strconv.FormatInt(c.CreatedAt.UnixNano(), 10) + "-" + strconv.FormatInt(c.ID, 10)))
}

func parseInviteCursor(raw string) (app.InviteCursor, bool) {
	if raw == "" {
		return app.InviteCursor{}, true
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) < 2 || b[0] != 'i' {
		return app.InviteCursor{}, false
	}
	ns, id, ok := strings.Cut(string(b[1:]), "-")
	t, err1 := strconv.ParseInt(ns, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 {
		return app.InviteCursor{}, false
	}
	return app.InviteCursor{CreatedAt: time.Unix(0, t).UTC(), ID: n}, true
}

// CreateInvite handles "POST /api/v1/invites": the same rules, seat
// limits, restriction (409 while a payment is overdue past the grace
// period) and mail limits as the members page, the email queued the same
// way.
func (h apiHandlers) CreateInvite(ctx context.Context, req api.CreateInviteRequestObject) (api.CreateInviteResponseObject, error) {
	s, st := h.s, apiFrom(ctx)
	email, err := app.NormalizeEmail(req.Body.Email)
	if err != nil {
		return nil, s.apiError(ctx, &app.Error{Code: app.EINVALID, Field: "email", Message: app.ErrorMessage(err)})
	}
	role, err := app.ParseRole(string(req.Body.Role))
	if err != nil {
		return nil, s.apiError(ctx, &app.Error{Code: app.EINVALID, Field: "role", Message: app.ErrorMessage(err)})
	}
	token, hash := app.NewToken()
	inv, err := s.Invites.CreateInvite(ctx, st.scope, app.NewInvite{Email: email, Role: role,
		TokenHash: hash, ExpiresAt: s.Now().Add(app.InviteTTL)}, s.plans(), s.composeAPIInvite(ctx, st, token))
	if err != nil {
		return nil, s.apiError(ctx, err)
	}
	return api.CreateInvite201JSONResponse(s.apiInvite(inv)), nil
}

// composeAPIInvite renders an invite's email naming the workspace's key as
// the inviter: a key acts as the workspace, not as a person.
func (s *Server) composeAPIInvite(ctx context.Context, st *apiState, token string) app.ComposeInvite {
	return s.composeInvite(ctx, token, st.ws.Name)
}

// RevokeInvite handles "DELETE /api/v1/invites/{id}".
func (h apiHandlers) RevokeInvite(ctx context.Context, req api.RevokeInviteRequestObject) (api.RevokeInviteResponseObject, error) {
	if err := h.s.Invites.RevokeInvite(ctx, apiFrom(ctx).scope, req.Id); err != nil {
		return nil, h.s.apiError(ctx, err)
	}
	return api.RevokeInvite204Response{}, nil
}

var actionCode = regexp.MustCompile(`^[a-z_]+\.[a-z_]+$`)

// ListAudit handles "GET /api/v1/audit": the audit page's filters
// (action, actor, dates) and a cursor.
func (h apiHandlers) ListAudit(ctx context.Context, req api.ListAuditRequestObject) (api.ListAuditResponseObject, error) {
	s := h.s
	f, known, err := s.apiAuditFilter(ctx, req.Params)
	if err != nil {
		return nil, err
	}
	out := api.ListAudit200JSONResponse{Entries: []api.APIAuditEntry{}}
	if !known {
		return out, nil
	}
	entries, err := s.Audit.FindAuditEntries(ctx, f)
	if err != nil {
		return nil, s.apiError(ctx, err)
	}
	if limit := f.Limit - 1; len(entries) > limit {
		entries = entries[:limit]
		next := formatAuditCursor(app.CursorOf(entries[len(entries)-1]))
		out.NextCursor = &next
	}
	for _, e := range entries {
		md := e.Metadata
		if md == nil {
			md = map[string]any{}
		}
		out.Entries = append(out.Entries, api.APIAuditEntry{Id: e.ID, Action: e.Action, ActorId: e.ActorID,
			ActorEmail: e.ActorEmail, TargetType: e.TargetType, TargetId: e.TargetID, Metadata: md, CreatedAt: e.CreatedAt})
	}
	return out, nil
}

// apiAuditFilter reads the audit filters; known is false when they name an
// actor nobody is (an empty answer).
func (s *Server) apiAuditFilter(ctx context.Context, in api.ListAuditParams) (f app.AuditFilter, known bool, err error) {
	f = app.AuditFilter{Scope: apiFrom(ctx).scope, Limit: apiLimit(in.Limit) + 1, ActorID: deref(in.Actor)}
	var details []apiErrorDetail
	bad := func(loc, msg string) { details = append(details, apiErrorDetail{Location: loc, Message: msg}) }
	action := deref(in.Action)
	if action != "" && !actionCode.MatchString(action) {
		bad("query.action", "Use an action code such as invite.sent.")
	}
	f.Action = action
	day := func(loc, raw string) time.Time {
		if raw == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.DateOnly, raw)
		if err != nil {
			bad(loc, "Enter the date as YYYY-MM-DD.")
		}
		return t
	}
	f.From = day("query.from", deref(in.From))
	if to := day("query.to", deref(in.To)); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1) // through the end of that day
		if !f.From.IsZero() && !f.To.After(f.From) {
			bad("query.to", "The end date must not be before the start date.")
		}
	}
	// The plan's history window bounds what is read, as on the page.
	s.limitAuditHistory(&f, apiFrom(ctx).ws)
	if cursor := deref(in.Cursor); cursor != "" {
		c, ok := parseAuditCursor(cursor)
		if !ok {
			bad("query.cursor", "The cursor is not one this API gave.")
		}
		f.Before = c
	}
	if len(details) > 0 {
		return f, false, &apiProblemError{Status: http.StatusUnprocessableEntity, Detail: "The filters are not valid.", Errors: details}
	}
	if email := strings.TrimSpace(deref(in.ActorEmail)); email != "" && f.ActorID == 0 {
		norm, err := app.NormalizeEmail(email)
		if err != nil {
			return f, false, &apiProblemError{Status: http.StatusUnprocessableEntity, Detail: app.ErrorMessage(err),
				Errors: []apiErrorDetail{{Location: "query.actor_email", Message: app.ErrorMessage(err)}}}
		}
		id, err := s.Audit.FindAuditActorByEmail(ctx, f.Scope, norm)
		switch {
		case app.ErrorCode(err) == app.ENOTFOUND:
			return f, false, nil
		case err != nil:
			return f, false, s.apiError(ctx, err)
		}
		f.ActorID = id
	}
	return f, true, nil
}
