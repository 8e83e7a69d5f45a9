package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
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
func signUpMember(t *testing.T, db *store.DB, c *clock, email string) teamUser {
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
	return func(inv *app.Invite) app.Email {
		return app.Email{To: inv.Email, Subject: "Join " + inv.WorkspaceName,
			Text: "Join at http://x.test/invites/" + token + " within a week."}
	}
}

// sendInvite invites email to a workspace, with no seat limit, and returns
// the invite and its raw token.
func sendInvite(t *testing.T, db *store.DB, c *clock, ctx context.Context, workspaceID int64, email string, role app.Role) (*app.Invite, string) {
	t.Helper()
	tok, hash := app.NewToken()
	inv, err := store.NewInviteService(db).CreateInvite(ctx, app.NewInvite{WorkspaceID: workspaceID, Email: email, Role: role,
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
	if _, err := store.NewInviteService(db).AcceptInvite(u.ctx, app.InviteKey{TokenHash: app.HashToken(tok)}); err != nil {
		t.Fatalf("%s accepts invite: %v", u.Email, err)
	}
}

// createWorkspace creates a workspace as u.
func createWorkspace(t *testing.T, db *store.DB, u teamUser, name string) *app.Workspace {
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
	if db.Dialect() == store.Postgres {
		var b strings.Builder
		n := 0
		for _, r := range query {
			if r == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(r)
		}
		query = b.String()
	}
	var count int
	if err := db.SQL().QueryRowContext(context.Background(), query, args...).Scan(&count); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return count
}

// auditOf returns a workspace's audit entries, newest first.
func auditOf(t *testing.T, db *store.DB, workspaceID int64) []*app.AuditEntry {
	t.Helper()
	entries, err := store.NewAuditService(db).FindAuditEntries(context.Background(), app.AuditFilter{WorkspaceID: workspaceID, Limit: 500})
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
	members, err := store.NewWorkspaceService(db).FindMembers(context.Background(), workspaceID)
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

func TestWorkspaceService_CreateWorkspace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewWorkspaceService(db)
		ada := signUpMember(t, db, c, "ada@example.com")

		t.Run("PrincipalIsOwner", func(t *testing.T) {
			ws, err := svc.CreateWorkspace(ada.ctx, "  Acme   Inc ", "")
			if err != nil {
				t.Fatalf("CreateWorkspace: %v", err)
			}
			if got, want := ws.Name, "Acme Inc"; got != want {
				t.Fatalf("Name=%q, want %q", got, want)
			}
			if got, want := ws.Slug, "acme-inc"; got != want {
				t.Fatalf("Slug=%q, want %q", got, want)
			}
			if got, want := ws.Plan, app.PlanFree; got != want {
				t.Fatalf("Plan=%q, want %q", got, want)
			}
			if got, want := ws.CreatedAt, c.Now(); !got.Equal(want) {
				t.Fatalf("CreatedAt=%v, want %v", got, want)
			}
			members, err := svc.FindMembers(context.Background(), ws.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(members) != 1 || members[0].UserID != ada.ID || members[0].Role != app.RoleOwner || members[0].Email != ada.Email {
				t.Fatalf("members=%+v, want only ada as owner", members)
			}
			e := latestAudit(t, db, ws.ID, app.ActionWorkspaceCreated)
			if got, want := e.ActorID, ada.ID; got != want {
				t.Fatalf("audit ActorID=%d, want %d", got, want)
			}
			if got, want := e.TargetID, fmt.Sprint(ws.ID); got != want {
				t.Fatalf("audit TargetID=%q, want %q", got, want)
			}
			checkMetadata(t, e, map[string]any{"name": "Acme Inc", "slug": "acme-inc"})
		})

		t.Run("DerivedSlugCollisions", func(t *testing.T) {
			var got []string
			for range 3 {
				got = append(got, createWorkspace(t, db, ada, "Globex").Slug)
			}
			if want := []string{"globex", "globex-2", "globex-3"}; !slices.Equal(got, want) {
				t.Fatalf("slugs=%v, want %v", got, want)
			}
		})

		t.Run("ChosenSlug", func(t *testing.T) {
			ws, err := svc.CreateWorkspace(ada.ctx, "Initech", "Initech-HQ")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ws.Slug, "initech-hq"; got != want {
				t.Fatalf("Slug=%q, want %q", got, want)
			}
		})

		t.Run("ChosenSlugTaken", func(t *testing.T) {
			before := rowCount(t, db, "SELECT COUNT(*) FROM workspaces")
			audits := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE action = ?", app.ActionWorkspaceCreated)
			_, err := svc.CreateWorkspace(ada.ctx, "Globex Two", "globex")
			requireCode(t, "CreateWorkspace with a taken slug", err, app.ECONFLICT)
			if got := rowCount(t, db, "SELECT COUNT(*) FROM workspaces"); got != before {
				t.Fatalf("workspaces=%d, want %d", got, before)
			}
			if got := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE action = ?", app.ActionWorkspaceCreated); got != audits {
				t.Fatalf("workspace.created entries=%d, want %d: a refused creation was audited", got, audits)
			}
		})

		t.Run("Invalid", func(t *testing.T) {
			cases := []struct{ name, wsName, slug, code string }{
				{name: "ShortName", wsName: "A", code: app.EINVALID},
				{name: "BadSlug", wsName: "Acme", slug: "not a slug", code: app.EINVALID},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					_, err := svc.CreateWorkspace(ada.ctx, tc.wsName, tc.slug)
					requireCode(t, "CreateWorkspace", err, tc.code)
				})
			}
		})

		t.Run("NoPrincipal", func(t *testing.T) {
			_, err := svc.CreateWorkspace(context.Background(), "Nobody's", "")
			requireCode(t, "CreateWorkspace", err, app.EUNAUTHORIZED)
		})
	})
}

func TestWorkspaceService_FindWorkspaceForMember(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewWorkspaceService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		addMember(t, db, c, ada.ctx, ws.ID, ben, app.RoleMember)

		cases := []struct {
			name   string
			slug   string
			userID int64
			role   app.Role // "" means ENOTFOUND
		}{
			{name: "Owner", slug: ws.Slug, userID: ada.ID, role: app.RoleOwner},
			{name: "Member", slug: ws.Slug, userID: ben.ID, role: app.RoleMember},
			{name: "NonMember", slug: ws.Slug, userID: eve.ID},
			{name: "UnknownSlug", slug: "no-such-workspace", userID: ada.ID},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, m, err := svc.FindWorkspaceForMember(context.Background(), tc.slug, tc.userID)
				if tc.role == "" {
					requireCode(t, "FindWorkspaceForMember", err, app.ENOTFOUND)
					if got != nil || m != nil {
						t.Fatalf("got %+v, %+v with the error", got, m)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got.ID != ws.ID || got.Name != ws.Name || got.Slug != ws.Slug {
					t.Fatalf("workspace=%+v, want %+v", got, ws)
				}
				want := app.Membership{WorkspaceID: ws.ID, UserID: tc.userID, Role: tc.role}
				if m.WorkspaceID != want.WorkspaceID || m.UserID != want.UserID || m.Role != want.Role || m.CreatedAt.IsZero() {
					t.Fatalf("membership=%+v, want %+v", m, want)
				}
			})
		}
	})
}

func TestWorkspaceService_UpdateWorkspace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewWorkspaceService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		cy := signUpMember(t, db, c, "cy@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		addMember(t, db, c, ada.ctx, ws.ID, ben, app.RoleAdmin)
		addMember(t, db, c, ada.ctx, ws.ID, cy, app.RoleMember)
		other := createWorkspace(t, db, eve, "Taken")
		ptr := func(s string) *string { return &s }

		t.Run("Rename", func(t *testing.T) {
			got, err := svc.UpdateWorkspace(ada.ctx, ws.ID, app.WorkspaceUpdate{Name: ptr(" Acme  Corp ")})
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != "Acme Corp" || got.Slug != "acme" {
				t.Fatalf("workspace=%+v, want Acme Corp at acme", got)
			}
			found, _, err := svc.FindWorkspaceForMember(context.Background(), "acme", ada.ID)
			if err != nil || found.Name != "Acme Corp" {
				t.Fatalf("after rename: %+v, %v", found, err)
			}
			e := latestAudit(t, db, ws.ID, app.ActionWorkspaceRenamed)
			checkMetadata(t, e, map[string]any{"from": "Acme", "to": "Acme Corp"})
			if got, want := e.ActorID, ada.ID; got != want {
				t.Fatalf("ActorID=%d, want %d", got, want)
			}
			if got := countAudit(t, db, ws.ID, app.ActionWorkspaceSlugChanged); got != 0 {
				t.Fatalf("a rename wrote %d slug_changed entries", got)
			}
		})

		t.Run("SameNameChangesNothing", func(t *testing.T) {
			before := countAudit(t, db, ws.ID, app.ActionWorkspaceRenamed)
			if _, err := svc.UpdateWorkspace(ada.ctx, ws.ID, app.WorkspaceUpdate{Name: ptr("Acme Corp")}); err != nil {
				t.Fatal(err)
			}
			if got := countAudit(t, db, ws.ID, app.ActionWorkspaceRenamed); got != before {
				t.Fatalf("renamed entries=%d, want %d", got, before)
			}
		})

		t.Run("ChangeSlug", func(t *testing.T) {
			got, err := svc.UpdateWorkspace(ada.ctx, ws.ID, app.WorkspaceUpdate{Slug: ptr("acme-corp")})
			if err != nil {
				t.Fatal(err)
			}
			if got.Slug != "acme-corp" || got.Name != "Acme Corp" {
				t.Fatalf("workspace=%+v, want Acme Corp at acme-corp", got)
			}
			_, _, err = svc.FindWorkspaceForMember(context.Background(), "acme", ada.ID)
			requireCode(t, "old slug", err, app.ENOTFOUND)
			if found, _, err := svc.FindWorkspaceForMember(context.Background(), "acme-corp", ada.ID); err != nil || found.ID != ws.ID {
				t.Fatalf("new slug: %+v, %v", found, err)
			}
			checkMetadata(t, latestAudit(t, db, ws.ID, app.ActionWorkspaceSlugChanged), map[string]any{"from": "acme", "to": "acme-corp"})
		})

		t.Run("TakenSlug", func(t *testing.T) {
			before := len(auditOf(t, db, ws.ID))
			_, err := svc.UpdateWorkspace(ada.ctx, ws.ID, app.WorkspaceUpdate{Name: ptr("Acme Again"), Slug: ptr(other.Slug)})
			requireCode(t, "UpdateWorkspace to a taken slug", err, app.ECONFLICT)
			found, _, err := svc.FindWorkspaceForMember(context.Background(), "acme-corp", ada.ID)
			if err != nil || found.Name != "Acme Corp" {
				t.Fatalf("after refused update: %+v, %v; want the name and slug unchanged", found, err)
			}
			if got := len(auditOf(t, db, ws.ID)); got != before {
				t.Fatalf("audit entries=%d, want %d: the refused update's entries were kept", got, before)
			}
		})

		t.Run("InvalidSlug", func(t *testing.T) {
			_, err := svc.UpdateWorkspace(ada.ctx, ws.ID, app.WorkspaceUpdate{Slug: ptr("-bad-")})
			requireCode(t, "UpdateWorkspace", err, app.EINVALID)
		})

		refused := []struct {
			name string
			who  teamUser
			code string
		}{
			{name: "Admin", who: ben, code: app.EFORBIDDEN},
			{name: "Member", who: cy, code: app.EFORBIDDEN},
			{name: "NonMember", who: eve, code: app.ENOTFOUND},
			{name: "NoPrincipal", who: teamUser{ctx: context.Background()}, code: app.EUNAUTHORIZED},
		}
		for _, tc := range refused {
			t.Run("Refused/"+tc.name, func(t *testing.T) {
				_, err := svc.UpdateWorkspace(tc.who.ctx, ws.ID, app.WorkspaceUpdate{Name: ptr("Hijacked"), Slug: ptr("hijacked")})
				requireCode(t, "UpdateWorkspace", err, tc.code)
				found, _, err := svc.FindWorkspaceForMember(context.Background(), "acme-corp", ada.ID)
				if err != nil || found.Name != "Acme Corp" {
					t.Fatalf("after refused update: %+v, %v", found, err)
				}
			})
		}
	})
}

func TestWorkspaceService_DeleteWorkspace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewWorkspaceService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		cy := signUpMember(t, db, c, "cy@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		addMember(t, db, c, ada.ctx, ws.ID, ben, app.RoleAdmin)
		addMember(t, db, c, ada.ctx, ws.ID, cy, app.RoleMember)
		sendInvite(t, db, c, ada.ctx, ws.ID, "pending@example.com", app.RoleMember)
		kept := createWorkspace(t, db, eve, "Kept")
		sendInvite(t, db, c, eve.ctx, kept.ID, "other@example.com", app.RoleMember)

		for _, tc := range []struct {
			name string
			who  teamUser
			code string
		}{
			{name: "Admin", who: ben, code: app.EFORBIDDEN},
			{name: "Member", who: cy, code: app.EFORBIDDEN},
			{name: "NonMember", who: eve, code: app.ENOTFOUND},
		} {
			t.Run("Refused/"+tc.name, func(t *testing.T) {
				requireCode(t, "DeleteWorkspace", svc.DeleteWorkspace(tc.who.ctx, ws.ID), tc.code)
				if _, _, err := svc.FindWorkspaceForMember(context.Background(), ws.Slug, ada.ID); err != nil {
					t.Fatalf("workspace gone after a refused delete: %v", err)
				}
			})
		}

		t.Run("Owner", func(t *testing.T) {
			before := auditOf(t, db, ws.ID)
			if err := svc.DeleteWorkspace(ada.ctx, ws.ID); err != nil {
				t.Fatal(err)
			}
			_, _, err := svc.FindWorkspaceForMember(context.Background(), ws.Slug, ada.ID)
			requireCode(t, "FindWorkspaceForMember after delete", err, app.ENOTFOUND)
			for _, table := range []string{"workspaces", "memberships", "invites"} {
				col := "workspace_id"
				if table == "workspaces" {
					col = "id"
				}
				if got := rowCount(t, db, "SELECT COUNT(*) FROM "+table+" WHERE "+col+" = ?", ws.ID); got != 0 {
					t.Errorf("%s rows of the deleted workspace=%d, want 0", table, got)
				}
			}
			after := auditOf(t, db, ws.ID)
			if len(after) != len(before)+1 || after[0].Action != app.ActionWorkspaceDeleted {
				t.Fatalf("audit after delete: %d entries, newest %q; want the %d earlier ones plus workspace.deleted",
					len(after), after[0].Action, len(before))
			}
			checkMetadata(t, after[0], map[string]any{"name": "Acme", "slug": "acme"})
			if got := countAudit(t, db, ws.ID, app.ActionWorkspaceCreated); got != 1 {
				t.Fatalf("workspace.created entries=%d, want 1", got)
			}
			// The other tenant keeps everything.
			if got := rowCount(t, db, "SELECT COUNT(*) FROM invites WHERE workspace_id = ?", kept.ID); got != 1 {
				t.Fatalf("other workspace's invites=%d, want 1", got)
			}
			if got := roleIn(t, db, kept.ID, eve.ID); got != app.RoleOwner {
				t.Fatalf("other workspace's owner role=%q", got)
			}
		})
	})
}

// roleTeam is a fresh workspace with an owner, an admin, a member and an
// outsider who belongs elsewhere.
type roleTeam struct {
	ws                             *app.Workspace
	owner, admin, member, outsider teamUser
}

func TestWorkspaceService_Members(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewWorkspaceService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		cy := signUpMember(t, db, c, "cy@example.com")
		dan := signUpMember(t, db, c, "dan@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		createWorkspace(t, db, eve, "Elsewhere")
		newTeam := func(t *testing.T) roleTeam {
			t.Helper()
			ws := createWorkspace(t, db, ada, "Team")
			addMember(t, db, c, ada.ctx, ws.ID, ben, app.RoleAdmin)
			addMember(t, db, c, ada.ctx, ws.ID, cy, app.RoleMember)
			return roleTeam{ws: ws, owner: ada, admin: ben, member: cy, outsider: eve}
		}

		t.Run("ChangeMemberRole", func(t *testing.T) {
			cases := []struct {
				name   string
				actor  func(roleTeam) teamUser
				target func(roleTeam) teamUser
				to     app.Role
				code   string
				want   app.Role // the target's role afterwards
			}{
				{name: "OwnerPromotesMember", actor: teamOwner, target: teamMember, to: app.RoleAdmin, want: app.RoleAdmin},
				{name: "OwnerMakesMemberOwner", actor: teamOwner, target: teamMember, to: app.RoleOwner, want: app.RoleOwner},
				{name: "OwnerDemotesAdmin", actor: teamOwner, target: teamAdmin, to: app.RoleMember, want: app.RoleMember},
				{name: "AdminPromotesMemberToAdmin", actor: teamAdmin, target: teamMember, to: app.RoleAdmin, want: app.RoleAdmin},
				{name: "AdminMakesMemberOwner", actor: teamAdmin, target: teamMember, to: app.RoleOwner, code: app.EFORBIDDEN, want: app.RoleMember},
				{name: "AdminDemotesOwner", actor: teamAdmin, target: teamOwner, to: app.RoleAdmin, code: app.EFORBIDDEN, want: app.RoleOwner},
				{name: "MemberPromotesSelf", actor: teamMember, target: teamMember, to: app.RoleAdmin, code: app.EFORBIDDEN, want: app.RoleMember},
				{name: "MemberDemotesAdmin", actor: teamMember, target: teamAdmin, to: app.RoleMember, code: app.EFORBIDDEN, want: app.RoleAdmin},
				{name: "LastOwnerDemotesSelf", actor: teamOwner, target: teamOwner, to: app.RoleAdmin, code: app.EFORBIDDEN, want: app.RoleOwner},
				{name: "InvalidRole", actor: teamOwner, target: teamMember, to: "boss", code: app.EINVALID, want: app.RoleMember},
				{name: "OutsiderActs", actor: teamOutsider, target: teamMember, to: app.RoleAdmin, code: app.ENOTFOUND, want: app.RoleMember},
				{name: "OutsiderTargeted", actor: teamOwner, target: teamOutsider, to: app.RoleAdmin, code: app.ENOTFOUND},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tm := newTeam(t)
					actor, target := tc.actor(tm), tc.target(tm)
					before := roleIn(t, db, tm.ws.ID, target.ID)
					err := svc.ChangeMemberRole(actor.ctx, tm.ws.ID, target.ID, tc.to)
					requireCode(t, "ChangeMemberRole", err, tc.code)
					if got := roleIn(t, db, tm.ws.ID, target.ID); got != tc.want {
						t.Fatalf("target role=%q, want %q", got, tc.want)
					}
					n := countAudit(t, db, tm.ws.ID, app.ActionMemberRoleChanged)
					if tc.code != "" {
						if n != 0 {
							t.Fatalf("refused change wrote %d role_changed entries", n)
						}
						return
					}
					e := latestAudit(t, db, tm.ws.ID, app.ActionMemberRoleChanged)
					if e.ActorID != actor.ID || e.TargetID != fmt.Sprint(target.ID) {
						t.Fatalf("audit actor=%d target=%q, want %d and %d", e.ActorID, e.TargetID, actor.ID, target.ID)
					}
					checkMetadata(t, e, map[string]any{"email": target.Email, "from": string(before), "to": string(tc.to)})
				})
			}
		})

		t.Run("OwnerDemotesCoOwner", func(t *testing.T) {
			tm := newTeam(t)
			addMember(t, db, c, ada.ctx, tm.ws.ID, dan, app.RoleOwner)
			if err := svc.ChangeMemberRole(ada.ctx, tm.ws.ID, dan.ID, app.RoleMember); err != nil {
				t.Fatal(err)
			}
			if got := roleIn(t, db, tm.ws.ID, dan.ID); got != app.RoleMember {
				t.Fatalf("role=%q, want member", got)
			}
			// Ada, the last owner now, cannot be demoted by the new member or the admin.
			requireCode(t, "admin demotes last owner", svc.ChangeMemberRole(ben.ctx, tm.ws.ID, ada.ID, app.RoleMember), app.EFORBIDDEN)
			requireCode(t, "member demotes last owner", svc.ChangeMemberRole(dan.ctx, tm.ws.ID, ada.ID, app.RoleMember), app.EFORBIDDEN)
			if got := ownerCount(t, db, tm.ws.ID); got != 1 {
				t.Fatalf("owners=%d, want 1", got)
			}
		})

		t.Run("RemoveMember", func(t *testing.T) {
			cases := []struct {
				name   string
				actor  func(roleTeam) teamUser
				target func(roleTeam) teamUser
				code   string
			}{
				{name: "OwnerRemovesAdmin", actor: teamOwner, target: teamAdmin},
				{name: "OwnerRemovesMember", actor: teamOwner, target: teamMember},
				{name: "AdminRemovesMember", actor: teamAdmin, target: teamMember},
				{name: "AdminRemovesOwner", actor: teamAdmin, target: teamOwner, code: app.EFORBIDDEN},
				{name: "MemberRemovesAdmin", actor: teamMember, target: teamAdmin, code: app.EFORBIDDEN},
				{name: "OwnerRemovesSelf", actor: teamOwner, target: teamOwner, code: app.EINVALID},
				{name: "OutsiderActs", actor: teamOutsider, target: teamMember, code: app.ENOTFOUND},
				{name: "OutsiderTargeted", actor: teamOwner, target: teamOutsider, code: app.ENOTFOUND},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tm := newTeam(t)
					actor, target := tc.actor(tm), tc.target(tm)
					before := roleIn(t, db, tm.ws.ID, target.ID)
					err := svc.RemoveMember(actor.ctx, tm.ws.ID, target.ID)
					requireCode(t, "RemoveMember", err, tc.code)
					after := roleIn(t, db, tm.ws.ID, target.ID)
					n := countAudit(t, db, tm.ws.ID, app.ActionMemberRemoved)
					if tc.code != "" {
						if after != before || n != 0 {
							t.Fatalf("refused removal: role %q -> %q, %d member.removed entries", before, after, n)
						}
						return
					}
					if after != "" {
						t.Fatalf("removed member still has role %q", after)
					}
					e := latestAudit(t, db, tm.ws.ID, app.ActionMemberRemoved)
					if e.ActorID != actor.ID || e.TargetID != fmt.Sprint(target.ID) {
						t.Fatalf("audit actor=%d target=%q", e.ActorID, e.TargetID)
					}
					checkMetadata(t, e, map[string]any{"email": target.Email, "role": string(before)})
				})
			}
		})

		t.Run("OwnerRemovesCoOwner", func(t *testing.T) {
			tm := newTeam(t)
			addMember(t, db, c, ada.ctx, tm.ws.ID, dan, app.RoleOwner)
			if err := svc.RemoveMember(ada.ctx, tm.ws.ID, dan.ID); err != nil {
				t.Fatal(err)
			}
			if got := ownerCount(t, db, tm.ws.ID); got != 1 {
				t.Fatalf("owners=%d, want 1", got)
			}
		})

		t.Run("LeaveWorkspace", func(t *testing.T) {
			cases := []struct {
				name string
				who  func(roleTeam) teamUser
				code string
			}{
				{name: "Member", who: teamMember},
				{name: "Admin", who: teamAdmin},
				{name: "LastOwner", who: teamOwner, code: app.ECONFLICT},
				{name: "Outsider", who: teamOutsider, code: app.ENOTFOUND},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tm := newTeam(t)
					who := tc.who(tm)
					before := roleIn(t, db, tm.ws.ID, who.ID)
					requireCode(t, "LeaveWorkspace", svc.LeaveWorkspace(who.ctx, tm.ws.ID), tc.code)
					after := roleIn(t, db, tm.ws.ID, who.ID)
					n := countAudit(t, db, tm.ws.ID, app.ActionMemberLeft)
					if tc.code != "" {
						if after != before || n != 0 {
							t.Fatalf("refused leave: role %q -> %q, %d member.left entries", before, after, n)
						}
						return
					}
					if after != "" {
						t.Fatalf("still a member as %q after leaving", after)
					}
					e := latestAudit(t, db, tm.ws.ID, app.ActionMemberLeft)
					if e.ActorID != who.ID || e.TargetID != fmt.Sprint(who.ID) {
						t.Fatalf("audit actor=%d target=%q", e.ActorID, e.TargetID)
					}
					checkMetadata(t, e, map[string]any{"role": string(before)})
				})
			}
		})

		t.Run("CoOwnerLeaves", func(t *testing.T) {
			tm := newTeam(t)
			addMember(t, db, c, ada.ctx, tm.ws.ID, dan, app.RoleOwner)
			if err := svc.LeaveWorkspace(ada.ctx, tm.ws.ID); err != nil {
				t.Fatal(err)
			}
			requireCode(t, "the remaining owner leaves", svc.LeaveWorkspace(dan.ctx, tm.ws.ID), app.ECONFLICT)
			if got := roleIn(t, db, tm.ws.ID, dan.ID); got != app.RoleOwner {
				t.Fatalf("remaining owner's role=%q", got)
			}
		})

		t.Run("TransferOwnership", func(t *testing.T) {
			cases := []struct {
				name          string
				actor, target func(roleTeam) teamUser
				code          string
				actorRole     app.Role // afterwards
				targetRole    app.Role // afterwards
			}{
				{name: "ToMember", actor: teamOwner, target: teamMember, actorRole: app.RoleAdmin, targetRole: app.RoleOwner},
				{name: "ToAdmin", actor: teamOwner, target: teamAdmin, actorRole: app.RoleAdmin, targetRole: app.RoleOwner},
				{name: "ToSelf", actor: teamOwner, target: teamOwner, code: app.EINVALID, actorRole: app.RoleOwner, targetRole: app.RoleOwner},
				{name: "ByAdmin", actor: teamAdmin, target: teamMember, code: app.EFORBIDDEN, actorRole: app.RoleAdmin, targetRole: app.RoleMember},
				{name: "ByMember", actor: teamMember, target: teamMember, code: app.EFORBIDDEN, actorRole: app.RoleMember, targetRole: app.RoleMember},
				{name: "ToOutsider", actor: teamOwner, target: teamOutsider, code: app.ENOTFOUND, actorRole: app.RoleOwner},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tm := newTeam(t)
					actor, target := tc.actor(tm), tc.target(tm)
					before := roleIn(t, db, tm.ws.ID, target.ID)
					requireCode(t, "TransferOwnership", svc.TransferOwnership(actor.ctx, tm.ws.ID, target.ID), tc.code)
					if got := roleIn(t, db, tm.ws.ID, actor.ID); got != tc.actorRole {
						t.Fatalf("actor role=%q, want %q", got, tc.actorRole)
					}
					if got := roleIn(t, db, tm.ws.ID, target.ID); got != tc.targetRole {
						t.Fatalf("target role=%q, want %q", got, tc.targetRole)
					}
					if got := ownerCount(t, db, tm.ws.ID); got != 1 {
						t.Fatalf("owners=%d, want 1", got)
					}
					n := countAudit(t, db, tm.ws.ID, app.ActionOwnershipTransferred)
					if tc.code != "" {
						if n != 0 {
							t.Fatalf("refused transfer wrote %d entries", n)
						}
						return
					}
					e := latestAudit(t, db, tm.ws.ID, app.ActionOwnershipTransferred)
					if e.ActorID != actor.ID || e.TargetID != fmt.Sprint(target.ID) {
						t.Fatalf("audit actor=%d target=%q", e.ActorID, e.TargetID)
					}
					checkMetadata(t, e, map[string]any{"email": target.Email, "previous_role": string(before),
						"from_user_id": float64(actor.ID)})
				})
			}
		})
	})
}

func teamOwner(tm roleTeam) teamUser    { return tm.owner }
func teamAdmin(tm roleTeam) teamUser    { return tm.admin }
func teamMember(tm roleTeam) teamUser   { return tm.member }
func teamOutsider(tm roleTeam) teamUser { return tm.outsider }

// TestWorkspaceService_OwnersRace has the only two owners leave, demote or
// remove each other at the same moment: at most one may succeed, and the
// workspace always keeps an owner.
func TestWorkspaceService_OwnersRace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewWorkspaceService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		ops := []struct {
			name string
			do   func(u, other teamUser, workspaceID int64) error
		}{
			{name: "BothLeave", do: func(u, _ teamUser, id int64) error { return svc.LeaveWorkspace(u.ctx, id) }},
			{name: "DemoteEachOther", do: func(u, other teamUser, id int64) error {
				return svc.ChangeMemberRole(u.ctx, id, other.ID, app.RoleMember)
			}},
			{name: "RemoveEachOther", do: func(u, other teamUser, id int64) error { return svc.RemoveMember(u.ctx, id, other.ID) }},
		}
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) {
				for round := range 5 {
					ws := createWorkspace(t, db, ada, fmt.Sprintf("Race %s %d", op.name, round))
					addMember(t, db, c, ada.ctx, ws.ID, ben, app.RoleOwner)
					pair := [2][2]teamUser{{ada, ben}, {ben, ada}}
					var (
						wg    sync.WaitGroup
						start = make(chan struct{})
						errs  [2]error
					)
					for i := range 2 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-start
							errs[i] = op.do(pair[i][0], pair[i][1], ws.ID)
						}()
					}
					close(start)
					wg.Wait()
					ok := 0
					for _, err := range errs {
						switch app.ErrorCode(err) {
						case "":
							ok++
						case app.ECONFLICT, app.EFORBIDDEN, app.ENOTFOUND:
						default:
							t.Errorf("round %d: unexpected error: %v", round, err)
						}
					}
					if ok > 1 {
						t.Fatalf("round %d: %d of 2 succeeded, want at most 1", round, ok)
					}
					if got := ownerCount(t, db, ws.ID); got < 1 {
						t.Fatalf("round %d: the workspace has %d owners", round, got)
					}
				}
			})
		}
	})
}
