package store_test

import (
	"context"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// teamUser is a signed-up user with a context that acts as them.
type teamUser struct {
	*app.User
	ctx         context.Context
	sessionHash string
}

// signUpMember signs email up through the magic-link flow.
func signUpMember(t testing.TB, db *store.DB, c *clock, email string) teamUser {
	t.Helper()
	auth := store.NewAuthService(db)
	tok := requestLogin(t, auth, c, email, "")
	_, h := app.NewToken()
	u, _, err := auth.CompleteLogin(context.Background(), app.HashToken(tok), app.NewSession{TokenHash: h})
	if err != nil {
		t.Fatalf("sign up %s: %v", email, err)
	}
	return teamUser{User: u, ctx: app.WithPrincipal(context.Background(), &app.Principal{User: *u}), sessionHash: h}
}

// inviteMail composes an invite email carrying the accept link of token.
func inviteMail(token string) app.ComposeInvite {
	return func(inv *app.Invite, _ string) app.InviteEmail {
		link := "http://x.test/invites/" + token
		return app.InviteEmail{Email: app.Email{To: inv.Email, Subject: "Join " + inv.WorkspaceName,
			Text: "Join at " + link + " within a week."}, Link: link}
	}
}

// sendInvite invites email to a workspace, with no seat limit, and returns
// the invite and its raw token.
func sendInvite(t *testing.T, db *store.DB, c *clock, ctx context.Context, workspaceID int64, email string, role app.Role) (*app.Invite, string) {
	t.Helper()
	tok, hash := app.NewToken()
	inv, err := store.NewInviteService(db).CreateInvite(ctx, app.ScopeOf(ctx, workspaceID), app.NewInvite{Email: email, Role: role,
		TokenHash: hash, ExpiresAt: c.Now().Add(app.InviteTTL)}, app.PlanLimits{}, inviteMail(tok))
	if err != nil {
		t.Fatalf("invite %s as %s: %v", email, role, err)
	}
	return inv, tok
}

// addMember makes u a member of the workspace with role through an invite
// the principal of ctx sends and u accepts.
func addMember(t *testing.T, db *store.DB, c *clock, ctx context.Context, workspaceID int64, u teamUser, role app.Role) {
	t.Helper()
	_, tok := sendInvite(t, db, c, ctx, workspaceID, u.Email, role)
	if _, err := store.NewInviteService(db).AcceptInvite(u.ctx, app.InviteKey{TokenHash: app.HashToken(tok)}, app.PlanLimits{}); err != nil {
		t.Fatalf("%s accepts invite: %v", u.Email, err)
	}
}

// createWorkspace creates a workspace as u.
func createWorkspace(t testing.TB, db *store.DB, u teamUser, name string) *app.Workspace {
	t.Helper()
	ws, err := store.NewWorkspaceService(db).CreateWorkspace(u.ctx, name, "")
	if err != nil {
		t.Fatalf("create workspace %q: %v", name, err)
	}
	return ws
}

// requireCode fails unless err has the code want ("" for nil).
func requireCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := app.ErrorCode(err); got != want {
		t.Fatalf("%s: code=%q (err=%v), want %q", what, got, err, want)
	}
}

// rowCount runs a COUNT(*) query with ? placeholders on a fresh connection
// from the pool, outside every service.
func rowCount(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	return storetest.Count(t, db, query, args...)
}

// auditOf returns a workspace's audit entries, newest first.
func auditOf(t *testing.T, db *store.DB, workspaceID int64) []*app.AuditEntry {
	t.Helper()
	entries, err := store.NewOperatorAuditService(db).FindAuditEntries(context.Background(), app.AuditFilter{Scope: app.Scope{WorkspaceID: workspaceID}, Limit: 500})
	if err != nil {
		t.Fatalf("FindAuditEntries: %v", err)
	}
	return entries
}

// latestAudit returns the newest entry of a workspace with that action, failing when there is none.
func latestAudit(t *testing.T, db *store.DB, workspaceID int64, action string) *app.AuditEntry {
	t.Helper()
	for _, e := range auditOf(t, db, workspaceID) {
		if e.Action == action {
			return e
		}
	}
	t.Fatalf("no %s audit entry for workspace %d", action, workspaceID)
	return nil
}

// countAudit counts a workspace's entries with that action.
func countAudit(t *testing.T, db *store.DB, workspaceID int64, action string) int {
	t.Helper()
	n := 0
	for _, e := range auditOf(t, db, workspaceID) {
		if e.Action == action {
			n++
		}
	}
	return n
}

// checkMetadata fails unless e's metadata holds each key with its value.
func checkMetadata(t *testing.T, e *app.AuditEntry, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got := e.Metadata[k]; got != v {
			t.Errorf("%s metadata[%q]=%v (%T), want %v (%T)", e.Action, k, got, got, v, v)
		}
	}
}

// roleIn returns the user's role in the workspace, "" when not a member.
func roleIn(t *testing.T, db *store.DB, workspaceID, userID int64) app.Role {
	t.Helper()
	members, err := store.NewMemberService(db).FindMembers(context.Background(), ownerScope(t, db, workspaceID))
	if err != nil {
		t.Fatalf("FindMembers: %v", err)
	}
	for _, m := range members {
		if m.UserID == userID {
			return m.Role
		}
	}
	return ""
}

// ownerCount counts the owners of a workspace.
func ownerCount(t *testing.T, db *store.DB, workspaceID int64) int {
	t.Helper()
	return rowCount(t, db, "SELECT COUNT(*) FROM memberships WHERE workspace_id = ? AND role = 'owner'", workspaceID)
}

// ownerScope returns the scope of a workspace's first owner, for tests that
// read as someone allowed to.
func ownerScope(t *testing.T, db *store.DB, workspaceID int64) app.Scope {
	t.Helper()
	owner := rowCount(t, db, "SELECT MIN(user_id) FROM memberships WHERE workspace_id = ? AND role = 'owner'", workspaceID)
	return app.Scope{WorkspaceID: workspaceID, UserID: int64(owner)}
}
