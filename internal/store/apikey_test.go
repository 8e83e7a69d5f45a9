package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// createKey creates a key as who and returns it with its secret.
func createKey(t *testing.T, keys *store.APIKeyService, who teamUser, workspaceID int64, name string, scopes ...string) (*app.APIKey, string) {
	t.Helper()
	secret, prefix, hash := app.NewAPIKeySecret()
	k, err := keys.CreateAPIKey(who.ctx, app.ScopeOf(who.ctx, workspaceID), app.NewAPIKey{Name: name, Scopes: scopes, Prefix: prefix, TokenHash: hash})
	if err != nil {
		t.Fatalf("create key %q: %v", name, err)
	}
	return k, secret
}

func TestAPIKeyService(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		keys := store.NewAPIKeyService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		cy := signUpMember(t, db, c, "cy@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		other := createWorkspace(t, db, cy, "Other")
		addMember(t, db, c, ada.ctx, ws.ID, cy, app.RoleMember)

		t.Run("CreateAuthenticateTouch", func(t *testing.T) {
			k, secret := createKey(t, keys, ada, ws.ID, "deploy bot", app.ScopeWrite, app.ScopeRead)
			if got, want := k.Scopes, []string{app.ScopeRead, app.ScopeWrite}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
				t.Fatalf("Scopes=%v, want %v", got, want)
			}
			if got := rowCount(t, db, "SELECT COUNT(*) FROM api_keys WHERE token_hash = ?", app.HashToken(secret)); got != 1 {
				t.Fatalf("%d rows hold the key's hash, want 1", got)
			}
			if got := rowCount(t, db, "SELECT COUNT(*) FROM api_keys WHERE token_hash = ?", secret); got != 0 {
				t.Fatal("the secret itself is stored")
			}
			if got := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE action = ? AND target_id = ? AND actor_user_id = ?",
				app.ActionAPIKeyCreated, fmt.Sprint(k.ID), ada.ID); got != 1 {
				t.Fatalf("%d api_key.created entries by the creator, want 1", got)
			}
			got, gotWS, err := keys.AuthenticateAPIKey(context.Background(), app.HashToken(secret))
			if err != nil {
				t.Fatalf("AuthenticateAPIKey: %v", err)
			}
			if gotWS.ID != ws.ID || gotWS.Name != "Acme" || gotWS.Plan != app.PlanFree {
				t.Fatalf("workspace=%+v, want Acme (free)", gotWS)
			}
			if got.ID != k.ID || got.WorkspaceID != ws.ID || got.WorkspaceSlug != ws.Slug || !got.LastUsedAt.Equal(c.Now().Truncate(time.Microsecond)) {
				t.Fatalf("key=%+v, want id %d of %s used now", got, k.ID, ws.Slug)
			}
			first := got.LastUsedAt
			c.Add(30 * time.Second)
			if _, _, err := keys.AuthenticateAPIKey(context.Background(), app.HashToken(secret)); err != nil {
				t.Fatal(err)
			}
			list, err := keys.FindAPIKeys(context.Background(), ownerScope(t, db, ws.ID))
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || !list[0].LastUsedAt.Equal(first) || list[0].CreatedBy() != ada.Email {
				t.Fatalf("after 30s: %+v, want last used %v (written at most once a minute), by %s", list[0], first, ada.Email)
			}
			c.Add(31 * time.Second)
			if _, _, err := keys.AuthenticateAPIKey(context.Background(), app.HashToken(secret)); err != nil {
				t.Fatal(err)
			}
			list, _ = keys.FindAPIKeys(context.Background(), ownerScope(t, db, ws.ID))
			if !list[0].LastUsedAt.After(first) {
				t.Fatalf("after 61s last used %v, want later than %v", list[0].LastUsedAt, first)
			}
		})

		t.Run("RevokedExpiredUnknownAllAlike", func(t *testing.T) {
			k, secret := createKey(t, keys, ada, ws.ID, "revoked", app.ScopeRead)
			if err := keys.RevokeAPIKey(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), k.ID); err != nil {
				t.Fatalf("RevokeAPIKey: %v", err)
			}
			requireCode(t, "revoke twice", keys.RevokeAPIKey(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), k.ID), app.ECONFLICT)
			_, _, err := keys.AuthenticateAPIKey(context.Background(), app.HashToken(secret))
			if err != app.ErrAPIKeyInvalid {
				t.Fatalf("revoked key: %v, want ErrAPIKeyInvalid", err)
			}
			_, eprefix, ehash := app.NewAPIKeySecret()
			if _, err := keys.CreateAPIKey(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), app.NewAPIKey{Name: "short", Scopes: []string{app.ScopeRead},
				Prefix: eprefix, TokenHash: ehash, ExpiresAt: c.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			c.Add(2 * time.Hour)
			if _, _, err := keys.AuthenticateAPIKey(context.Background(), ehash); err != app.ErrAPIKeyInvalid {
				t.Fatalf("expired key: %v, want ErrAPIKeyInvalid", err)
			}
			if _, _, err := keys.AuthenticateAPIKey(context.Background(), app.HashToken("atr_unknown")); err != app.ErrAPIKeyInvalid {
				t.Fatalf("unknown key: %v, want ErrAPIKeyInvalid", err)
			}
			if got := rowCount(t, db, "SELECT COUNT(*) FROM audit_logs WHERE action = ? AND target_id = ?", app.ActionAPIKeyRevoked, fmt.Sprint(k.ID)); got != 1 {
				t.Fatalf("%d api_key.revoked entries, want 1", got)
			}
		})

		t.Run("WhoMayManage", func(t *testing.T) {
			_, prefix, hash := app.NewAPIKeySecret()
			_, err := keys.CreateAPIKey(cy.ctx, app.ScopeOf(cy.ctx, ws.ID), app.NewAPIKey{Name: "x", Scopes: []string{app.ScopeRead}, Prefix: prefix, TokenHash: hash})
			requireCode(t, "member creates key", err, app.EFORBIDDEN)
			_, err = keys.CreateAPIKey(ada.ctx, app.ScopeOf(ada.ctx, other.ID), app.NewAPIKey{Name: "x", Scopes: []string{app.ScopeRead}, Prefix: prefix, TokenHash: hash})
			requireCode(t, "non-member creates key", err, app.ENOTFOUND)
			_, err = keys.CreateAPIKey(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), app.NewAPIKey{Name: "x", Scopes: []string{"admin"}, Prefix: prefix, TokenHash: hash})
			requireCode(t, "unknown scope", err, app.EINVALID)
			k, _ := createKey(t, keys, ada, ws.ID, "victim", app.ScopeRead)
			requireCode(t, "other tenant revokes", keys.RevokeAPIKey(cy.ctx, app.ScopeOf(cy.ctx, other.ID), k.ID), app.ENOTFOUND)
		})

		t.Run("KeyActsAsWorkspaceNeverAsUser", func(t *testing.T) {
			k, secret := createKey(t, keys, ada, ws.ID, "bot", app.ScopeRead, app.ScopeWrite)
			live, _, err := keys.AuthenticateAPIKey(context.Background(), app.HashToken(secret))
			if err != nil {
				t.Fatal(err)
			}
			kctx := app.WithAPIKey(context.Background(), live)
			_, prefix, hash := app.NewAPIKeySecret()
			_, err = keys.CreateAPIKey(kctx, app.ScopeOf(kctx, ws.ID), app.NewAPIKey{Name: "x", Scopes: []string{app.ScopeRead}, Prefix: prefix, TokenHash: hash})
			requireCode(t, "key creates key", err, app.EFORBIDDEN)
			requireCode(t, "key revokes key", keys.RevokeAPIKey(kctx, app.ScopeOf(kctx, ws.ID), k.ID), app.EFORBIDDEN)
			requireCode(t, "key transfers ownership", store.NewMemberService(db).TransferOwnership(kctx, app.ScopeOf(kctx, ws.ID), cy.ID), app.EUNAUTHORIZED)
			requireCode(t, "key removes member", store.NewMemberService(db).RemoveMember(kctx, app.ScopeOf(kctx, ws.ID), cy.ID), app.EUNAUTHORIZED)

			invites := store.NewInviteService(db)
			tok, ihash := app.NewToken()
			_, err = invites.CreateInvite(kctx, app.ScopeOf(kctx, ws.ID), app.NewInvite{Email: "owner@example.com", Role: app.RoleOwner,
				TokenHash: ihash, ExpiresAt: c.Now().Add(app.InviteTTL)}, app.PlanLimits{}, inviteMail(tok))
			requireCode(t, "key invites an owner", err, app.EFORBIDDEN)
			_, err = invites.CreateInvite(kctx, app.ScopeOf(kctx, other.ID), app.NewInvite{Email: "x@example.com", Role: app.RoleMember,
				TokenHash: ihash, ExpiresAt: c.Now().Add(app.InviteTTL)}, app.PlanLimits{}, inviteMail(tok))
			requireCode(t, "key invites into another workspace", err, app.ENOTFOUND)
			inv, err := invites.CreateInvite(kctx, app.ScopeOf(kctx, ws.ID), app.NewInvite{Email: "new@example.com", Role: app.RoleMember,
				TokenHash: ihash, ExpiresAt: c.Now().Add(app.InviteTTL)}, app.PlanLimits{}, inviteMail(tok))
			if err != nil {
				t.Fatalf("key invites a member: %v", err)
			}
			if inv.InvitedBy() != live.Label() || inv.InvitedByID != 0 {
				t.Fatalf("InvitedBy=%q (user %d), want %q", inv.InvitedBy(), inv.InvitedByID, live.Label())
			}
			entries, err := store.NewOperatorAuditService(db).FindAuditEntries(context.Background(), app.AuditFilter{Scope: app.Scope{WorkspaceID: ws.ID}, Action: app.ActionInviteSent, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			e := entries[0]
			if e.TargetID != fmt.Sprint(inv.ID) || e.ActorID != 0 || e.Metadata["actor"] != live.Label() {
				t.Fatalf("audit entry %+v, want no user actor and actor %q", e, live.Label())
			}
			requireCode(t, "key revokes another tenant's invite", invites.RevokeInvite(kctx, app.ScopeOf(kctx, other.ID), inv.ID), app.ENOTFOUND)
			requireCode(t, "key revokes the invite", invites.RevokeInvite(kctx, app.ScopeOf(kctx, ws.ID), inv.ID), "")
		})
	})
}

func TestWorkspaceService_FindMembersAfter(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		for _, e := range []string{"b@example.com", "c@example.com", "d@example.com"} {
			addMember(t, db, c, ada.ctx, ws.ID, signUpMember(t, db, c, e), app.RoleMember)
		}
		svc := store.NewMemberService(db)
		var emails []string
		var after int64
		for range 3 {
			page, err := svc.FindMembersAfter(context.Background(), ownerScope(t, db, ws.ID), after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page {
				emails = append(emails, m.Email)
				after = m.MembershipID
			}
		}
		want := []string{"ada@example.com", "b@example.com", "c@example.com", "d@example.com"}
		if len(emails) != len(want) {
			t.Fatalf("pages gave %v, want %v", emails, want)
		}
		for i := range want {
			if emails[i] != want[i] {
				t.Fatalf("pages gave %v, want %v", emails, want)
			}
		}
	})
}
