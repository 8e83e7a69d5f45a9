package store_test

import (
	"context"
	"fmt"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// setTwoFactor sets a user's users.two_factor directly, as enrolling a
// factor does.
func setTwoFactor(t *testing.T, db *store.DB, userID int64, on bool) {
	t.Helper()
	if _, err := db.SQL().ExecContext(context.Background(), db.Rebind("UPDATE users SET two_factor = ? WHERE id = ?"), on, userID); err != nil {
		t.Fatalf("set two_factor of user %d: %v", userID, err)
	}
}

// requiresTwoFactor reads a workspace's policy as its members see it.
func requiresTwoFactor(t *testing.T, db *store.DB, u teamUser, ws *app.Workspace) bool {
	t.Helper()
	got, _, err := store.NewWorkspaceService(db).FindWorkspaceForMember(context.Background(), ws.Slug, u.ID)
	if err != nil {
		t.Fatalf("FindWorkspaceForMember: %v", err)
	}
	return got.RequireTwoFactor
}

func TestWorkspaceService_SetTwoFactorRequired(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewWorkspaceService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		cy := signUpMember(t, db, c, "cy@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		elsewhere := createWorkspace(t, db, eve, "Elsewhere")
		newTeam := func(t *testing.T) roleTeam {
			t.Helper()
			ws := createWorkspace(t, db, ada, "Team")
			addMember(t, db, c, ada.ctx, ws.ID, ben, app.RoleAdmin)
			addMember(t, db, c, ada.ctx, ws.ID, cy, app.RoleMember)
			return roleTeam{ws: ws, owner: ada, admin: ben, member: cy, outsider: eve}
		}
		for _, u := range []teamUser{ada, ben, cy, eve} {
			setTwoFactor(t, db, u.ID, true)
		}
		auditCount := func(t *testing.T, wsID int64) (on, off int) {
			t.Helper()
			return countAudit(t, db, wsID, app.ActionWorkspace2FARequired), countAudit(t, db, wsID, app.ActionWorkspace2FAOptional)
		}

		t.Run("OwnerTurnsOnAndOff", func(t *testing.T) {
			tm := newTeam(t)
			if requiresTwoFactor(t, db, ada, tm.ws) {
				t.Fatal("a new workspace requires two-factor sign-in")
			}
			requireCode(t, "turn on", svc.SetTwoFactorRequired(ada.ctx, app.ScopeOf(ada.ctx, tm.ws.ID), true), "")
			for _, u := range []teamUser{ada, ben, cy} {
				if !requiresTwoFactor(t, db, u, tm.ws) {
					t.Fatalf("%s does not see the policy on", u.Email)
				}
			}
			e := latestAudit(t, db, tm.ws.ID, app.ActionWorkspace2FARequired)
			if e.ActorID != ada.ID || e.TargetType != "workspace" || e.TargetID != fmt.Sprint(tm.ws.ID) {
				t.Errorf("audit actor=%d target=%s/%s, want %d and workspace/%d", e.ActorID, e.TargetType, e.TargetID, ada.ID, tm.ws.ID)
			}
			// Unchanged: no write, no entry.
			requireCode(t, "turn on again", svc.SetTwoFactorRequired(ada.ctx, app.ScopeOf(ada.ctx, tm.ws.ID), true), "")
			if on, off := auditCount(t, tm.ws.ID); on != 1 || off != 0 {
				t.Fatalf("entries required=%d optional=%d, want 1 and 0", on, off)
			}
			requireCode(t, "turn off", svc.SetTwoFactorRequired(ada.ctx, app.ScopeOf(ada.ctx, tm.ws.ID), false), "")
			requireCode(t, "turn off again", svc.SetTwoFactorRequired(ada.ctx, app.ScopeOf(ada.ctx, tm.ws.ID), false), "")
			if requiresTwoFactor(t, db, ada, tm.ws) {
				t.Fatal("the policy is still on")
			}
			if on, off := auditCount(t, tm.ws.ID); on != 1 || off != 1 {
				t.Fatalf("entries required=%d optional=%d, want 1 and 1", on, off)
			}
		})

		t.Run("OwnerWithoutOwnFactor", func(t *testing.T) {
			tm := newTeam(t)
			setTwoFactor(t, db, ada.ID, false)
			defer setTwoFactor(t, db, ada.ID, true)
			// The context still says two_factor=true: the store reads the row.
			ctx := app.WithPrincipal(context.Background(), &app.Principal{User: func() app.User { u := *ada.User; u.TwoFactor = true; return u }()})
			err := svc.SetTwoFactorRequired(ctx, app.ScopeOf(ctx, tm.ws.ID), true)
			requireCode(t, "turn on without a factor", err, app.EINVALID)
			if got, want := app.ErrorMessage(err), "Set up two-factor sign-in for your own account first."; got != want {
				t.Errorf("message=%q, want %q", got, want)
			}
			if app.ErrorField(err) != "required" {
				t.Errorf("field=%q, want \"required\"", app.ErrorField(err))
			}
			if requiresTwoFactor(t, db, ada, tm.ws) {
				t.Fatal("the policy went on")
			}
			// Turning it off needs no factor.
			requireCode(t, "turn off without a factor", svc.SetTwoFactorRequired(ctx, app.ScopeOf(ctx, tm.ws.ID), false), "")
			if on, off := auditCount(t, tm.ws.ID); on != 0 || off != 0 {
				t.Fatalf("entries required=%d optional=%d, want none", on, off)
			}
		})

		t.Run("Refused", func(t *testing.T) {
			cases := []struct {
				name  string
				actor func(roleTeam) teamUser
				ws    func(roleTeam) int64
				code  string
			}{
				{"Admin", teamAdmin, func(tm roleTeam) int64 { return tm.ws.ID }, app.EFORBIDDEN},
				{"Member", teamMember, func(tm roleTeam) int64 { return tm.ws.ID }, app.EFORBIDDEN},
				{"Outsider", teamOutsider, func(tm roleTeam) int64 { return tm.ws.ID }, app.ENOTFOUND},
				{"AnotherWorkspace", teamOwner, func(roleTeam) int64 { return elsewhere.ID }, app.ENOTFOUND},
				{"SignedOut", func(tm roleTeam) teamUser { return teamUser{User: tm.owner.User, ctx: context.Background()} },
					func(tm roleTeam) int64 { return tm.ws.ID }, app.EUNAUTHORIZED},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tm := newTeam(t)
					id := tc.ws(tm)
					requireCode(t, "SetTwoFactorRequired", svc.SetTwoFactorRequired(tc.actor(tm).ctx, app.ScopeOf(tc.actor(tm).ctx, id), true), tc.code)
					for _, ws := range []*app.Workspace{tm.ws, elsewhere} {
						if on, off := auditCount(t, ws.ID); on != 0 || off != 0 {
							t.Fatalf("%s: entries required=%d optional=%d, want none", ws.Slug, on, off)
						}
					}
					if requiresTwoFactor(t, db, ada, tm.ws) || requiresTwoFactor(t, db, eve, elsewhere) {
						t.Fatal("a refused change turned the policy on")
					}
				})
			}
		})

		t.Run("MembersCarryTwoFactor", func(t *testing.T) {
			tm := newTeam(t)
			setTwoFactor(t, db, cy.ID, false)
			defer setTwoFactor(t, db, cy.ID, true)
			want := map[int64]bool{ada.ID: true, ben.ID: true, cy.ID: false}
			check := func(t *testing.T, what string, got map[int64]bool) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: %d members, want %d", what, len(got), len(want))
				}
				for id, w := range want {
					if got[id] != w {
						t.Errorf("%s: user %d TwoFactor=%v, want %v", what, id, got[id], w)
					}
				}
			}
			all, err := store.NewMemberService(db).FindMembers(context.Background(), ownerScope(t, db, tm.ws.ID))
			if err != nil {
				t.Fatal(err)
			}
			got := map[int64]bool{}
			for _, m := range all {
				got[m.UserID] = m.TwoFactor
			}
			check(t, "FindMembers", got)
			pg, err := store.NewMemberService(db).FindMemberPage(context.Background(), ownerScope(t, db, tm.ws.ID), 1)
			if err != nil {
				t.Fatal(err)
			}
			got = map[int64]bool{}
			for _, m := range pg.Members {
				got[m.UserID] = m.TwoFactor
			}
			check(t, "FindMemberPage", got)
			found, err := store.NewMemberService(db).SearchMembers(context.Background(), ownerScope(t, db, tm.ws.ID), "cy", 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(found.Members) != 1 || found.Members[0].TwoFactor {
				t.Errorf("SearchMembers(cy) = %+v, want cy without two-factor", found.Members)
			}
			found, err = store.NewMemberService(db).SearchMembers(context.Background(), ownerScope(t, db, tm.ws.ID), "ben", 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(found.Members) != 1 || !found.Members[0].TwoFactor {
				t.Errorf("SearchMembers(ben) = %+v, want ben with two-factor", found.Members)
			}
			after, err := store.NewMemberService(db).FindMembersAfter(context.Background(), ownerScope(t, db, tm.ws.ID), 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			got = map[int64]bool{}
			for _, m := range after {
				got[m.UserID] = m.TwoFactor
			}
			check(t, "FindMembersAfter", got)
			if n, err := svc.CountMembersWithoutTwoFactor(context.Background(), ownerScope(t, db, tm.ws.ID)); err != nil || n != 1 {
				t.Errorf("CountMembersWithoutTwoFactor = %d, %v; want 1 (cy)", n, err)
			}
			if n, _ := svc.CountMembersWithoutTwoFactor(context.Background(), ownerScope(t, db, elsewhere.ID)); n != 0 {
				t.Errorf("CountMembersWithoutTwoFactor(another workspace) = %d, want 0", n)
			}
		})

		t.Run("WorkspaceReadsCarryPolicy", func(t *testing.T) {
			tm := newTeam(t)
			requireCode(t, "turn on", svc.SetTwoFactorRequired(ada.ctx, app.ScopeOf(ada.ctx, tm.ws.ID), true), "")
			list, err := svc.FindWorkspacesByUser(context.Background(), ben.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, uw := range list {
				if uw.ID == tm.ws.ID && !uw.RequireTwoFactor {
					t.Error("FindWorkspacesByUser: the policy is off")
				}
			}
			ws, err := store.NewBillingService(db).FindWorkspaceBySlug(context.Background(), tm.ws.Slug)
			if err != nil {
				t.Fatal(err)
			}
			if !ws.RequireTwoFactor {
				t.Error("FindWorkspaceBySlug: the policy is off")
			}
			_, key := createKey(t, store.NewAPIKeyService(db), ada, tm.ws.ID, "deploy", app.ScopeRead)
			_, kws, err := store.NewAPIKeyService(db).AuthenticateAPIKey(context.Background(), app.HashToken(key))
			if err != nil {
				t.Fatal(err)
			}
			if !kws.RequireTwoFactor {
				t.Error("AuthenticateAPIKey: the policy is off")
			}
		})
	})
}
