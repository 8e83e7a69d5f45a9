package store_test

import (
	"context"
	"errors"
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
		msgs, err := ob.ClaimDueEmails(ctx, c.Now(), time.Minute, 10)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("claim = %d, %v", len(msgs), err)
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
