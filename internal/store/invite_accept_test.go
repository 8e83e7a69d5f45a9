package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestInviteService_AcceptInvite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		invites := store.NewInviteService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		accept := func(u teamUser, tok string) error {
			_, err := invites.AcceptInvite(u.ctx, app.InviteKey{TokenHash: app.HashToken(tok)}, app.PlanLimits{})
			return err
		}

		t.Run("ByInvitee", func(t *testing.T) {
			inv, tok := sendInvite(t, db, c, ada.ctx, ws.ID, "fin@example.com", app.RoleAdmin)
			fin := signUpMember(t, db, c, "fin@example.com")
			got, err := invites.AcceptInvite(fin.ctx, app.InviteKey{TokenHash: app.HashToken(tok)}, app.PlanLimits{})
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != ws.ID || got.Slug != ws.Slug {
				t.Fatalf("workspace=%+v, want %+v", got, ws)
			}
			if role := roleIn(t, db, ws.ID, fin.ID); role != app.RoleAdmin {
				t.Fatalf("role=%q, want admin", role)
			}
			if got := inviteStatus(t, db, tok); got != app.InviteAccepted {
				t.Fatalf("status=%q, want accepted", got)
			}
			e := latestAudit(t, db, ws.ID, app.ActionInviteAccepted)
			if e.ActorID != fin.ID || e.TargetID != fmt.Sprint(inv.ID) {
				t.Fatalf("audit actor=%d target=%q", e.ActorID, e.TargetID)
			}
			checkMetadata(t, e, map[string]any{"email": "fin@example.com", "role": "admin"})
		})

		t.Run("ByAnotherUser", func(t *testing.T) {
			_, tok := sendInvite(t, db, c, ada.ctx, ws.ID, "gus@example.com", app.RoleMember)
			requireCode(t, "AcceptInvite by eve", accept(eve, tok), app.EFORBIDDEN)
			requireCode(t, "DeclineInvite by eve", invites.DeclineInvite(eve.ctx, app.InviteKey{TokenHash: app.HashToken(tok)}), app.EFORBIDDEN)
			if got := inviteStatus(t, db, tok); got != app.InvitePending {
				t.Fatalf("status=%q, want pending", got)
			}
			if got := membershipCount(t, db, ws.ID, eve.ID); got != 0 {
				t.Fatalf("eve has %d memberships", got)
			}
		})

		t.Run("Expired", func(t *testing.T) {
			_, tok := sendInvite(t, db, c, ada.ctx, ws.ID, "hal@example.com", app.RoleMember)
			hal := signUpMember(t, db, c, "hal@example.com")
			c.Add(app.InviteTTL + time.Second)
			requireCode(t, "AcceptInvite", accept(hal, tok), app.EINVALID)
			if got := membershipCount(t, db, ws.ID, hal.ID); got != 0 {
				t.Fatalf("memberships=%d, want 0", got)
			}
		})

		t.Run("Revoked", func(t *testing.T) {
			inv, tok := sendInvite(t, db, c, ada.ctx, ws.ID, "ian@example.com", app.RoleMember)
			ian := signUpMember(t, db, c, "ian@example.com")
			if err := invites.RevokeInvite(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), inv.ID); err != nil {
				t.Fatal(err)
			}
			requireCode(t, "AcceptInvite", accept(ian, tok), app.ECONFLICT)
			if got := membershipCount(t, db, ws.ID, ian.ID); got != 0 {
				t.Fatalf("memberships=%d, want 0", got)
			}
		})

		t.Run("Twice", func(t *testing.T) {
			_, tok := sendInvite(t, db, c, ada.ctx, ws.ID, "jo@example.com", app.RoleMember)
			jo := signUpMember(t, db, c, "jo@example.com")
			if err := accept(jo, tok); err != nil {
				t.Fatal(err)
			}
			requireCode(t, "second AcceptInvite", accept(jo, tok), app.ECONFLICT)
			if got := membershipCount(t, db, ws.ID, jo.ID); got != 1 {
				t.Fatalf("memberships=%d, want 1", got)
			}
		})

		t.Run("Concurrent", func(t *testing.T) {
			inv, tok := sendInvite(t, db, c, ada.ctx, ws.ID, "kim@example.com", app.RoleMember)
			kim := signUpMember(t, db, c, "kim@example.com")
			const n = 8
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				errs  [n]error
			)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = accept(kim, tok)
				}()
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch app.ErrorCode(err) {
				case "":
					ok++
				case app.ECONFLICT:
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of %d concurrent accepts succeeded, want 1", ok, n)
			}
			if got := membershipCount(t, db, ws.ID, kim.ID); got != 1 {
				t.Fatalf("memberships=%d, want 1", got)
			}
			accepted := 0
			for _, e := range auditOf(t, db, ws.ID) {
				if e.Action == app.ActionInviteAccepted && e.TargetID == fmt.Sprint(inv.ID) {
					accepted++
				}
			}
			if accepted != 1 {
				t.Fatalf("invite.accepted entries=%d, want 1", accepted)
			}
		})

		t.Run("ByID", func(t *testing.T) {
			inv, tok := sendInvite(t, db, c, ada.ctx, ws.ID, "lee@example.com", app.RoleMember)
			lee := signUpMember(t, db, c, "lee@example.com")
			_, err := invites.AcceptInvite(eve.ctx, app.InviteKey{ID: inv.ID}, app.PlanLimits{})
			requireCode(t, "AcceptInvite by id for another address", err, app.ENOTFOUND)
			if got := inviteStatus(t, db, tok); got != app.InvitePending {
				t.Fatalf("status=%q after a refused accept, want pending", got)
			}
			if _, err := invites.AcceptInvite(lee.ctx, app.InviteKey{ID: inv.ID}, app.PlanLimits{}); err != nil {
				t.Fatalf("AcceptInvite by id: %v", err)
			}
			if got := roleIn(t, db, ws.ID, lee.ID); got != app.RoleMember {
				t.Fatalf("role=%q, want member", got)
			}
		})

		t.Run("UnknownToken", func(t *testing.T) {
			tok, _ := app.NewToken()
			requireCode(t, "AcceptInvite", accept(eve, tok), app.ENOTFOUND)
		})
	})
}

func TestInviteService_DeclineInvite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		invites := store.NewInviteService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		mo := signUpMember(t, db, c, "mo@example.com")

		for _, tc := range []struct {
			name string
			key  func(inv *app.Invite, tok string) app.InviteKey
		}{
			{name: "ByToken", key: func(_ *app.Invite, tok string) app.InviteKey { return app.InviteKey{TokenHash: app.HashToken(tok)} }},
			{name: "ByID", key: func(inv *app.Invite, _ string) app.InviteKey { return app.InviteKey{ID: inv.ID} }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				inv, tok := sendInvite(t, db, c, ada.ctx, ws.ID, mo.Email, app.RoleMember)
				if err := invites.DeclineInvite(mo.ctx, tc.key(inv, tok)); err != nil {
					t.Fatal(err)
				}
				if got := inviteStatus(t, db, tok); got != app.InviteDeclined {
					t.Fatalf("status=%q, want declined", got)
				}
				e := latestAudit(t, db, ws.ID, app.ActionInviteDeclined)
				if e.ActorID != mo.ID || e.TargetID != fmt.Sprint(inv.ID) {
					t.Fatalf("audit actor=%d target=%q", e.ActorID, e.TargetID)
				}
				_, err := invites.AcceptInvite(mo.ctx, tc.key(inv, tok), app.PlanLimits{})
				requireCode(t, "AcceptInvite after decline", err, app.ECONFLICT)
				requireCode(t, "DeclineInvite again", invites.DeclineInvite(mo.ctx, tc.key(inv, tok)), app.ECONFLICT)
				if got := membershipCount(t, db, ws.ID, mo.ID); got != 0 {
					t.Fatalf("memberships=%d, want 0", got)
				}
			})
		}
	})
}
