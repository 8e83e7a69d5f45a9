package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/internal/mail"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// shareLinkOf returns the share link FindInvite gives for a workspace's
// invite.
func shareLinkOf(t *testing.T, invites *store.InviteService, sc app.Scope, id int64) string {
	t.Helper()
	inv, err := invites.FindInvite(context.Background(), sc, id)
	if err != nil {
		t.Fatalf("FindInvite(%d): %v", id, err)
	}
	return inv.ShareLink
}

// storedLinks counts the outbox rows of an invite that still hold a share
// link.
func storedLinks(t *testing.T, db *store.DB, inviteID int64) int {
	t.Helper()
	return rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE invite_id = ? AND share_link <> ''", inviteID)
}

// TestInviteService_ShareLink: the accept link an inviter may pass on by
// hand is the one the invite's email was composed with, kept beside the
// email until it is delivered, and forgotten once the link stops working.
func TestInviteService_ShareLink(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		invites := store.NewInviteService(db)
		outbox := store.NewOutboxService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		link := func(tok string) string { return "http://x.test/invites/" + tok }

		t.Run("NotReadFromTheText", func(t *testing.T) {
			inv, tok := sendInvite(t, db, c, ada.ctx, ws.ID, "text@example.com", app.RoleMember)
			// Another link in the body changes nothing: the body is mail, not
			// where the link lives.
			if _, err := db.SQL().ExecContext(ctx, fmt.Sprintf(
				"UPDATE mail_outbox SET text_body = 'Go to https://elsewhere.test/invites/forged now.' WHERE invite_id = %d", inv.ID)); err != nil {
				t.Fatal(err)
			}
			if got, want := shareLinkOf(t, invites, ownerScope(t, db, ws.ID), inv.ID), link(tok); got != want {
				t.Errorf("ShareLink=%q, want %q", got, want)
			}
		})

		t.Run("GoneOnDelivery", func(t *testing.T) {
			inv, _ := sendInvite(t, db, c, ada.ctx, ws.ID, "sent@example.com", app.RoleMember)
			if err := outbox.MarkEmailSent(ctx, inviteEmails(t, db, inv.ID)[0].ID, c.Now()); err != nil {
				t.Fatal(err)
			}
			if got := shareLinkOf(t, invites, ownerScope(t, db, ws.ID), inv.ID); got != "" {
				t.Errorf("ShareLink=%q after delivery, want none", got)
			}
			if n := storedLinks(t, db, inv.ID); n != 0 {
				t.Errorf("%d delivered emails keep a share link", n)
			}
		})

		t.Run("KeptWhileFailedThenClearedWithTheBody", func(t *testing.T) {
			inv, tok := sendInvite(t, db, c, ada.ctx, ws.ID, "bounce@example.com", app.RoleMember)
			if err := outbox.MarkEmailFailed(ctx, inviteEmails(t, db, inv.ID)[0].ID, "550 no such user", time.Time{}); err != nil {
				t.Fatal(err)
			}
			if got, want := shareLinkOf(t, invites, ownerScope(t, db, ws.ID), inv.ID), link(tok); got != want {
				t.Fatalf("ShareLink=%q of an undelivered email, want %q", got, want)
			}
			c.Add(app.InviteTTL)
			if _, err := db.PurgeExpired(ctx); err != nil {
				t.Fatal(err)
			}
			if got := shareLinkOf(t, invites, ownerScope(t, db, ws.ID), inv.ID); got != "" {
				t.Errorf("ShareLink=%q after the purge cleared the body, want none", got)
			}
			if n := storedLinks(t, db, inv.ID); n != 0 {
				t.Errorf("%d emails keep a share link after their link expired", n)
			}
		})

		t.Run("ResendReplaces", func(t *testing.T) {
			inv, _ := sendInvite(t, db, c, ada.ctx, ws.ID, "resend@example.com", app.RoleMember)
			tok, hash := app.NewToken()
			got, err := invites.ResendInvite(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), inv.ID, hash, c.Now().Add(app.InviteTTL), app.PlanLimits{}, inviteMail(tok))
			if err != nil {
				t.Fatal(err)
			}
			if got.ShareLink != link(tok) || shareLinkOf(t, invites, ownerScope(t, db, ws.ID), inv.ID) != link(tok) {
				t.Errorf("ShareLink=%q (read back %q), want the new link %q", got.ShareLink, shareLinkOf(t, invites, ownerScope(t, db, ws.ID), inv.ID), link(tok))
			}
			if n := storedLinks(t, db, inv.ID); n != 1 {
				t.Errorf("%d emails of the resent invite hold a share link, want the new one only", n)
			}
		})

		for _, tc := range []struct {
			name string
			end  func(t *testing.T, inv *app.Invite, tok string) error
		}{
			{name: "GoneOnRevoke", end: func(t *testing.T, inv *app.Invite, _ string) error {
				return invites.RevokeInvite(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), inv.ID)
			}},
			{name: "GoneOnAccept", end: func(t *testing.T, inv *app.Invite, tok string) error {
				u := signUpMember(t, db, c, inv.Email)
				_, err := invites.AcceptInvite(u.ctx, app.InviteKey{TokenHash: app.HashToken(tok)}, app.PlanLimits{})
				return err
			}},
			{name: "GoneOnDecline", end: func(t *testing.T, inv *app.Invite, tok string) error {
				u := signUpMember(t, db, c, inv.Email)
				return invites.DeclineInvite(u.ctx, app.InviteKey{TokenHash: app.HashToken(tok)})
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				inv, tok := sendInvite(t, db, c, ada.ctx, ws.ID, strings.ToLower(tc.name)+"@example.com", app.RoleMember)
				if err := tc.end(t, inv, tok); err != nil {
					t.Fatal(err)
				}
				if got := shareLinkOf(t, invites, ownerScope(t, db, ws.ID), inv.ID); got != "" {
					t.Errorf("ShareLink=%q, want none", got)
				}
				if n := storedLinks(t, db, inv.ID); n != 0 {
					t.Errorf("%d emails keep a share link", n)
				}
			})
		}
	})
}

// TestMigrate_MovesInviteShareLinks: on a database from before migration
// 00016, the latest undelivered email of each pending invite keeps its
// accept link, taken from the email's text as the invite template writes
// it (not from a workspace name that looks like one); delivered emails,
// emails a resend replaced and those of finished invites get none.
func TestMigrate_MovesInviteShareLinks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		invites := store.NewInviteService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Ops http://evil.test/invites/x")
		compose := func(tok string) app.ComposeInvite {
			return func(inv *app.Invite, _ string) app.InviteEmail {
				link := "https://atrium.test/invites/" + tok
				return app.InviteEmail{Email: mail.InviteEmail(i18n.MustNew(i18n.Options{}).Printer(i18n.Source), "Atrium", inv.Email, inv.WorkspaceName, inv.InvitedBy(), inv.Role, link), Link: link}
			}
		}
		send := func(email string) (*app.Invite, string) {
			tok, hash := app.NewToken()
			inv, err := invites.CreateInvite(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), app.NewInvite{Email: email, Role: app.RoleMember,
				TokenHash: hash, ExpiresAt: c.Now().Add(app.InviteTTL)}, app.PlanLimits{}, compose(tok))
			if err != nil {
				t.Fatalf("invite %s: %v", email, err)
			}
			return inv, tok
		}
		pending, pendingTok := send("pending@example.com")
		resent, _ := send("resent@example.com")
		resentTok, hash := app.NewToken()
		if _, err := invites.ResendInvite(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), resent.ID, hash, c.Now().Add(app.InviteTTL), app.PlanLimits{}, compose(resentTok)); err != nil {
			t.Fatal(err)
		}
		delivered, _ := send("delivered@example.com")
		if err := store.NewOutboxService(db).MarkEmailSent(ctx, inviteEmails(t, db, delivered.ID)[0].ID, c.Now()); err != nil {
			t.Fatal(err)
		}
		revoked, _ := send("revoked@example.com")
		if err := invites.RevokeInvite(ada.ctx, app.ScopeOf(ada.ctx, ws.ID), revoked.ID); err != nil {
			t.Fatal(err)
		}

		// Down to the schema before 00016, whatever came after it: the links
		// live in the emails' text only.
		for {
			m, err := db.MigrateDown(ctx)
			if err != nil {
				t.Fatalf("migrate down: %v", err)
			}
			if m == nil || m.Version <= 16 {
				break
			}
		}
		if _, err := db.MigrateUp(ctx); err != nil {
			t.Fatalf("migrate up: %v", err)
		}

		for _, tc := range []struct {
			name   string
			inv    *app.Invite
			link   string
			stored int
		}{
			{name: "Undelivered", inv: pending, link: "https://atrium.test/invites/" + pendingTok, stored: 1},
			{name: "Resent", inv: resent, link: "https://atrium.test/invites/" + resentTok, stored: 1},
			{name: "Delivered", inv: delivered},
			{name: "Revoked", inv: revoked},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := shareLinkOf(t, invites, ownerScope(t, db, ws.ID), tc.inv.ID); got != tc.link {
					t.Errorf("ShareLink=%q, want %q", got, tc.link)
				}
				if got := storedLinks(t, db, tc.inv.ID); got != tc.stored {
					t.Errorf("%d emails hold a share link, want %d", got, tc.stored)
				}
				if got := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE invite_id = ?", tc.inv.ID); got != len(inviteEmails(t, db, tc.inv.ID)) {
					t.Errorf("%d emails name the invite by id, want all %d", got, len(inviteEmails(t, db, tc.inv.ID)))
				}
			})
		}
	})
}
