package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

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
			members, err := store.NewMemberService(db).FindMembers(context.Background(), ownerScope(t, db, ws.ID))
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
			got, err := svc.UpdateWorkspace(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), app.WorkspaceUpdate{Name: ptr(" Acme  Corp ")})
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
			if _, err := svc.UpdateWorkspace(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), app.WorkspaceUpdate{Name: ptr("Acme Corp")}); err != nil {
				t.Fatal(err)
			}
			if got := countAudit(t, db, ws.ID, app.ActionWorkspaceRenamed); got != before {
				t.Fatalf("renamed entries=%d, want %d", got, before)
			}
		})

		t.Run("ChangeSlug", func(t *testing.T) {
			got, err := svc.UpdateWorkspace(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), app.WorkspaceUpdate{Slug: ptr("acme-corp")})
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
			_, err := svc.UpdateWorkspace(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), app.WorkspaceUpdate{Name: ptr("Acme Again"), Slug: ptr(other.Slug)})
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
			_, err := svc.UpdateWorkspace(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), app.WorkspaceUpdate{Slug: ptr("-bad-")})
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
				_, err := svc.UpdateWorkspace(tc.who.ctx, app.ScopeOf(tc.who.ctx, ws.ID), app.WorkspaceUpdate{Name: ptr("Hijacked"), Slug: ptr("hijacked")})
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
				requireCode(t, "DeleteWorkspace", svc.DeleteWorkspace(tc.who.ctx, app.ScopeOf(tc.who.ctx, ws.ID)), tc.code)
				if _, _, err := svc.FindWorkspaceForMember(context.Background(), ws.Slug, ada.ID); err != nil {
					t.Fatalf("workspace gone after a refused delete: %v", err)
				}
			})
		}

		t.Run("Owner", func(t *testing.T) {
			before := auditOf(t, db, ws.ID)
			if err := svc.DeleteWorkspace(ada.ctx, app.ScopeOf(ada.ctx, ws.ID)); err != nil {
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
