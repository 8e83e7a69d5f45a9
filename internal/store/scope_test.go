package store_test

import (
	"context"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestScope_ForeignWorkspace calls every workspace-scoped read with a scope
// that names workspace B but acts as A's owner, or as A's API key, as a
// caller without the middleware could: none returns anything of B. With
// B's owner the same calls find B's rows, so the emptiness is the scope's.
// A write with the foreign scope changes nothing.
func TestScope_ForeignWorkspace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ctx := context.Background()
		var (
			workspaces = store.NewWorkspaceService(db)
			members    = store.NewMemberService(db)
			invites    = store.NewInviteService(db)
			audit      = store.NewAuditService(db)
			keys       = store.NewAPIKeyService(db)
		)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		a := createWorkspace(t, db, ada, "Alpha")
		b := createWorkspace(t, db, ben, "Beta")
		aKey, _ := createKey(t, keys, ada, a.ID, "alpha bot", app.ScopeRead, app.ScopeWrite)
		bKey, _ := createKey(t, keys, ben, b.ID, "beta bot", app.ScopeRead)
		bInvite, _ := sendInvite(t, db, c, ben.ctx, b.ID, "new@example.com", app.RoleMember)
		bEntry := latestAudit(t, db, b.ID, app.ActionInviteSent)

		// reads calls every scoped read with sc and reports, by name, how
		// many of B's rows each returned (0 for ENOTFOUND); any other error
		// fails the test.
		reads := func(t *testing.T, sc app.Scope) map[string]int {
			t.Helper()
			got := map[string]int{}
			note := func(name string, n int, err error) {
				t.Helper()
				if app.ErrorCode(err) == app.ENOTFOUND {
					n, err = 0, nil
				}
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got[name] = n
			}
			one := func(ok bool) int {
				if ok {
					return 1
				}
				return 0
			}
			st, err := workspaces.FindWorkspaceStats(ctx, sc)
			note("FindWorkspaceStats", one(st != nil), err)
			n, err := workspaces.CountMembersWithoutTwoFactor(ctx, sc)
			note("CountMembersWithoutTwoFactor", n, err)
			k2, err := workspaces.FindKeysWithoutTwoFactor(ctx, sc)
			note("FindKeysWithoutTwoFactor", len(k2), err)
			ms, err := members.FindMembers(ctx, sc)
			note("FindMembers", len(ms), err)
			mp, err := members.FindMemberPage(ctx, sc, 1)
			note("FindMemberPage", one(mp != nil && len(mp.Members) > 0), err)
			sp, err := members.SearchMembers(ctx, sc, "ben", 1)
			note("SearchMembers", one(sp != nil && len(sp.Members) > 0), err)
			ma, err := members.FindMembersAfter(ctx, sc, 0, 10)
			note("FindMembersAfter", len(ma), err)
			is, err := invites.FindInvites(ctx, sc, 10)
			note("FindInvites", len(is), err)
			ib, err := invites.FindInvitesBefore(ctx, sc, app.InviteCursor{CreatedAt: c.Now().Add(1), ID: 1 << 40}, 10)
			note("FindInvitesBefore", len(ib), err)
			inv, err := invites.FindInvite(ctx, sc, bInvite.ID)
			note("FindInvite", one(inv != nil), err)
			es, err := audit.FindAuditEntries(ctx, app.AuditFilter{Scope: sc})
			note("FindAuditEntries", len(es), err)
			exported := 0
			err = audit.ExportAuditEntries(ctx, app.AuditFilter{Scope: sc}, func(*app.AuditEntry) error { exported++; return nil })
			note("ExportAuditEntries", exported, err)
			e, err := audit.FindAuditEntry(ctx, sc, bEntry.ID)
			note("FindAuditEntry", one(e != nil), err)
			people, err := audit.FindAuditPeople(ctx, sc)
			note("FindAuditPeople", len(people), err)
			actor, err := audit.FindAuditActorByEmail(ctx, sc, ben.Email)
			note("FindAuditActorByEmail", one(actor != 0), err)
			ks, err := keys.FindAPIKeys(ctx, sc)
			note("FindAPIKeys", len(ks), err)
			k, err := keys.FindAPIKey(ctx, sc, bKey.ID)
			note("FindAPIKey", one(k != nil), err)
			n, err = keys.CountAPIKeysCreatedBy(ctx, sc, ben.ID)
			note("CountAPIKeysCreatedBy", n, err)
			return got
		}

		t.Run("OwnScopeFindsEveryRow", func(t *testing.T) {
			for name, n := range reads(t, app.ScopeOf(ben.ctx, b.ID)) {
				if n == 0 {
					t.Errorf("%s with B's owner found nothing of B", name)
				}
			}
			// B's people list is now cached: the foreign reads below must
			// not be answered from it.
		})

		foreign := []struct {
			name string
			sc   app.Scope
		}{
			{name: "OtherOwner", sc: app.ScopeOf(ada.ctx, b.ID)},
			{name: "OtherKey", sc: app.ScopeOf(app.WithAPIKey(ctx, aKey), b.ID)},
			{name: "Nobody", sc: app.Scope{WorkspaceID: b.ID}},
		}
		for _, tc := range foreign {
			t.Run(tc.name, func(t *testing.T) {
				for name, n := range reads(t, tc.sc) {
					if n != 0 {
						t.Errorf("%s returned %d of B's rows", name, n)
					}
				}
			})
		}

		t.Run("ForeignWrite", func(t *testing.T) {
			name := "Taken over"
			_, err := workspaces.UpdateWorkspace(ada.ctx, app.ScopeOf(ada.ctx, b.ID), app.WorkspaceUpdate{Name: &name})
			requireCode(t, "UpdateWorkspace of B as A's owner", err, app.ENOTFOUND)
			err = members.ChangeMemberRole(ada.ctx, app.Scope{WorkspaceID: b.ID, UserID: ada.ID}, ben.ID, app.RoleMember)
			requireCode(t, "ChangeMemberRole in B as A's owner", err, app.ENOTFOUND)
			err = invites.RevokeInvite(ctx, app.ScopeOf(app.WithAPIKey(ctx, aKey), b.ID), bInvite.ID)
			requireCode(t, "RevokeInvite in B as A's key", err, app.ENOTFOUND)
			_, err = invites.CreateInvite(ada.ctx, app.ScopeOf(ada.ctx, b.ID), app.NewInvite{Email: "planted@example.com",
				Role: app.RoleMember, TokenHash: app.HashToken("planted"), ExpiresAt: time.Now().Add(time.Hour)}, app.PlanLimits{}, inviteMail("planted"))
			requireCode(t, "CreateInvite in B as A's owner", err, app.ENOTFOUND)
			err = store.NewAuditService(db).RecordAuditExport(ada.ctx, app.ScopeOf(ada.ctx, b.ID), map[string]any{"format": "csv"})
			requireCode(t, "RecordAuditExport of B as A's owner", err, app.ENOTFOUND)
			if got := rowCount(t, db, "SELECT COUNT(*) FROM invites WHERE workspace_id = ? AND email = ?", b.ID, "planted@example.com"); got != 0 {
				t.Fatal("an invite was planted in B")
			}
			err = store.NewBillingService(db).DemoUpgrade(ada.ctx, app.ScopeOf(ada.ctx, b.ID))
			requireCode(t, "DemoUpgrade of B as A's owner", err, app.ENOTFOUND)
			if got := rowCount(t, db, "SELECT COUNT(*) FROM workspaces WHERE id = ? AND plan = ?", b.ID, app.PlanFree); got != 1 {
				t.Fatal("B was upgraded")
			}
			if got := rowCount(t, db, "SELECT COUNT(*) FROM invites WHERE id = ? AND status = ?", bInvite.ID, app.InvitePending); got != 1 {
				t.Fatal("B's invite was revoked")
			}
			if got := rowCount(t, db, "SELECT COUNT(*) FROM workspaces WHERE id = ? AND name = ?", b.ID, "Beta"); got != 1 {
				t.Fatal("B was renamed")
			}
			if got, want := roleIn(t, db, b.ID, ben.ID), app.RoleOwner; got != want {
				t.Fatalf("ben's role in B=%q, want %q", got, want)
			}
		})

		t.Run("RevokedKey", func(t *testing.T) {
			if err := keys.RevokeAPIKey(ada.ctx, app.ScopeOf(ada.ctx, a.ID), aKey.ID); err != nil {
				t.Fatal(err)
			}
			sc := app.ScopeOf(app.WithAPIKey(ctx, aKey), a.ID)
			if ms, err := members.FindMembers(ctx, sc); err != nil || len(ms) != 0 {
				t.Fatalf("a revoked key read %d members of its own workspace (err %v), want none", len(ms), err)
			}
		})
	})
}
