package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// TestAPIKeyService_CreatorLosesAccess checks that a key never outlives
// its creator's right to manage keys: removing, demoting or deleting the
// creator (or their leaving) revokes their live keys in the same
// transaction, audited; and a key whose creator lost the role some other
// way stops authenticating and acting at once.
func TestAPIKeyService_CreatorLosesAccess(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		keys := store.NewAPIKeyService(db)
		workspaces := store.NewWorkspaceService(db)
		owner := signUpMember(t, db, c, "owner@example.com")
		ws := createWorkspace(t, db, owner, "Acme")
		authOK := func(t *testing.T, secret string, want bool) {
			t.Helper()
			_, _, err := keys.AuthenticateAPIKey(context.Background(), app.HashToken(secret))
			if got := err == nil; got != want {
				t.Fatalf("AuthenticateAPIKey ok=%v (err %v), want %v", got, err, want)
			}
			if err != nil && app.ErrorCode(err) != app.EUNAUTHORIZED {
				t.Fatalf("AuthenticateAPIKey: %v, want the 401 of every unusable key", err)
			}
		}
		admin := func(email string) (teamUser, *app.APIKey, string) {
			u := signUpMember(t, db, c, email)
			addMember(t, db, c, owner.ctx, ws.ID, u, app.RoleAdmin)
			k, secret := createKey(t, keys, u, ws.ID, "bot of "+email, app.ScopeRead, app.ScopeWrite)
			authOK(t, secret, true)
			return u, k, secret
		}
		revokedFor := func(t *testing.T, k *app.APIKey, reason string) {
			t.Helper()
			if got := rowCount(t, db, "SELECT COUNT(*) FROM api_keys WHERE id = ? AND revoked_at IS NOT NULL", k.ID); got != 1 {
				t.Fatalf("key %d not revoked", k.ID)
			}
			e := latestAudit(t, db, ws.ID, app.ActionAPIKeyRevoked)
			if e == nil || e.TargetID != strconvI(k.ID) || e.Metadata["reason"] != reason {
				t.Fatalf("latest api_key.revoked=%+v, want key %d for %q", e, k.ID, reason)
			}
		}

		t.Run("Removed", func(t *testing.T) {
			u, k, secret := admin("removed@example.com")
			if n, err := keys.CountAPIKeysCreatedBy(context.Background(), ownerScope(t, db, ws.ID), u.ID); err != nil || n != 1 {
				t.Fatalf("CountAPIKeysCreatedBy=%d, %v; want 1", n, err)
			}
			if err := store.NewMemberService(db).RemoveMember(owner.ctx, app.ScopeOf(owner.ctx, ws.ID), u.ID); err != nil {
				t.Fatal(err)
			}
			revokedFor(t, k, "creator_removed")
			authOK(t, secret, false)
		})
		t.Run("Demoted", func(t *testing.T) {
			u, k, secret := admin("demoted@example.com")
			// Owner to admin keeps keys working; admin to member does not.
			if err := store.NewMemberService(db).ChangeMemberRole(owner.ctx, app.ScopeOf(owner.ctx, ws.ID), u.ID, app.RoleOwner); err != nil {
				t.Fatal(err)
			}
			if err := store.NewMemberService(db).ChangeMemberRole(owner.ctx, app.ScopeOf(owner.ctx, ws.ID), u.ID, app.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			authOK(t, secret, true)
			if err := store.NewMemberService(db).ChangeMemberRole(owner.ctx, app.ScopeOf(owner.ctx, ws.ID), u.ID, app.RoleMember); err != nil {
				t.Fatal(err)
			}
			revokedFor(t, k, "creator_demoted")
			authOK(t, secret, false)
			// Promoted again, the revoked key stays revoked.
			if err := store.NewMemberService(db).ChangeMemberRole(owner.ctx, app.ScopeOf(owner.ctx, ws.ID), u.ID, app.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			authOK(t, secret, false)
		})
		t.Run("Left", func(t *testing.T) {
			u, k, secret := admin("leaver@example.com")
			if err := store.NewMemberService(db).LeaveWorkspace(u.ctx, app.ScopeOf(u.ctx, ws.ID)); err != nil {
				t.Fatal(err)
			}
			revokedFor(t, k, "creator_left")
			authOK(t, secret, false)
		})
		t.Run("AccountDeleted", func(t *testing.T) {
			u, k, secret := admin("deleted@example.com")
			// Their own workspace's key goes too.
			own := createWorkspace(t, db, u, "Own")
			_, ownSecret := createKey(t, keys, u, own.ID, "own bot", app.ScopeRead)
			if n, err := keys.CountAPIKeysCreatedBy(context.Background(), app.Scope{}, u.ID); err != nil || n != 2 {
				t.Fatalf("CountAPIKeysCreatedBy(all)=%d, %v; want 2", n, err)
			}
			if err := workspaces.DeleteWorkspace(u.ctx, app.ScopeOf(u.ctx, own.ID)); err != nil {
				t.Fatal(err)
			}
			if err := store.NewUserService(db).DeleteUser(u.ctx); err != nil {
				t.Fatal(err)
			}
			revokedFor(t, k, "creator_deleted")
			authOK(t, secret, false)
			authOK(t, ownSecret, false)
		})
		t.Run("RoleLostElsewhere", func(t *testing.T) {
			// The check at use: a membership changed without the service
			// (a restore, a manual fix) still caps the key.
			u, _, secret := admin("manual@example.com")
			exec(t, db, "UPDATE memberships SET role = 'member' WHERE workspace_id = ? AND user_id = ?", ws.ID, u.ID)
			authOK(t, secret, false)
			exec(t, db, "UPDATE memberships SET role = 'admin' WHERE workspace_id = ? AND user_id = ?", ws.ID, u.ID)
			authOK(t, secret, true)
			exec(t, db, "DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?", ws.ID, u.ID)
			authOK(t, secret, false)
		})
		t.Run("KeyActsOnlyWhileCreatorMayManageKeys", func(t *testing.T) {
			// A key authenticated just before its creator is demoted cannot
			// act after it: the change re-reads the creator under the lock.
			u, _, secret := admin("racer@example.com")
			k, _, err := keys.AuthenticateAPIKey(context.Background(), app.HashToken(secret))
			if err != nil {
				t.Fatal(err)
			}
			if err := store.NewMemberService(db).ChangeMemberRole(owner.ctx, app.ScopeOf(owner.ctx, ws.ID), u.ID, app.RoleMember); err != nil {
				t.Fatal(err)
			}
			_, err = store.NewInviteService(db).CreateInvite(app.WithAPIKey(context.Background(), k), app.ScopeOf(app.WithAPIKey(context.Background(), k), ws.ID), app.NewInvite{
				Email: "racer@example.com", Role: app.RoleAdmin, TokenHash: app.HashToken("x"), ExpiresAt: c.Now().Add(time.Hour)},
				app.PlanLimits{}, inviteMail("x"))
			requireCode(t, "invite by a key whose creator was demoted", err, app.EUNAUTHORIZED)
		})
		t.Run("ConcurrentDemotionAndInvite", func(t *testing.T) {
			// Demotion and an invite by the creator's key at once: the
			// invite either lands wholly before the demotion or is refused.
			for i := range 4 {
				email := "race" + strconvI(int64(i)) + "@example.com"
				u, _, secret := admin(email)
				k, _, err := keys.AuthenticateAPIKey(context.Background(), app.HashToken(secret))
				if err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				var inviteErr, demoteErr error
				wg.Add(2)
				go func() {
					defer wg.Done()
					_, inviteErr = store.NewInviteService(db).CreateInvite(app.WithAPIKey(context.Background(), k), app.ScopeOf(app.WithAPIKey(context.Background(), k), ws.ID), app.NewInvite{
						Email: "back-" + email, Role: app.RoleAdmin, TokenHash: app.HashToken("race" + email), ExpiresAt: c.Now().Add(time.Hour)},
						app.PlanLimits{}, inviteMail("x"))
				}()
				go func() {
					defer wg.Done()
					demoteErr = store.NewMemberService(db).ChangeMemberRole(owner.ctx, app.ScopeOf(owner.ctx, ws.ID), u.ID, app.RoleMember)
				}()
				wg.Wait()
				if demoteErr != nil {
					t.Fatal(demoteErr)
				}
				if inviteErr != nil {
					requireCode(t, "racing invite", inviteErr, app.EUNAUTHORIZED)
					continue
				}
				invited := rowCount(t, db, "SELECT MAX(id) FROM audit_logs WHERE workspace_id = ? AND action = ? AND CAST(metadata AS TEXT) LIKE ?",
					ws.ID, app.ActionInviteSent, "%back-"+email+"%")
				demoted := rowCount(t, db, "SELECT MAX(id) FROM audit_logs WHERE workspace_id = ? AND action = ? AND target_id = ?",
					ws.ID, app.ActionMemberRoleChanged, strconvI(u.ID))
				if invited == 0 || invited > demoted {
					t.Fatalf("the key's invite (audit %d) came after its creator's demotion (audit %d)", invited, demoted)
				}
			}
		})
	})
}

// TestAPIKeyService_RevealAPIKeySecret checks the one showing of a new
// key's secret: kept sealed (never in clear), given once to its creator
// with the right token, never to another user, another workspace, a wrong
// token or after it expired; of two concurrent views one gets it.
func TestAPIKeyService_RevealAPIKeySecret(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		keys := store.NewAPIKeyService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		cy := signUpMember(t, db, c, "cy@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		other := createWorkspace(t, db, cy, "Other")
		addMember(t, db, c, ada.ctx, ws.ID, cy, app.RoleAdmin)
		create := func() (*app.APIKey, string, string) {
			secret, prefix, hash := app.NewAPIKeySecret()
			token, reveal := app.SealAPIKeySecret(secret)
			k, err := keys.CreateAPIKey(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), app.NewAPIKey{Name: "bot", Scopes: []string{app.ScopeRead},
				Prefix: prefix, TokenHash: hash, Reveal: reveal})
			if err != nil {
				t.Fatal(err)
			}
			return k, secret, token
		}
		reveal := func(who teamUser, wsID, keyID int64, token string) (string, error) {
			sealed, err := keys.RevealAPIKeySecret(who.ctx, app.ScopeOf(who.ctx, wsID), keyID, app.HashToken(token))
			if err != nil {
				return "", err
			}
			secret, ok := app.OpenAPIKeySecret(token, sealed)
			if !ok {
				t.Fatal("the sealed secret does not open with its token")
			}
			return secret, nil
		}

		k, secret, token := create()
		if got := rowCount(t, db, "SELECT COUNT(*) FROM auth_challenges WHERE purpose = ? AND data LIKE ?", app.PurposeAPIKeySecret, fmt.Sprintf(`%%"key_id":%d,%%`, k.ID)); got != 1 {
			t.Fatalf("%d reveals kept, want 1", got)
		}
		if got := rowCount(t, db, "SELECT COUNT(*) FROM auth_challenges WHERE data LIKE ? OR token_hash = ?", "%"+strings.TrimPrefix(secret, "atr_")[:16]+"%", token); got != 0 {
			t.Fatal("the secret or the token is stored in clear")
		}
		_, wrong := app.NewToken()
		for name, try := range map[string]func() (string, error){
			"wrong token":     func() (string, error) { return reveal(ada, ws.ID, k.ID, wrong) },
			"another user":    func() (string, error) { return reveal(cy, ws.ID, k.ID, token) },
			"other workspace": func() (string, error) { return reveal(ada, other.ID, k.ID, token) },
		} {
			if _, err := try(); app.ErrorCode(err) != app.ENOTFOUND {
				t.Fatalf("%s: %v, want not found", name, err)
			}
		}
		got, err := reveal(ada, ws.ID, k.ID, token)
		if err != nil || got != secret {
			t.Fatalf("first view: %q, %v; want the secret", got, err)
		}
		if _, err := reveal(ada, ws.ID, k.ID, token); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("second view: %v, want not found", err)
		}

		k, _, token = create()
		c.Add(app.APIKeyRevealTTL + time.Second)
		if _, err := reveal(ada, ws.ID, k.ID, token); app.ErrorCode(err) != app.ENOTFOUND {
			t.Fatalf("expired: %v, want not found", err)
		}
		if p, err := db.PurgeExpired(context.Background()); err != nil || p.Challenges != 1 {
			t.Fatalf("PurgeExpired: %+v, %v; want the 1 unshown secret purged", p, err)
		}

		k, secret, token = create()
		var wg sync.WaitGroup
		got2 := make([]string, 2)
		for i := range got2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got2[i], _ = reveal(ada, ws.ID, k.ID, token)
			}()
		}
		wg.Wait()
		if shown := (got2[0] == secret) != (got2[1] == secret); !shown || got2[0]+got2[1] != secret {
			t.Fatalf("two concurrent views got %q and %q, want the secret exactly once", got2[0], got2[1])
		}
	})
}

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }

// exec runs a statement with ? placeholders on either database.
func exec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	if db.Dialect() == store.Postgres {
		n := 0
		var b strings.Builder
		for _, r := range query {
			if r == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(r)
		}
		query = b.String()
	}
	if _, err := db.SQL().ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
