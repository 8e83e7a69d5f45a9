package store_test

import (
	"fmt"
	"sync"
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// roleTeam is a fresh workspace with an owner, an admin, a member and an
// outsider who belongs elsewhere.
type roleTeam struct {
	ws                             *app.Workspace
	owner, admin, member, outsider teamUser
}

func TestWorkspaceService_Members(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewMemberService(db)
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
					err := svc.ChangeMemberRole(actor.ctx, app.ScopeOf(actor.ctx, tm.ws.ID), target.ID, tc.to)
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
			if err := svc.ChangeMemberRole(ada.ctx, app.ScopeOf(ada.ctx, tm.ws.ID), dan.ID, app.RoleMember); err != nil {
				t.Fatal(err)
			}
			if got := roleIn(t, db, tm.ws.ID, dan.ID); got != app.RoleMember {
				t.Fatalf("role=%q, want member", got)
			}
			// Ada, the last owner now, cannot be demoted by the new member or the admin.
			requireCode(t, "admin demotes last owner", svc.ChangeMemberRole(ben.ctx, app.ScopeOf(ben.ctx, tm.ws.ID), ada.ID, app.RoleMember), app.EFORBIDDEN)
			requireCode(t, "member demotes last owner", svc.ChangeMemberRole(dan.ctx, app.ScopeOf(dan.ctx, tm.ws.ID), ada.ID, app.RoleMember), app.EFORBIDDEN)
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
					err := svc.RemoveMember(actor.ctx, app.ScopeOf(actor.ctx, tm.ws.ID), target.ID)
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
			if err := svc.RemoveMember(ada.ctx, app.ScopeOf(ada.ctx, tm.ws.ID), dan.ID); err != nil {
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
					requireCode(t, "LeaveWorkspace", svc.LeaveWorkspace(who.ctx, app.ScopeOf(who.ctx, tm.ws.ID)), tc.code)
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
			if err := svc.LeaveWorkspace(ada.ctx, app.ScopeOf(ada.ctx, tm.ws.ID)); err != nil {
				t.Fatal(err)
			}
			requireCode(t, "the remaining owner leaves", svc.LeaveWorkspace(dan.ctx, app.ScopeOf(dan.ctx, tm.ws.ID)), app.ECONFLICT)
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
					requireCode(t, "TransferOwnership", svc.TransferOwnership(actor.ctx, app.ScopeOf(actor.ctx, tm.ws.ID), target.ID), tc.code)
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
		svc := store.NewMemberService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		ops := []struct {
			name string
			do   func(u, other teamUser, workspaceID int64) error
		}{
			{name: "BothLeave", do: func(u, _ teamUser, id int64) error { return svc.LeaveWorkspace(u.ctx, app.ScopeOf(u.ctx, id)) }},
			{name: "DemoteEachOther", do: func(u, other teamUser, id int64) error {
				return svc.ChangeMemberRole(u.ctx, app.ScopeOf(u.ctx, id), other.ID, app.RoleMember)
			}},
			{name: "RemoveEachOther", do: func(u, other teamUser, id int64) error {
				return svc.RemoveMember(u.ctx, app.ScopeOf(u.ctx, id), other.ID)
			}},
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
