package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestDB_PurgeExpired(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		auth := store.NewAuthService(db)
		ob := store.NewOutboxService(db)

		// An old session and link, and a fresh session that must survive.
		oldTok := requestLogin(t, auth, c, "old@example.com", "")
		_, oldSess := app.NewToken()
		if _, _, err := auth.CompleteLogin(ctx, app.HashToken(oldTok), app.NewSession{TokenHash: oldSess}); err != nil {
			t.Fatal(err)
		}
		msgs := pendingEmails(t, db)
		if len(msgs) != 1 {
			t.Fatalf("%d pending emails, want 1", len(msgs))
		}
		if err := ob.MarkEmailSent(ctx, msgs[0].ID, c.Now()); err != nil {
			t.Fatal(err)
		}
		c.Add(app.SessionTTL + time.Hour)
		newTok := requestLogin(t, auth, c, "new@example.com", "")
		_, newSess := app.NewToken()
		if _, _, err := auth.CompleteLogin(ctx, app.HashToken(newTok), app.NewSession{TokenHash: newSess}); err != nil {
			t.Fatal(err)
		}

		p, err := db.PurgeExpired(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Sessions != 1 || p.LoginTokens != 1 || p.SentMail != 1 {
			t.Fatalf("purged %+v, want one of each", p)
		}
		if _, err := auth.Authenticate(ctx, newSess); err != nil {
			t.Fatalf("the live session was purged: %v", err)
		}
		if _, err := auth.FindLoginToken(ctx, app.HashToken(newTok)); !errors.Is(err, app.ErrLoginLinkUsed) {
			t.Fatalf("the recent used link was purged: %v", err)
		}
		// A second run finds nothing more.
		if p, err := db.PurgeExpired(ctx); err != nil || p != (store.Purged{}) {
			t.Fatalf("second purge = %+v, %v", p, err)
		}
	})
}

func TestDB_PurgeExpired_FailedMailBodies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		ob := store.NewOutboxService(db)
		ada := signUpMember(t, db, c, "ada@example.com")
		ws := createWorkspace(t, db, ada, "Acme")
		// Drain the sign-up's own mail so only the two below are due.
		drainSent(t, db, ob, c)

		requestLogin(t, store.NewAuthService(db), c, "bounce@example.com", "")
		inv, _ := sendInvite(t, db, c, ada.ctx, ws.ID, "bounce@example.com", app.RoleMember)
		msgs := pendingEmails(t, db)
		if len(msgs) != 2 {
			t.Fatalf("%d pending emails, want 2", len(msgs))
		}
		for _, m := range msgs {
			if err := ob.MarkEmailFailed(ctx, m.ID, "550 no such user", time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		body := func(ref string) (text, html string) {
			t.Helper()
			got, err := ob.FindOutboxByRef(ctx, ref)
			if err != nil || len(got) == 0 {
				t.Fatalf("FindOutboxByRef(%s) = %v, %v", ref, got, err)
			}
			m := got[0]
			if m.Status != app.OutboxFailed || m.LastError != "550 no such user" || m.Email.To != "bounce@example.com" || m.Email.Subject == "" {
				t.Fatalf("%s headers not kept: %+v", ref, m)
			}
			return m.Email.Text, m.Email.HTML
		}
		inviteRef := fmt.Sprintf("invite:%d", inv.ID)

		// While their links work, the bodies stay (an inviter can still pass
		// the link on by hand).
		if p, err := db.PurgeExpired(ctx); err != nil || p.FailedMailBodies != 0 {
			t.Fatalf("purge before expiry = %+v, %v", p, err)
		}
		if text, _ := body("login"); text == "" {
			t.Fatal("the sign-in body was cleared while its link still works")
		}

		c.Add(app.LoginTokenTTL)
		if p, err := db.PurgeExpired(ctx); err != nil || p.FailedMailBodies != 1 {
			t.Fatalf("purge after the sign-in link expired = %+v, %v; want 1 body cleared", p, err)
		}
		if text, html := body("login"); text != "" || html != "" {
			t.Fatalf("the failed sign-in email keeps its body after the link expired: %q", text)
		}
		if text, _ := body(inviteRef); text == "" {
			t.Fatal("the invite body was cleared before its link expired")
		}

		c.Add(app.InviteTTL)
		// The invite's send record is past the limits' window by now too.
		if p, err := db.PurgeExpired(ctx); err != nil || p.FailedMailBodies != 1 || p.InviteSends != 1 {
			t.Fatalf("purge after the invite expired = %+v, %v; want 1 body cleared and 1 invite send purged", p, err)
		}
		if text, html := body(inviteRef); text != "" || html != "" {
			t.Fatalf("the failed invite email keeps its body after the link expired: %q", text)
		}
		if n := rowCount(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE text_body <> '' OR html_body <> ''"); n != 0 {
			t.Fatalf("%d outbox rows still hold a body", n)
		}
	})
}

// drainSent marks every pending email sent.
func drainSent(t *testing.T, db *store.DB, ob *store.OutboxService, c *clock) {
	t.Helper()
	for _, m := range pendingEmails(t, db) {
		if err := ob.MarkEmailSent(context.Background(), m.ID, c.Now()); err != nil {
			t.Fatal(err)
		}
	}
}
