package server

import (
	"context"
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"atrium/internal/app"
)

// apiPageMax is the most items one page of a list returns.
const apiPageMax = 200

// apiOperation describes an operation that needs a key with scope.
func apiOperation(id, method, path, summary, scope string, errs ...int) huma.Operation {
	return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{"workspace"},
		Security: apiSecurity, Metadata: map[string]any{"scope": scope}, MaxBodyBytes: apiBodyMax,
		Errors: append([]int{http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests}, errs...)}
}

// apiOperations registers every operation of /api/v1.
func (s *Server) apiOperations(api huma.API) {
	huma.Register(api, apiOperation("get-workspace", http.MethodGet, "/workspace",
		"The API key's workspace", app.ScopeRead), s.handleAPIWorkspaceGet)
	huma.Register(api, apiOperation("list-members", http.MethodGet, "/members",
		"The workspace's members, in joining order", app.ScopeRead, http.StatusUnprocessableEntity), s.handleAPIMembersList)
	huma.Register(api, apiOperation("list-invites", http.MethodGet, "/invites",
		"The workspace's pending invites, newest first", app.ScopeRead, http.StatusUnprocessableEntity), s.handleAPIInvitesList)
	create := apiOperation("create-invite", http.MethodPost, "/invites",
		"Invite someone by email", app.ScopeWrite, http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	create.DefaultStatus = http.StatusCreated
	huma.Register(api, create, s.handleAPIInviteCreate)
	huma.Register(api, apiOperation("revoke-invite", http.MethodDelete, "/invites/{id}",
		"Revoke a pending invite", app.ScopeWrite, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity), s.handleAPIInviteRevoke)
	huma.Register(api, apiOperation("list-audit", http.MethodGet, "/audit",
		"The workspace's audit log, newest first", app.ScopeRead, http.StatusUnprocessableEntity), s.handleAPIAuditList)
}

// APIWorkspace is a workspace as the API shows it.
type APIWorkspace struct {
	Name  string   `json:"name" example:"Acme"`
	Slug  string   `json:"slug" example:"acme"`
	Plan  string   `json:"plan" enum:"free,pro"`
	Seats APISeats `json:"seats"`
}

// APISeats counts the seats a workspace uses against its plan's limit.
type APISeats struct {
	Used           int `json:"used" doc:"Members plus pending, unexpired invites."`
	Limit          int `json:"limit" doc:"The plan's seats; 0 means unlimited."`
	Members        int `json:"members"`
	PendingInvites int `json:"pending_invites"`
}

type apiWorkspaceOutput struct{ Body APIWorkspace }

// handleAPIWorkspaceGet handles "GET /api/v1/workspace".
func (s *Server) handleAPIWorkspaceGet(ctx context.Context, _ *struct{}) (*apiWorkspaceOutput, error) {
	ws := apiFrom(ctx).ws
	st, err := s.Workspaces.FindWorkspaceStats(ctx, apiFrom(ctx).scope)
	if err != nil {
		return nil, s.apiError(ctx, err)
	}
	return &apiWorkspaceOutput{Body: APIWorkspace{Name: ws.Name, Slug: ws.Slug, Plan: ws.Plan, Seats: APISeats{
		Used: st.SeatsUsed(), Limit: s.plans().Seats(ws), Members: st.Members, PendingInvites: st.PendingInvites}}}, nil
}

// APIMember is a member as the API shows it.
type APIMember struct {
	Name   string    `json:"name" doc:"Empty when the member has not set one."`
	Email  string    `json:"email" format:"email"`
	Role   string    `json:"role" enum:"owner,admin,member"`
	Joined time.Time `json:"joined"`
}

type apiPageInput struct {
	Cursor string `query:"cursor" doc:"The next_cursor of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// APIMemberPage is one page of members.
type APIMemberPage struct {
	Members    []APIMember `json:"members" nullable:"false"`
	NextCursor string      `json:"next_cursor,omitempty" doc:"Present when more members follow."`
}

type apiMembersOutput struct{ Body APIMemberPage }

// handleAPIMembersList handles "GET /api/v1/members".
func (s *Server) handleAPIMembersList(ctx context.Context, in *apiPageInput) (*apiMembersOutput, error) {
	after, ok := parseAPICursor(in.Cursor)
	if !ok {
		return nil, huma.Error422UnprocessableEntity("The cursor is not one this API gave.")
	}
	limit := min(max(in.Limit, 1), apiPageMax)
	ms, err := s.Members.FindMembersAfter(ctx, apiFrom(ctx).scope, after, limit+1)
	if err != nil {
		return nil, s.apiError(ctx, err)
	}
	out := &apiMembersOutput{}
	out.Body.Members = make([]APIMember, 0, len(ms))
	for i, m := range ms {
		if i == limit {
			out.Body.NextCursor = formatAPICursor(ms[i-1].MembershipID)
			break
		}
		out.Body.Members = append(out.Body.Members, APIMember{Name: m.Name, Email: m.Email, Role: string(m.Role), Joined: m.CreatedAt})
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

// APIInvite is an invite as the API shows it. The accept link is never
// shown: it goes to the invited address only.
type APIInvite struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email" format:"email"`
	Role      string    `json:"role" enum:"owner,admin,member"`
	Status    string    `json:"status" enum:"pending,expired"`
	InvitedBy string    `json:"invited_by"`
	Delivery  string    `json:"delivery" enum:"pending,sent,failed," doc:"The state of the latest email; empty when none."`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) apiInvite(inv *app.Invite) APIInvite {
	return APIInvite{ID: inv.ID, Email: inv.Email, Role: string(inv.Role), Status: inv.State(s.Now()),
		InvitedBy: inv.InvitedBy(), Delivery: inv.Delivery, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
}

// APIInvitePage is one page of a workspace's pending invites.
type APIInvitePage struct {
	Invites    []APIInvite `json:"invites" nullable:"false"`
	NextCursor string      `json:"next_cursor,omitempty" doc:"Present when older invites follow."`
}

type apiInvitesOutput struct{ Body APIInvitePage }

// handleAPIInvitesList handles "GET /api/v1/invites": newest first, a page
// of limit at a time.
func (s *Server) handleAPIInvitesList(ctx context.Context, in *apiPageInput) (*apiInvitesOutput, error) {
	before, ok := parseInviteCursor(in.Cursor)
	if !ok {
		return nil, huma.Error422UnprocessableEntity("The cursor is not one this API gave.",
			&huma.ErrorDetail{Location: "query.cursor", Message: "The cursor is not one this API gave."})
	}
	limit := min(max(in.Limit, 1), apiPageMax)
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
	out := &apiInvitesOutput{}
	out.Body.Invites = make([]APIInvite, 0, min(len(invs), limit))
	for i, inv := range invs {
		if i == limit {
			last := invs[i-1]
			out.Body.NextCursor = formatInviteCursor(app.InviteCursor{CreatedAt: last.CreatedAt, ID: last.ID})
			break
		}
		out.Body.Invites = append(out.Body.Invites, s.apiInvite(inv))
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

// APINewInvite is the body of an invite to send. Unknown fields are refused.
type APINewInvite struct {
	Email string `json:"email" maxLength:"254" doc:"The address to invite."`
	Role  string `json:"role" enum:"admin,member" doc:"An API key invites admins or members, never owners."`
}

type apiInviteCreateInput struct{ Body APINewInvite }

type apiInviteOutput struct{ Body APIInvite }

// handleAPIInviteCreate handles "POST /api/v1/invites": the same rules,
// seat limits and mail limits as the members page, the email queued the
// same way.
func (s *Server) handleAPIInviteCreate(ctx context.Context, in *apiInviteCreateInput) (*apiInviteOutput, error) {
	st := apiFrom(ctx)
	email, err := app.NormalizeEmail(in.Body.Email)
	if err != nil {
		return nil, s.apiError(ctx, &app.Error{Code: app.EINVALID, Field: "email", Message: app.ErrorMessage(err)})
	}
	role, err := app.ParseRole(in.Body.Role)
	if err != nil {
		return nil, s.apiError(ctx, &app.Error{Code: app.EINVALID, Field: "role", Message: app.ErrorMessage(err)})
	}
	token, hash := app.NewToken()
	inv, err := s.Invites.CreateInvite(ctx, st.scope, app.NewInvite{Email: email, Role: role,
		TokenHash: hash, ExpiresAt: s.Now().Add(app.InviteTTL)}, s.plans(), s.composeAPIInvite(st, token))
	if err != nil {
		return nil, s.apiError(ctx, err)
	}
	s.MailQueued()
	return &apiInviteOutput{Body: s.apiInvite(inv)}, nil
}

// composeAPIInvite renders an invite's email naming the workspace's key as
// the inviter: a key acts as the workspace, not as a person.
func (s *Server) composeAPIInvite(st *apiState, token string) app.ComposeInvite {
	return s.composeInvite(token, st.ws.Name)
}

type apiInviteIDInput struct {
	ID int64 `path:"id" minimum:"1"`
}

// handleAPIInviteRevoke handles "DELETE /api/v1/invites/{id}".
func (s *Server) handleAPIInviteRevoke(ctx context.Context, in *apiInviteIDInput) (*struct{}, error) {
	if err := s.Invites.RevokeInvite(ctx, apiFrom(ctx).scope, in.ID); err != nil {
		return nil, s.apiError(ctx, err)
	}
	return nil, nil
}

// APIAuditEntry is an audit entry as the API shows it.
type APIAuditEntry struct {
	ID         int64          `json:"id"`
	Action     string         `json:"action" example:"invite.sent"`
	ActorID    int64          `json:"actor_id" doc:"The acting user's id; 0 for the system or an API key."`
	ActorEmail string         `json:"actor_email" doc:"Empty when the actor is not a user, or is gone."`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Metadata   map[string]any `json:"metadata"`
	CreatedAt  time.Time      `json:"created_at"`
}

type apiAuditInput struct {
	Action     string `query:"action" doc:"Only entries with this action code."`
	Actor      int64  `query:"actor" minimum:"0" doc:"Only entries by this user id."`
	ActorEmail string `query:"actor_email" doc:"Only entries by the user with this email."`
	From       string `query:"from" format:"date" doc:"Only entries on or after this day (UTC)."`
	To         string `query:"to" format:"date" doc:"Only entries on or before this day (UTC)."`
	Cursor     string `query:"cursor" doc:"The next_cursor of the previous page."`
	Limit      int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// APIAuditPage is one page of the audit log.
type APIAuditPage struct {
	Entries    []APIAuditEntry `json:"entries" nullable:"false"`
	NextCursor string          `json:"next_cursor,omitempty" doc:"Present when older entries follow."`
}

type apiAuditOutput struct{ Body APIAuditPage }

var actionCode = regexp.MustCompile(`^[a-z_]+\.[a-z_]+$`)

// handleAPIAuditList handles "GET /api/v1/audit": the audit page's filters
// (action, actor, dates) and a cursor.
func (s *Server) handleAPIAuditList(ctx context.Context, in *apiAuditInput) (*apiAuditOutput, error) {
	f, known, err := s.apiAuditFilter(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &apiAuditOutput{}
	out.Body.Entries = []APIAuditEntry{}
	if !known {
		return out, nil
	}
	entries, err := s.Audit.FindAuditEntries(ctx, f)
	if err != nil {
		return nil, s.apiError(ctx, err)
	}
	if limit := f.Limit - 1; len(entries) > limit {
		entries = entries[:limit]
		out.Body.NextCursor = formatAuditCursor(app.CursorOf(entries[len(entries)-1]))
	}
	for _, e := range entries {
		md := e.Metadata
		if md == nil {
			md = map[string]any{}
		}
		out.Body.Entries = append(out.Body.Entries, APIAuditEntry{ID: e.ID, Action: e.Action, ActorID: e.ActorID,
			ActorEmail: e.ActorEmail, TargetType: e.TargetType, TargetID: e.TargetID, Metadata: md, CreatedAt: e.CreatedAt})
	}
	return out, nil
}

// apiAuditFilter reads the audit filters; known is false when they name an
// actor nobody is (an empty answer).
func (s *Server) apiAuditFilter(ctx context.Context, in *apiAuditInput) (f app.AuditFilter, known bool, err error) {
	f = app.AuditFilter{Scope: apiFrom(ctx).scope, Limit: min(max(in.Limit, 1), apiPageMax) + 1, ActorID: in.Actor}
	var details []error
	bad := func(loc, msg string) { details = append(details, &huma.ErrorDetail{Location: loc, Message: msg}) }
	if in.Action != "" && !actionCode.MatchString(in.Action) {
		bad("query.action", "Use an action code such as invite.sent.")
	}
	f.Action = in.Action
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
	f.From = day("query.from", in.From)
	if to := day("query.to", in.To); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1) // through the end of that day
		if !f.From.IsZero() && !f.To.After(f.From) {
			bad("query.to", "The end date must not be before the start date.")
		}
	}
	if in.Cursor != "" {
		c, ok := parseAuditCursor(in.Cursor)
		if !ok {
			bad("query.cursor", "The cursor is not one this API gave.")
		}
		f.Before = c
	}
	if len(details) > 0 {
		return f, false, huma.Error422UnprocessableEntity("The filters are not valid.", details...)
	}
	if email := strings.TrimSpace(in.ActorEmail); email != "" && f.ActorID == 0 {
		norm, err := app.NormalizeEmail(email)
		if err != nil {
			return f, false, huma.Error422UnprocessableEntity(app.ErrorMessage(err), &huma.ErrorDetail{Location: "query.actor_email", Message: app.ErrorMessage(err)})
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
