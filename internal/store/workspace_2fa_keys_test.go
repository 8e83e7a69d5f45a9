package store_test

import (
	"testing"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// Turning the policy on lists the keys made by people without a second
// factor and revokes the chosen ones in its own transaction, audited; an id
// that is not one of them (another workspace's key, a key whose creator has
// a factor) changes nothing at all.
func TestWorkspaceService_RequireTwoFactorRevokingKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		svc := store.NewWorkspaceService(db)
		keys := store.NewAPIKeyService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		ws := createWorkspace(t, db, ada, "Team")
		addMember(t, db, c, ada.ctx, ws.ID, ben, app.RoleAdmin)
		elsewhere := createWorkspace(t, db, eve, "Elsewhere")
		own, _ := createKey(t, keys, ada, ws.ID, "owner's", app.ScopeRead)
		bens, _ := createKey(t, keys, ben, ws.ID, "ben's", app.ScopeRead)
		bens2, _ := createKey(t, keys, ben, ws.ID, "ben's second", app.ScopeRead)
		foreign, _ := createKey(t, keys, eve, elsewhere.ID, "eve's", app.ScopeRead)
		setTwoFactor(t, db, ada.ID, true)

		list, err := svc.FindKeysWithoutTwoFactor(ada.ctx, app.ScopeOf(ada.ctx, ws.ID))
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != bens.ID || list[1].ID != bens2.ID || list[0].Creator() != "ben@example.com" {
			t.Fatalf("keys without two-factor = %+v, want ben's two", list)
		}
		revokedCount := func() int {
			return rowCount(t, db, "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL")
		}

		for _, bad := range [][]int64{{foreign.ID}, {own.ID}, {bens.ID, foreign.ID}} {
			_, err := svc.RequireTwoFactor(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), bad)
			requireCode(t, "revoke a key that is not at risk", err, app.ENOTFOUND)
			if requiresTwoFactor(t, db, ada, ws) || revokedCount() != 0 {
				t.Fatalf("ids %v: policy on=%v, %d keys revoked; want nothing changed", bad, requiresTwoFactor(t, db, ada, ws), revokedCount())
			}
		}
		// Only the owner may.
		_, err = svc.RequireTwoFactor(ben.ctx, app.ScopeOf(ben.ctx, ws.ID), []int64{bens.ID})
		requireCode(t, "an admin turns the policy on", err, app.EFORBIDDEN)

		n, err := svc.RequireTwoFactor(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), []int64{bens.ID})
		if err != nil || n != 1 {
			t.Fatalf("RequireTwoFactor = %d, %v; want 1 revoked", n, err)
		}
		if !requiresTwoFactor(t, db, ada, ws) || revokedCount() != 1 {
			t.Fatalf("policy on=%v, %d revoked; want on and 1", requiresTwoFactor(t, db, ada, ws), revokedCount())
		}
		e := latestAudit(t, db, ws.ID, app.ActionAPIKeyRevoked)
		checkMetadata(t, e, map[string]any{"name": "ben's", "reason": "two_factor_required"})
		if countAudit(t, db, ws.ID, app.ActionWorkspace2FARequired) != 1 {
			t.Fatal("the policy change is not audited once")
		}
		if left, _ := svc.FindKeysWithoutTwoFactor(ada.ctx, app.ScopeOf(ada.ctx, ws.ID)); len(left) != 1 || left[0].ID != bens2.ID {
			t.Fatalf("after revoking one: %+v", left)
		}
	})
}
