package store_test

import (
	"context"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

func TestOutboxService(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock(db)
		ob := store.NewOutboxService(db)
		if err := ob.EnqueueEmail(ctx, app.Email{To: "a@example.com", Subject: "Hi", Text: "x http://x.test/invites/tok", HTML: "<a>x</a>",
			Ref: "invite:1", LinkExpiresAt: c.Now().Add(app.InviteTTL)}); err != nil {
			t.Fatal(err)
		}
		msgs, err := ob.ClaimDueEmails(ctx, c.Now(), time.Minute, 10)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("claim = %d, %v; want 1", len(msgs), err)
		}
		// A second worker finds nothing while the lease holds.
		if again, _ := ob.ClaimDueEmails(ctx, c.Now(), time.Minute, 10); len(again) != 0 {
			t.Fatalf("claimed a leased message twice")
		}
		retry := c.Now().Add(30 * time.Second)
		if err := ob.MarkEmailFailed(ctx, msgs[0].ID, "451 try later", retry); err != nil {
			t.Fatal(err)
		}
		if due, _ := ob.ClaimDueEmails(ctx, c.Now().Add(10*time.Second), time.Minute, 10); len(due) != 0 {
			t.Fatal("claimed before its retry time")
		}
		due, err := ob.ClaimDueEmails(ctx, retry, time.Minute, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("claim at retry = %d, %v", len(due), err)
		}
		if got, want := due[0].Attempts, 1; got != want {
			t.Fatalf("Attempts=%d, want %d", got, want)
		}
		if err := ob.MarkEmailSent(ctx, due[0].ID, retry); err != nil {
			t.Fatal(err)
		}
		got, err := ob.FindOutboxByRef(ctx, "invite:1")
		if err != nil || len(got) != 1 {
			t.Fatalf("FindOutboxByRef = %v, %v", got, err)
		}
		if got[0].Status != app.OutboxSent || got[0].Attempts != 2 || got[0].LastError != "" {
			t.Fatalf("after send: %+v", got[0])
		}
		// Delivered: the headers stay, the bodies (and the link in them) go.
		if e := got[0].Email; e.Text != "" || e.HTML != "" || e.To != "a@example.com" || e.Subject != "Hi" ||
			!e.LinkExpiresAt.Equal(c.Now().Add(app.InviteTTL)) {
			t.Fatalf("after send: email %+v, want headers without bodies", e)
		}
	})
}
