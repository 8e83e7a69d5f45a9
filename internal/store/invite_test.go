package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// inviteStatus returns the status of the invite with that token.
func inviteStatus(t *testing.T, db *store.DB, token string) string {
	t.Helper()
	inv, err := store.NewInviteService(db).FindInviteByToken(context.Background(), app.HashToken(token))
	if err != nil {
		t.Fatalf("FindInviteByToken: %v", err)
	}
	return inv.Status
}

// membershipCount counts the user's memberships of a workspace (0 or 1).
func membershipCount(t *testing.T, db *store.DB, workspaceID, userID int64) int {
	t.Helper()
	return rowCount(t, db, "SELECT COUNT(*) FROM memberships WHERE workspace_id = ? AND user_id = ?", workspaceID, userID)
}

// inviteEmails returns the emails queued for an invite, newest first.
func inviteEmails(t *testing.T, db *store.DB, inviteID int64) []*app.OutboxMessage {
	t.Helper()
	msgs, err := store.NewOutboxService(db).FindOutboxByRef(context.Background(), fmt.Sprintf("invite:%d", inviteID))
	if err != nil {
		t.Fatalf("FindOutboxByRef: %v", err)
	}
	return msgs
}

func TestInviteService_CreateInvite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		invites := store.NewInviteService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		cy := signUpMember(t, db, c, "cy@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		addMember(t, db, c, ada.ctx, ws.ID, ben, app.RoleAdmin)
		addMember(t, db, c, ada.ctx, ws.ID, cy, app.RoleMember)
		create := func(who teamUser, workspaceID int64, email string, role app.Role, limits app.PlanLimits) (*app.Invite, string, error) {
			tok, hash := app.NewToken()
			inv, err := invites.CreateInvite(who.ctx, app.ScopeOf(who.ctx, workspaceID), app.NewInvite{Email: email, Role: role,
				TokenHash: hash, ExpiresAt: c.Now().Add(app.InviteTTL)}, limits, inviteMail(tok))
			return inv, tok, err
		}

		t.Run("QueuesEmailAndAudits", func(t *testing.T) {
			inv, tok, err := create(ada, ws.ID, "new@example.com", app.RoleAdmin, app.PlanLimits{})
			if err != nil {
				t.Fatal(err)
			}
			want := app.Invite{ID: inv.ID, WorkspaceID: ws.ID, WorkspaceName: "Acme", WorkspaceSlug: "acme", Email: "new@example.com",
				Role: app.RoleAdmin, Status: app.InvitePending, InvitedByID: ada.ID, InviterEmail: ada.Email,
				ExpiresAt: c.Now().Add(app.InviteTTL), CreatedAt: c.Now(), Delivery: app.OutboxPending,
				ShareLink: "http://x.test/invites/" + tok}
			if inv.ID == 0 || *inv != want {
				t.Fatalf("invite=%+v\nwant    %+v", *inv, want)
			}
			msgs := inviteEmails(t, db, inv.ID)
			if len(msgs) != 1 {
				t.Fatalf("%d emails queued, want 1", len(msgs))
			}
			if m := msgs[0]; m.Email.To != "new@example.com" || m.Status != app.OutboxPending || !strings.Contains(m.Email.Text, tok) {
				t.Fatalf("queued email=%+v", m)
			}
			e := latestAudit(t, db, ws.ID, app.ActionInviteSent)
			if e.ActorID != ada.ID || e.TargetID != fmt.Sprint(inv.ID) {
				t.Fatalf("audit actor=%d target=%q", e.ActorID, e.TargetID)
			}
			checkMetadata(t, e, map[string]any{"email": "new@example.com", "role": "admin"})
		})

		t.Run("Rules", func(t *testing.T) {
			cases := []struct {
				name string
				who  teamUser
				role app.Role
				code string
			}{
				{name: "OwnerInvitesOwner", who: ada, role: app.RoleOwner},
				{name: "AdminInvitesAdmin", who: ben, role: app.RoleAdmin},
				{name: "AdminInvitesMember", who: ben, role: app.RoleMember},
				{name: "AdminInvitesOwner", who: ben, role: app.RoleOwner, code: app.EFORBIDDEN},
				{name: "MemberInvites", who: cy, role: app.RoleMember, code: app.EFORBIDDEN},
				{name: "NonMemberInvites", who: eve, role: app.RoleMember, code: app.ENOTFOUND},
				{name: "NoSuchRole", who: ada, role: "boss", code: app.EINVALID},
				{name: "NoPrincipal", who: teamUser{ctx: context.Background()}, role: app.RoleMember, code: app.EUNAUTHORIZED},
			}
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					email := fmt.Sprintf("rule%d@example.com", i)
					inv, _, err := create(tc.who, ws.ID, email, tc.role, app.PlanLimits{})
					requireCode(t, "CreateInvite", err, tc.code)
					n := rowCount(t, db, "SELECT COUNT(*) FROM invites WHERE email = ?", email)
					if tc.code != "" {
						if n != 0 || rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ?", email) != 0 {
							t.Fatalf("refused invite left %d invites or an email", n)
						}
						return
					}
					if n != 1 || inv.Role != tc.role || inv.InvitedByID != tc.who.ID {
						t.Fatalf("invite=%+v, %d rows", inv, n)
					}
				})
			}
		})

		t.Run("DuplicatePending", func(t *testing.T) {
			if _, _, err := create(ada, ws.ID, "dup@example.com", app.RoleMember, app.PlanLimits{}); err != nil {
				t.Fatal(err)
			}
			_, _, err := create(ben, ws.ID, "dup@example.com", app.RoleAdmin, app.PlanLimits{})
			requireCode(t, "second invite", err, app.ECONFLICT)
			if got := rowCount(t, db, "SELECT COUNT(*) FROM invites WHERE email = ?", "dup@example.com"); got != 1 {
				t.Fatalf("invites=%d, want 1", got)
			}
		})

		t.Run("AlreadyMember", func(t *testing.T) {
			_, _, err := create(ada, ws.ID, cy.Email, app.RoleAdmin, app.PlanLimits{})
			requireCode(t, "invite a member", err, app.ECONFLICT)
		})

		t.Run("SameEmailOtherWorkspace", func(t *testing.T) {
			other := createWorkspace(t, db, eve, "Other")
			if _, _, err := create(eve, other.ID, "dup@example.com", app.RoleMember, app.PlanLimits{}); err != nil {
				t.Fatalf("a pending invite elsewhere blocked this one: %v", err)
			}
		})

		t.Run("ExpiredReplaced", func(t *testing.T) {
			old, oldTok, err := create(ada, ws.ID, "late@example.com", app.RoleMember, app.PlanLimits{})
			if err != nil {
				t.Fatal(err)
			}
			c.Add(app.InviteTTL + time.Second)
			fresh, _, err := create(ada, ws.ID, "late@example.com", app.RoleAdmin, app.PlanLimits{})
			if err != nil {
				t.Fatalf("invite replacing an expired one: %v", err)
			}
			if fresh.ID == old.ID || fresh.Status != app.InvitePending || fresh.Role != app.RoleAdmin {
				t.Fatalf("new invite=%+v", fresh)
			}
			if got := inviteStatus(t, db, oldTok); got != app.InviteRevoked {
				t.Fatalf("old invite status=%q, want revoked", got)
			}
			pending := rowCount(t, db, "SELECT COUNT(*) FROM invites WHERE email = ? AND status = 'pending'", "late@example.com")
			if pending != 1 {
				t.Fatalf("pending invites=%d, want 1", pending)
			}
		})

		t.Run("SeatLimit", func(t *testing.T) {
			small := createWorkspace(t, db, ada, "Small")
			limits := app.PlanLimits{FreeSeats: 2}
			if _, _, err := create(ada, small.ID, "seat1@example.com", app.RoleMember, limits); err != nil {
				t.Fatalf("first invite: %v", err)
			}
			_, _, err := create(ada, small.ID, "seat2@example.com", app.RoleMember, limits)
			requireCode(t, "invite past the seat limit", err, app.ECONFLICT)
			if got := rowCount(t, db, "SELECT COUNT(*) FROM invites WHERE workspace_id = ?", small.ID); got != 1 {
				t.Fatalf("invites=%d, want 1", got)
			}
			// An expired invite frees its seat.
			c.Add(app.InviteTTL + time.Second)
			if _, _, err := create(ada, small.ID, "seat2@example.com", app.RoleMember, limits); err != nil {
				t.Fatalf("invite after the pending one expired: %v", err)
			}
		})

		t.Run("ProUnlimited", func(t *testing.T) {
			big := createWorkspace(t, db, ada, "Big")
			if err := store.NewBillingService(db).DemoUpgrade(ada.ctx, app.ScopeOf(ada.ctx, big.ID)); err != nil {
				t.Fatal(err)
			}
			limits := app.PlanLimits{FreeSeats: 2, ProSeats: 0}
			for i := range 4 {
				if _, _, err := create(ada, big.ID, fmt.Sprintf("pro%d@example.com", i), app.RoleMember, limits); err != nil {
					t.Fatalf("invite %d on an unlimited plan: %v", i, err)
				}
			}
		})
	})
}

func TestInviteService_RevokeResend(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		invites := store.NewInviteService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ben := signUpMember(t, db, c, "ben@example.com")
		cy := signUpMember(t, db, c, "cy@example.com")
		eve := signUpMember(t, db, c, "eve@example.com")
		wsA := createWorkspace(t, db, ada, "Alpha")
		addMember(t, db, c, ada.ctx, wsA.ID, ben, app.RoleAdmin)
		addMember(t, db, c, ada.ctx, wsA.ID, cy, app.RoleMember)
		wsB := createWorkspace(t, db, eve, "Beta")
		invB, tokB := sendInvite(t, db, c, eve.ctx, wsB.ID, "b@example.com", app.RoleMember)
		resend := func(u teamUser, workspaceID, inviteID int64) (*app.Invite, string, error) {
			tok, hash := app.NewToken()
			inv, err := invites.ResendInvite(u.ctx, app.ScopeOf(u.ctx, workspaceID), inviteID, hash, c.Now().Add(app.InviteTTL), app.PlanLimits{}, inviteMail(tok))
			return inv, tok, err
		}

		t.Run("OtherTenantsInvite", func(t *testing.T) {
			cases := []struct {
				name        string
				workspaceID int64
			}{
				{name: "WithOwnWorkspace", workspaceID: wsA.ID},
				{name: "WithItsWorkspace", workspaceID: wsB.ID},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					requireCode(t, "RevokeInvite", invites.RevokeInvite(ada.ctx, app.ScopeOf(ada.ctx, tc.workspaceID), invB.ID), app.ENOTFOUND)
					_, _, err := resend(ada, tc.workspaceID, invB.ID)
					requireCode(t, "ResendInvite", err, app.ENOTFOUND)
					got, err := invites.FindInviteByToken(context.Background(), app.HashToken(tokB))
					if err != nil {
						t.Fatalf("B's invite under its original token: %v", err)
					}
					if got.Status != app.InvitePending || !got.ExpiresAt.Equal(invB.ExpiresAt) {
						t.Fatalf("B's invite changed: %+v", got)
					}
					if n := len(inviteEmails(t, db, invB.ID)); n != 1 {
						t.Fatalf("B's invite has %d emails, want 1", n)
					}
				})
			}
		})

		t.Run("Refused", func(t *testing.T) {
			inv, tok := sendInvite(t, db, c, ada.ctx, wsA.ID, "keep@example.com", app.RoleMember)
			cases := []struct {
				name string
				who  teamUser
				code string
			}{
				{name: "Member", who: cy, code: app.EFORBIDDEN},
				{name: "NonMember", who: eve, code: app.ENOTFOUND},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					requireCode(t, "RevokeInvite", invites.RevokeInvite(tc.who.ctx, app.ScopeOf(tc.who.ctx, wsA.ID), inv.ID), tc.code)
					_, _, err := resend(tc.who, wsA.ID, inv.ID)
					requireCode(t, "ResendInvite", err, tc.code)
					if got := inviteStatus(t, db, tok); got != app.InvitePending {
						t.Fatalf("status=%q, want pending", got)
					}
				})
			}
		})

		t.Run("Revoke", func(t *testing.T) {
			inv, tok := sendInvite(t, db, c, ada.ctx, wsA.ID, "gone@example.com", app.RoleMember)
			if err := invites.RevokeInvite(ben.ctx, app.ScopeOf(ben.ctx, wsA.ID), inv.ID); err != nil {
				t.Fatalf("admin revokes: %v", err)
			}
			if got := inviteStatus(t, db, tok); got != app.InviteRevoked {
				t.Fatalf("status=%q, want revoked", got)
			}
			e := latestAudit(t, db, wsA.ID, app.ActionInviteRevoked)
			if e.ActorID != ben.ID || e.TargetID != fmt.Sprint(inv.ID) {
				t.Fatalf("audit actor=%d target=%q", e.ActorID, e.TargetID)
			}
			checkMetadata(t, e, map[string]any{"email": "gone@example.com"})
			listed, err := invites.FindInvites(context.Background(), ownerScope(t, db, wsA.ID), 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range listed {
				if l.ID == inv.ID {
					t.Fatalf("revoked invite still listed: %+v", l)
				}
			}
			requireCode(t, "RevokeInvite again", invites.RevokeInvite(ada.ctx, app.ScopeOf(ada.ctx, wsA.ID), inv.ID), app.ECONFLICT)
			_, _, err = resend(ada, wsA.ID, inv.ID)
			requireCode(t, "ResendInvite of a revoked invite", err, app.ECONFLICT)
		})

		t.Run("Resend", func(t *testing.T) {
			inv, oldTok := sendInvite(t, db, c, ada.ctx, wsA.ID, "again@example.com", app.RoleMember)
			c.Add(time.Hour)
			got, newTok, err := resend(ben, wsA.ID, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != inv.ID || got.Delivery != app.OutboxPending || got.DeliveryError != "" ||
				got.ShareLink != "http://x.test/invites/"+newTok || !got.ExpiresAt.Equal(c.Now().Add(app.InviteTTL)) {
				t.Fatalf("resent invite=%+v, want pending delivery of the new link, expiring %v", got, c.Now().Add(app.InviteTTL))
			}
			_, err = invites.FindInviteByToken(context.Background(), app.HashToken(oldTok))
			requireCode(t, "FindInviteByToken(old token)", err, app.ENOTFOUND)
			if found, err := invites.FindInviteByToken(context.Background(), app.HashToken(newTok)); err != nil || found.ID != inv.ID {
				t.Fatalf("FindInviteByToken(new token)=%+v, %v", found, err)
			}
			msgs := inviteEmails(t, db, inv.ID)
			if len(msgs) != 2 || !strings.Contains(msgs[0].Email.Text, newTok) || !strings.Contains(msgs[1].Email.Text, oldTok) {
				t.Fatalf("emails=%d, want the new link's after the old one's", len(msgs))
			}
			e := latestAudit(t, db, wsA.ID, app.ActionInviteResent)
			if e.ActorID != ben.ID || e.TargetID != fmt.Sprint(inv.ID) {
				t.Fatalf("audit actor=%d target=%q", e.ActorID, e.TargetID)
			}
			again := signUpMember(t, db, c, "again@example.com")
			_, err = invites.AcceptInvite(again.ctx, app.InviteKey{TokenHash: app.HashToken(oldTok)}, app.PlanLimits{})
			requireCode(t, "AcceptInvite(old token)", err, app.ENOTFOUND)
			if _, err := invites.AcceptInvite(again.ctx, app.InviteKey{TokenHash: app.HashToken(newTok)}, app.PlanLimits{}); err != nil {
				t.Fatalf("AcceptInvite(new token): %v", err)
			}
		})
	})
}

func TestInviteService_FindInvites(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		invites := store.NewInviteService(db)
		outbox := store.NewOutboxService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		other := createWorkspace(t, db, ada, "Other")
		sendInvite(t, db, c, ada.ctx, other.ID, "elsewhere@example.com", app.RoleMember)

		old, oldTok := sendInvite(t, db, c, ada.ctx, ws.ID, "old@example.com", app.RoleMember)
		c.Add(app.InviteTTL - time.Minute)
		sent, _ := sendInvite(t, db, c, ada.ctx, ws.ID, "sent@example.com", app.RoleAdmin)
		c.Add(time.Minute)
		failed, failedTok := sendInvite(t, db, c, ada.ctx, ws.ID, "failed@example.com", app.RoleMember)
		c.Add(time.Minute) // old has expired now

		if err := outbox.MarkEmailSent(context.Background(), inviteEmails(t, db, sent.ID)[0].ID, c.Now()); err != nil {
			t.Fatal(err)
		}
		if err := outbox.MarkEmailFailed(context.Background(), inviteEmails(t, db, failed.ID)[0].ID, "mailbox full", time.Time{}); err != nil {
			t.Fatal(err)
		}

		t.Run("Delivery", func(t *testing.T) {
			got, err := invites.FindInvites(context.Background(), ownerScope(t, db, ws.ID), 100)
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				id                                 int64
				email, state, delivery, err, share string
			}
			want := []row{
				{id: failed.ID, email: "failed@example.com", state: app.InvitePending, delivery: app.OutboxFailed, err: "mailbox full",
					share: "http://x.test/invites/" + failedTok},
				{id: sent.ID, email: "sent@example.com", state: app.InvitePending, delivery: app.OutboxSent},
				{id: old.ID, email: "old@example.com", state: app.InviteExpired, delivery: app.OutboxPending,
					share: "http://x.test/invites/" + oldTok},
			}
			if len(got) != len(want) {
				t.Fatalf("FindInvites returned %d invites, want %d", len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				r := row{id: g.ID, email: g.Email, state: g.State(c.Now()), delivery: g.Delivery, err: g.DeliveryError, share: g.ShareLink}
				if r != w {
					t.Errorf("invite %d=%+v\nwant     %+v", i, r, w)
				}
			}
		})

		t.Run("ForEmail", func(t *testing.T) {
			for _, tc := range []struct {
				email string
				want  int
			}{
				{email: "sent@example.com", want: 1},
				{email: "old@example.com", want: 0},
				{email: "nobody@example.com", want: 0},
			} {
				got, err := invites.FindInvitesForEmail(context.Background(), tc.email)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != tc.want {
					t.Fatalf("FindInvitesForEmail(%q)=%d invites, want %d", tc.email, len(got), tc.want)
				}
			}
			if _, err := invites.FindInviteForEmail(context.Background(), sent.ID, "old@example.com"); app.ErrorCode(err) != app.ENOTFOUND {
				t.Fatalf("FindInviteForEmail with another address: %v, want not found", err)
			}
			if got, err := invites.FindInviteForEmail(context.Background(), sent.ID, "sent@example.com"); err != nil || got.ID != sent.ID {
				t.Fatalf("FindInviteForEmail=%+v, %v", got, err)
			}
		})
	})
}
